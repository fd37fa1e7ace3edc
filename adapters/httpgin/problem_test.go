package httpgin

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/ports"
)

// errorEngine answers every request with err.
func errorEngine(err error, log *slog.Logger) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.Use(withRequestID())
	e.GET("/", func(c *gin.Context) { abortWithError(c, log, err) })
	return e
}

func TestProblemForEachCode(t *testing.T) {
	tests := []struct {
		code   ports.ErrorCode
		status int
		want   string
	}{
		{ports.EInvalid, 422, "validation_failed"},
		{ports.ENotFound, 404, "not_found"},
		{ports.EConflict, 409, "conflict"},
		{ports.EUnauthorized, 401, "unauthorized"},
		{ports.EForbidden, 403, "forbidden"},
		{ports.ERateLimited, 429, "rate_limited"},
		{ports.ETooLarge, 413, "payload_too_large"},
		{ports.EUnsupported, 415, "unsupported_media_type"},
		{ports.EUnavailable, 503, "unavailable"},
		{ports.EInternal, 500, "internal"},
	}
	for _, tt := range tests {
		t.Run(string(tt.code), func(t *testing.T) {
			err := fmt.Errorf("wrapped: %w", ports.Errorf(tt.code, "the message"))
			w := serve(errorEngine(err, slog.New(slog.DiscardHandler)), req{method: "GET", path: "/"})
			p := wantProblem(t, w, tt.status, tt.want)
			if tt.status != 500 && p.Detail != "the message" {
				t.Fatalf("got detail %q, want %q", p.Detail, "the message")
			}
			if p.Errors != nil {
				t.Fatalf("got errors %v, want none", p.Errors)
			}
		})
	}
}

func TestProblemReasonOverridesCode(t *testing.T) {
	tests := []struct {
		err    error
		status int
		code   string
	}{
		{ports.ReasonError(ports.EConflict, "email_taken", "taken"), 409, "email_taken"},
		{ports.ReasonError(ports.EForbidden, "instance_limit_reached", "full"), 403, "instance_limit_reached"},
		{ports.ReasonError(ports.EUnauthorized, "token_expired", "old"), 401, "token_expired"},
		{errInvalidJSON("bad"), 400, "invalid_json"},
		{ports.ReasonError(ports.EInvalid, "bad_request", "bad"), 400, "bad_request"},
		{ports.ReasonError(ports.EInvalid, "idempotency_key_reused", "reused"), 422, "idempotency_key_reused"},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			w := serve(errorEngine(tt.err, slog.New(slog.DiscardHandler)), req{method: "GET", path: "/"})
			wantProblem(t, w, tt.status, tt.code)
		})
	}
}

func TestProblemFields(t *testing.T) {
	err := ports.InvalidFields(ports.FieldError{Field: "email", Message: "is not an email"})
	w := serve(errorEngine(err, slog.New(slog.DiscardHandler)), req{method: "GET", path: "/"})
	p := wantProblem(t, w, 422, "validation_failed")
	if len(p.Errors) != 1 || p.Errors[0] != (ProblemField{Field: "email", Message: "is not an email"}) {
		t.Fatalf("got errors %+v, want the email field", p.Errors)
	}
}

func TestProblemInternalDoesNotLeak(t *testing.T) {
	logs := &lockedWriter{w: &strings.Builder{}}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	for _, err := range []error{
		errors.New("pq: password authentication failed for user secret"),
		ports.Errorf(ports.EInternal, "secret detail"),
	} {
		w := serve(errorEngine(err, log), req{method: "GET", path: "/"})
		p := wantProblem(t, w, 500, "internal")
		if strings.Contains(w.Body.String(), "secret") {
			t.Fatalf("got body %s, want no error text", w.Body)
		}
		if p.Detail != internalDetail {
			t.Fatalf("got detail %q, want %q", p.Detail, internalDetail)
		}
		if !strings.Contains(logs.String(), p.RequestID) || !strings.Contains(logs.String(), "secret") {
			t.Fatalf("got log %s, want the error logged with request id %s", logs, p.RequestID)
		}
	}
}

func TestProblemRetryAfter(t *testing.T) {
	err := &ports.Error{Code: ports.ERateLimited, Message: "slow down", RetryAfter: 1500 * time.Millisecond}
	w := serve(errorEngine(err, slog.New(slog.DiscardHandler)), req{method: "GET", path: "/"})
	wantProblem(t, w, 429, "rate_limited")
	if got := w.Header().Get("Retry-After"); got != "2" {
		t.Fatalf("got Retry-After %q, want 2 (rounded up)", got)
	}
}

func TestProblemUnauthorizedChallenges(t *testing.T) {
	w := serve(errorEngine(ports.Errorf(ports.EUnauthorized, "no"), slog.New(slog.DiscardHandler)), req{method: "GET", path: "/"})
	wantProblem(t, w, http.StatusUnauthorized, "unauthorized")
	if got := w.Header().Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
		t.Fatalf("got WWW-Authenticate %q, want a Bearer challenge", got)
	}
}
