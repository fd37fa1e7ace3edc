package httpgin

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/core/idempotency"
	"github.com/wagate/wagate/ports"
)

// replayedHeader marks an answer replayed for an Idempotency-Key.
const replayedHeader = "Idempotent-Replayed"

// idempotent applies the Idempotency-Key rules (SPEC §6) to a send route:
// the core decides, this adapter only reads the header, hashes the request
// and hands over the answer. Without the header the request runs as is.
func (a *api) idempotent(c *gin.Context) {
	keys := c.Request.Header.Values(idempotency.HeaderName)
	if len(keys) == 0 || a.svc.Idempotency == nil {
		c.Next()
		return
	}
	// Several headers are as ambiguous as an invalid one; the line break
	// makes the core refuse the value.
	key := strings.Join(keys, "\n")
	if err := idempotency.CheckKey(key); err != nil {
		a.fail(c, err)
		return
	}
	body, err := readBody(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	claim, replay, err := a.svc.Idempotency.Begin(ctx(c), principal(c), key, requestHash(c, body))
	switch {
	case err != nil:
		a.fail(c, err)
		return
	case replay != nil:
		c.Header(replayedHeader, "true")
		c.Data(replay.Status, replay.ContentType, replay.Body)
		c.Abort()
		return
	}
	a.runClaimed(c, claim)
}

// keyClaim is the gin context key of the request's *heldClaim, which the
// handler hands to the core command that creates what the request asks.
const keyClaim = "wagate.idempotencyClaim"

// heldClaim is a request's claim of its key and, once the core has
// recorded it in the creating transaction, the answer recorded.
type heldClaim struct {
	claim    *idempotency.Claim
	recorded *ports.IdempotencyAnswer
}

// runClaimed runs the handler and hands its answer to the claim, unless
// the core recorded it already. If the handler panics, the claim is
// abandoned on the way out, so that the key does not stay busy.
func (a *api) runClaimed(c *gin.Context, claim *idempotency.Claim) {
	rec := &recordingWriter{ResponseWriter: c.Writer}
	c.Writer = rec
	held := &heldClaim{claim: claim}
	c.Set(keyClaim, held)
	finished := false
	defer func() {
		if !finished {
			a.abandon(c, claim)
		}
	}()
	c.Next()
	finished = true
	switch {
	case held.recorded != nil && held.recorded.Status == rec.Status():
		return // stored with what it reports, in the same transaction
	case !keptStatus(rec.Status()):
		a.abandon(c, claim)
		return
	}
	resp := ports.IdempotencyAnswer{Status: rec.Status(), ContentType: rec.Header().Get("Content-Type"), Body: rec.body.Bytes()}
	if err := claim.Finish(ctx(c), resp); err != nil {
		// The answer has gone out; a retry with the key may run again.
		a.log.Error("store idempotent answer", "request_id", requestID(c), "error", err.Error())
	}
}

func (a *api) abandon(c *gin.Context, claim *idempotency.Claim) {
	if err := claim.Abandon(ctx(c)); err != nil {
		a.log.Error("release idempotency key", "request_id", requestID(c), "error", err.Error())
	}
}

// keptStatus reports whether an answer is stored for replay: the
// request's own outcome is, validation failures included (as Stripe
// does); one a retry may change (a server failure, a conflict such as
// instance_not_connected, a rate limit) is not, and releases the key.
func keptStatus(status int) bool {
	return status >= 200 && status < 500 && status != http.StatusConflict && status != http.StatusTooManyRequests
}

// idempotencyClaim returns the request's claim for a core command that
// creates a T, with render as its answer; nil without an Idempotency-Key.
func idempotencyClaim[T any](c *gin.Context, render func(T) (ports.IdempotencyAnswer, error)) *ports.IdempotencyClaim[T] {
	v, _ := c.Get(keyClaim)
	held, ok := v.(*heldClaim)
	if !ok {
		return nil
	}
	return &ports.IdempotencyClaim[T]{Key: held.claim.Key(), ID: held.claim.ID(), Answer: func(created T) (ports.IdempotencyAnswer, error) {
		resp, err := render(created)
		if err == nil {
			held.recorded = &resp
		}
		return resp, err
	}}
}

// readBody reads the whole body (the body limit applies) and puts it back
// for the handler.
func readBody(c *gin.Context) ([]byte, error) {
	if c.Request.Body == nil || c.Request.Body == http.NoBody {
		return nil, nil
	}
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		return nil, readError(err)
	}
	c.Request.Body = io.NopCloser(bytes.NewReader(body))
	return body, nil
}

// requestHash identifies a request for its key: method, route template,
// the instance acted on and the body in canonical form, so that the same
// JSON with other spacing or key order is the same request.
func requestHash(c *gin.Context, body []byte) string {
	inst, _ := messageInstance(c)
	h := sha256.New()
	for _, part := range []string{c.Request.Method, c.FullPath(), string(inst)} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	h.Write(canonicalJSON(body))
	return hex.EncodeToString(h.Sum(nil))
}

// canonicalJSON re-encodes a JSON value with sorted keys and no spacing;
// numbers stay as written. A body that is not one JSON value is used as is.
func canonicalJSON(body []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return body
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return body
	}
	out, err := json.Marshal(v)
	if err != nil {
		return body
	}
	return out
}

// recordingWriter keeps a copy of what the handler writes.
type recordingWriter struct {
	gin.ResponseWriter
	body bytes.Buffer
}

func (w *recordingWriter) Write(b []byte) (int, error) {
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}

func (w *recordingWriter) WriteString(s string) (int, error) {
	w.body.WriteString(s)
	return w.ResponseWriter.WriteString(s)
}
