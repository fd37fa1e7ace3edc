package e2e

import (
	"errors"
	"maps"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// The realtime stream's guard: a stream ends with its token, on whichever
// node the token is revoked, and a user's streams per node are capped.

// revokedWait is how long a revoked stream may stay open: the default
// check every 2 s, with room for a slow machine.
const revokedWait = 15 * time.Second

func TestStreamEndsWithItsToken(t *testing.T) {
	// Two nodes on one database: the stream is on one, the revocation on
	// the other.
	env := serverEnv(t, postgres, nil)
	env["WAGATE_NODE_ID"] = "node-a"
	a := startOwned(t, "node-a", env)
	env = maps.Clone(env)
	env["WAGATE_NODE_ID"], env["WAGATE_MIGRATE_ON_START"] = "node-b", "false"
	b := startOwned(t, "node-b", env)

	t.Run("Logout", func(t *testing.T) {
		acc := a.register(t)
		st := openStream(t, a, "", bearer(acc.Access))
		wantStatus(t, b.do(t, "POST", "/api/v1/auth/logout", acc.Access, nil), http.StatusNoContent)
		wantClosed(t, st, "token_revoked")
	})
	t.Run("PasswordChange", func(t *testing.T) {
		acc := a.register(t)
		st := openStream(t, a, "", bearer(acc.Access))
		other, _ := b.login(t, acc.Email, acc.Password)
		wantStatus(t, b.do(t, "POST", "/api/v1/auth/password", other, map[string]any{
			"currentPassword": acc.Password, "newPassword": "a brand new passphrase",
		}), http.StatusNoContent)
		wantClosed(t, st, "token_revoked")
	})
	t.Run("CapPerUserPerNode", func(t *testing.T) {
		acc := a.register(t)
		var streams []*stream
		for range 20 {
			streams = append(streams, openStream(t, a, "", bearer(acc.Access)))
		}
		// Refused before the upgrade, so a plain GET gets the problem.
		wantProblem(t, a.do(t, "GET", "/api/v1/events/ws", acc.Access, nil), http.StatusTooManyRequests, "too_many_streams")
		wantRefused(t, a, "", bearer(acc.Access), http.StatusTooManyRequests)
		// The count is per node.
		openStream(t, b, "", bearer(acc.Access))
		// A logout ends them all, which makes room again.
		wantStatus(t, b.do(t, "POST", "/api/v1/auth/logout", acc.Access, nil), http.StatusNoContent)
		for _, st := range streams {
			wantClosed(t, st, "token_revoked")
		}
		fresh, _ := b.login(t, acc.Email, acc.Password)
		openStream(t, a, "", bearer(fresh))
	})
}

// TestStreamEndsWhenTokenExpires: a stream outlives neither a revocation
// nor its token's lifetime.
func TestStreamEndsWhenTokenExpires(t *testing.T) {
	s := startOwned(t, "sqlite", serverEnv(t, sqlite, map[string]string{"WAGATE_ACCESS_TOKEN_TTL": "3s"}))
	acc := s.register(t)
	st := openStream(t, s, "", bearer(acc.Access))
	wantClosed(t, st, "token_expired")
}

// wantClosed waits for the stream to close with 4001 and reason.
func wantClosed(t *testing.T, st *stream, reason string) {
	t.Helper()
	err := st.ended(t, revokedWait)
	var ce websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 4001 || ce.Reason != reason {
		t.Fatalf("got the stream closed with %v, want 4001 %s", err, reason)
	}
}
