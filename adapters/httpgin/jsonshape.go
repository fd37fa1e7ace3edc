package httpgin

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strconv"
	"strings"

	"github.com/wagate/wagate/ports"
)

// encoding/json is lenient where the API promises to be strict: it matches
// field names regardless of case, lets the last of two equal keys win and
// turns a lone surrogate escape into U+FFFD. checkShape walks a body that
// has already decoded into dst and refuses what the decoder let through:
//
//   - a key that names a field only when case is ignored: unknown field
//   - a key given twice in one object: duplicate field
//   - a string or key with NUL or a lone surrogate escape: the text rule of
//     ports.ValidText
//
// all as 422 validation_failed naming the field by its path.
func checkShape(body []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	w := shapeWalker{dec: dec}
	return w.value("", reflect.TypeOf(dst))
}

type shapeWalker struct{ dec *json.Decoder }

// value walks one JSON value at path; t is the Go type it decodes into,
// nil when unknown (an any, or a type the decoder already checked).
func (w *shapeWalker) value(path string, t reflect.Type) error {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	tok, err := w.dec.Token()
	if err != nil {
		return errInvalidJSON("the body is not valid JSON")
	}
	switch tok := tok.(type) {
	case json.Delim:
		if tok == '[' {
			return w.array(path, t)
		}
		return w.object(path, t)
	case string:
		return checkJSONText(path, tok)
	}
	return nil
}

func (w *shapeWalker) array(path string, t reflect.Type) error {
	var elem reflect.Type
	if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
		elem = t.Elem()
	}
	for i := 0; w.dec.More(); i++ {
		if err := w.value(path+"["+strconv.Itoa(i)+"]", elem); err != nil {
			return err
		}
	}
	_, err := w.dec.Token() // ]
	return err
}

func (w *shapeWalker) object(path string, t reflect.Type) error {
	fields := jsonFields(t)
	seen := map[string]bool{}
	for w.dec.More() {
		tok, err := w.dec.Token()
		if err != nil {
			return errInvalidJSON("the body is not valid JSON")
		}
		key, _ := tok.(string)
		at := joinPath(path, key)
		if err := checkJSONText(at, key); err != nil {
			return err
		}
		if seen[key] { // keys are valid text from here on, safe to echo
			return ports.InvalidFields(ports.FieldError{Field: at, Message: "duplicate field"})
		}
		seen[key] = true
		next, err := fieldType(t, fields, key)
		if err != nil {
			return ports.InvalidFields(ports.FieldError{Field: at, Message: "unknown field"})
		}
		if err := w.value(at, next); err != nil {
			return err
		}
	}
	_, err := w.dec.Token() // }
	return err
}

var errCaseOnly = errors.New("field name differs in case")

// fieldType is the type the value of key decodes into: the struct field
// whose JSON name is exactly key, a map's element type, or nil (unknown).
func fieldType(t reflect.Type, fields map[string]reflect.Type, key string) (reflect.Type, error) {
	if t == nil {
		return nil, nil
	}
	if t.Kind() == reflect.Map {
		return t.Elem(), nil
	}
	if ft, ok := fields[key]; ok {
		return ft, nil
	}
	for name := range fields {
		if strings.EqualFold(name, key) {
			return nil, errCaseOnly
		}
	}
	return nil, nil // unknown fields were already refused by the decoder
}

// jsonFields maps the JSON names of a struct's fields (embedded structs
// flattened, as encoding/json does) to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-" || !f.IsExported() && !f.Anonymous:
			continue
		case f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct:
			for n, ft := range jsonFields(f.Type) {
				out[n] = ft
			}
			continue
		case name == "":
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// checkJSONText applies the text rule to a decoded string. A lone
// surrogate escape has become U+FFFD by now; hasLoneSurrogate catches it
// on the raw body instead.
func checkJSONText(path, s string) error {
	if ports.ValidText(s) {
		return nil
	}
	if path == "" {
		return errInvalidJSON("the body must be a JSON object")
	}
	return ports.InvalidFields(ports.FieldError{Field: ports.CleanText(path), Message: "must be valid UTF-8 without NUL characters"})
}

// hasLoneSurrogate reports whether body holds a \uD800–\uDFFF escape that
// is not half of a pair: encoding/json would silently make it U+FFFD.
func hasLoneSurrogate(body []byte) bool {
	for i := 0; i+6 <= len(body); i++ {
		if body[i] != '\\' {
			continue
		}
		if body[i+1] != 'u' {
			i++ // an escaped character, maybe a backslash: skip it
			continue
		}
		r, ok := hexRune(body[i+2 : i+6])
		switch {
		case !ok || r < 0xD800 || r > 0xDFFF:
		case r >= 0xDC00:
			return true // a low half without a high one before it
		case i+12 > len(body) || body[i+6] != '\\' || body[i+7] != 'u':
			return true
		default:
			lo, ok := hexRune(body[i+8 : i+12])
			if !ok || lo < 0xDC00 || lo > 0xDFFF {
				return true
			}
			i += 6 // the low half belongs to this pair
		}
		i += 5
	}
	return false
}

func hexRune(b []byte) (rune, bool) {
	n, err := strconv.ParseUint(string(b), 16, 32)
	return rune(n), err == nil
}

// readAll reads the body within the limit the middleware set.
func readAll(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, readError(err)
	}
	return b, nil
}
