package httpgin

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/ports"
)

// What keeps a stream from outliving its credential or a user from opening
// streams without end.

// Defaults of the stream guard's options.
const (
	DefaultStreamRecheck     = 2 * time.Second
	DefaultMaxStreamsPerUser = 20
)

// closeUnauthorized (4001, in the range for applications) ends a stream
// whose access token was revoked (logout, password change) or expired: the
// client must log in again, not just reconnect.
const closeUnauthorized websocket.StatusCode = 4001

// recheckFailures is how many checks in a row may fail for want of the
// database before the stream is closed: a blip must not drop every stream,
// but a revocation must not go unseen for long either.
const recheckFailures = 3

// recheckTimeout bounds one check, which holds the stream's writes.
const recheckTimeout = 5 * time.Second

// streamTooManyRetry is the Retry-After of a refused stream: a guess at
// how soon the client's other streams may have ended.
const streamTooManyRetry = 10 * time.Second

// streamCounts counts the open streams of each user on this node. The cap
// is per node: it protects this node's memory and goroutines, and a count
// shared between nodes would need a crashed node's streams to be forgotten
// by lease, far more machinery than the cap is worth.
type streamCounts struct {
	mu   sync.Mutex
	open map[ports.UserID]int
}

// acquire counts one more stream of user, or refuses it with 429
// too_many_streams at limit. The release it returns undoes the count.
func (s *streamCounts) acquire(user ports.UserID, limit int) (func(), error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open[user] >= limit {
		return nil, &ports.Error{Code: ports.ERateLimited, Reason: "too_many_streams", RetryAfter: streamTooManyRetry,
			Message: fmt.Sprintf("at most %d open event streams per user; close one first", limit)}
	}
	s.open[user]++
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.open[user]--; s.open[user] <= 0 {
			delete(s.open, user)
		}
	}, nil
}

// streamToken is the access token a stream presents: the header, or for
// browsers (which cannot set headers on a WebSocket) ?access_token=.
func streamToken(c *gin.Context) string {
	if token, ok := bearerToken(c.GetHeader("Authorization")); ok {
		return token
	}
	return c.Query("access_token")
}

// credentialCheck re-authenticates an open stream's token, through the same
// core call as at the upgrade, so that a revocation on any node (they live
// in the shared database) reaches the stream within one interval.
type credentialCheck struct {
	a        *api
	token    string
	p        ports.Principal
	failures int
}

// verdict checks once; ok false means close the stream with code and reason.
func (cc *credentialCheck) verdict(ctx context.Context) (code websocket.StatusCode, reason string, ok bool) {
	cctx, cancel := context.WithTimeout(ctx, recheckTimeout)
	defer cancel()
	_, err := cc.a.svc.Tenancy.AuthenticateAccess(cctx, cc.token)
	pe := ports.AsError(err)
	switch {
	case err == nil:
		cc.failures = 0
		return 0, "", true
	case pe != nil && pe.Code == ports.EUnauthorized:
		return closeUnauthorized, closeReason(pe), false
	case ctx.Err() != nil:
		return 0, "", true // the stream is ending anyway
	}
	cc.failures++
	cc.a.log.LogAttrs(ctx, slog.LevelWarn, "event stream credential check failed",
		slog.String("subscription_id", string(cc.p.SubscriptionID)), slog.Int("in_a_row", cc.failures), slog.String("error", err.Error()))
	if cc.failures >= recheckFailures {
		return websocket.StatusTryAgainLater, "credentials cannot be checked; reconnect", false
	}
	return 0, "", true
}

// closeReason is the close frame's reason: the API's reason code
// (token_revoked, token_expired, unauthorized), which fits the frame's
// 123 bytes and tells the client what to do.
func closeReason(pe *ports.Error) string {
	if pe.Reason != "" {
		return pe.Reason
	}
	return "unauthorized"
}
