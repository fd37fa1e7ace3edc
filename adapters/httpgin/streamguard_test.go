package httpgin

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestStreamClosesWhenRevoked: a stream whose access token is revoked
// closes with 4001 and the reason at the next check, whichever way the
// token was revoked; the user's other tokens keep their streams.
func TestStreamClosesWhenRevoked(t *testing.T) {
	tests := []struct {
		name   string
		revoke func(s *streamEnv, access string) int
	}{
		{"logout", func(s *streamEnv, access string) int {
			return s.do(req{method: "POST", path: "/api/v1/auth/logout", token: access}).Code
		}},
		{"password change", func(s *streamEnv, access string) int {
			return s.do(req{method: "POST", path: "/api/v1/auth/password", token: access,
				body: `{"currentPassword":"correct horse","newPassword":"battery staple"}`}).Code
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStreamEnv(t, func(o *Options) { o.StreamRecheck = 20 * time.Millisecond })
			access, _ := s.account("revoked@example.com")
			c, _ := s.open(t, "", access)
			if code := tt.revoke(s, access); code != http.StatusNoContent {
				t.Fatalf("revoke: got %d, want 204", code)
			}
			code, reason := closeOf(t, c)
			if code != closeUnauthorized || reason != "token_revoked" {
				t.Errorf("got close %d %q, want 4001 token_revoked", code, reason)
			}
		})
	}
}

// TestStreamStaysWhileValid: checks of a valid token leave the stream be.
func TestStreamStaysWhileValid(t *testing.T) {
	s := newStreamEnv(t, func(o *Options) { o.StreamRecheck = 10 * time.Millisecond })
	access, _ := s.account("valid@example.com")
	c, _ := s.open(t, "", access)
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	if _, _, err := c.Read(ctx); ctx.Err() == nil {
		t.Fatalf("got %v after many checks, want the stream open", err)
	}
}

// TestStreamCapPerUser: a user's streams beyond the cap are refused with
// 429 too_many_streams before the upgrade; closing one makes room, and
// another user is not counted against them.
func TestStreamCapPerUser(t *testing.T) {
	s := newStreamEnv(t, func(o *Options) { o.MaxStreamsPerUser = 2 })
	access, _ := s.account("cap@example.com")
	other, _ := s.account("other@example.com")
	first, _ := s.open(t, "", access)
	s.open(t, "", access)
	h := http.Header{"Authorization": {"Bearer " + access}}
	_, resp, err := s.dial(t, "", h)
	if err == nil || statusOf(resp) != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("third stream: got %v, status %d, want 429 with Retry-After", err, statusOf(resp))
	}
	s.open(t, "", other)
	first.Close(websocket.StatusNormalClosure, "")
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, resp, err := s.dial(t, "", h)
		if err == nil {
			c.CloseNow()
			return
		}
		if statusOf(resp) != http.StatusTooManyRequests || time.Now().After(deadline) {
			t.Fatalf("after closing one: got %v, status %d, want a stream", err, statusOf(resp))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// closeOf reads until the stream closes and returns the close frame.
func closeOf(t *testing.T, c *websocket.Conn) (websocket.StatusCode, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	for {
		_, _, err := c.Read(ctx)
		if err == nil {
			continue
		}
		var ce websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code, ce.Reason
		}
		t.Fatalf("got %v, want a close frame", err)
	}
}
