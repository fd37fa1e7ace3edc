package httpgin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/ports"
)

// decodeJSON reads the request body into dst, strictly. The outcomes, as
// the OpenAPI document describes them:
//
//   - no body: 400 invalid_json
//   - a Content-Type other than application/json: 415 unsupported_media_type
//   - malformed JSON, a non-object body, or anything after the object: 400 invalid_json
//   - a body that is not UTF-8 (or holds a lone surrogate escape): 400 invalid_json
//   - a field named in another case, or given twice: 422 validation_failed,
//     errors[{field, "unknown field" | "duplicate field"}]
//   - a string with NUL: 422 validation_failed, errors[{field, …}] (ports.ValidText)
//   - an unknown field: 422 validation_failed, errors[{field, "unknown field"}]
//   - a field of the wrong type: 422 validation_failed, errors[{field, "must be a <type>"}]
//     (the body is well-formed JSON, only that field is wrong)
//   - a body over the limit: 413 payload_too_large
func decodeJSON(c *gin.Context, dst any) error {
	return decode(c, dst, true)
}

// decodeOptionalJSON is decodeJSON for routes whose body may be absent.
func decodeOptionalJSON(c *gin.Context, dst any) error {
	return decode(c, dst, false)
}

func decode(c *gin.Context, dst any, required bool) error {
	if c.Request.Body == nil || c.Request.Body == http.NoBody {
		return emptyBody(required)
	}
	body, err := readAll(c.Request.Body)
	if err != nil {
		return err
	}
	if len(body) == 0 {
		return emptyBody(required)
	}
	if err := checkJSONType(c.GetHeader("Content-Type")); err != nil {
		return err
	}
	// JSON is UTF-8 (RFC 8259); encoding/json would turn anything else
	// into U+FFFD without a word, and the client would never know.
	if !utf8.Valid(body) || hasLoneSurrogate(body) {
		return errInvalidJSON("the body is not valid UTF-8")
	}
	if err := decodeStrict(body, dst); err != nil {
		return err
	}
	return checkShape(body, dst)
}

// decodeStrict decodes body into dst, refusing unknown fields and anything
// after the object.
func decodeStrict(body []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	// A second value, even whitespace-separated, means the client sent
	// something other than what it thinks: refuse rather than guess.
	var extra json.RawMessage
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
		return nil
	case err == nil:
		return errInvalidJSON("the body has data after the JSON object")
	default:
		return decodeError(err)
	}
}

func emptyBody(required bool) error {
	if required {
		return errInvalidJSON("the request body is empty; send a JSON object")
	}
	return nil
}

// checkJSONType accepts application/json with any parameters (charset).
func checkJSONType(ct string) error {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return ports.ReasonError(ports.EUnsupported, "unsupported_media_type",
			"send the body as application/json")
	}
	return nil
}

func decodeError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return errInvalidJSON("the body is not valid JSON")
	case errors.As(err, &typ):
		if typ.Field == "" {
			return errInvalidJSON("the body must be a JSON object")
		}
		return ports.InvalidFields(ports.FieldError{Field: typ.Field, Message: "must be " + jsonKind(typ.Type.Kind().String())})
	}
	if name, ok := unknownField(err); ok {
		return ports.InvalidFields(ports.FieldError{Field: name, Message: "unknown field"})
	}
	return readError(err)
}

// unknownField recognises DisallowUnknownFields' error, which encoding/json
// reports only as text: `json: unknown field "name"`.
func unknownField(err error) (string, bool) {
	rest, ok := strings.CutPrefix(err.Error(), "json: unknown field ")
	if !ok {
		return "", false
	}
	name, uerr := strconv.Unquote(rest)
	if uerr != nil {
		name = rest
	}
	return name, true
}

// readError classifies a failure to read the body itself.
func readError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return tooLarge(mbe.Limit)
	}
	return fmt.Errorf("read request body: %w", ports.ReasonError(ports.EInvalid, "bad_request", "the request body could not be read"))
}

// jsonKind names a Go kind the way a JSON client thinks of it.
func jsonKind(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "an integer"
	case "float32", "float64":
		return "a number"
	case "slice", "array":
		return "an array"
	case "map", "struct":
		return "an object"
	}
	return "of another type"
}
