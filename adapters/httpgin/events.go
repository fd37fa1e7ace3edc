package httpgin

import (
	"context"

	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/adapters/eventjson"
	"github.com/wagate/wagate/core/events"
	"github.com/wagate/wagate/ports"
)

// The realtime stream of SPEC §10: GET /api/v1/events/ws.

// DefaultPingInterval is how often an idle stream is pinged, so that
// proxies keep it open and a vanished client is noticed.
const DefaultPingInterval = 30 * time.Second

// wsWriteTimeout bounds one frame or ping: a client that stops reading is
// dropped instead of holding the handler.
const wsWriteTimeout = 10 * time.Second

// eventTypes are the types a client may filter on.
var eventTypes = map[ports.EventType]bool{
	ports.EventInstanceStatus: true, ports.EventInstanceQR: true,
	ports.EventMessageReceived: true, ports.EventMessageStatus: true,
	ports.EventBulkStatus: true, ports.EventWebhookTest: true,
	ports.EventMessagePollVote: true,
	ports.EventMessageReaction: true, ports.EventMessageEdited: true, ports.EventMessageDeleted: true,
	ports.EventGroupParticipants: true, ports.EventGroupUpdated: true,
}

// InstanceStatusDTO is the data of instance.status.
type InstanceStatusDTO struct {
	Status         string  `json:"status"`
	PreviousStatus *string `json:"previousStatus"`
	Reason         *string `json:"reason"`
}

// InstanceQRDTO is the data of instance.qr.
type InstanceQRDTO struct {
	QR        string    `json:"qr"`
	Attempt   int       `json:"attempt"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// authenticateStream accepts only a user's access token, from the header
// or, for browsers (which cannot set headers on a WebSocket), from
// ?access_token=. The access log never records the query.
func (a *api) authenticateStream(c *gin.Context) {
	token := streamToken(c)
	if token == "" {
		abortWithError(c, a.log, ports.ReasonError(ports.EUnauthorized, "unauthorized",
			"send an access token as 'Authorization: Bearer <token>' or ?access_token="))
		return
	}
	if strings.HasPrefix(token, apiKeyPrefix) {
		abortWithError(c, a.log, ports.ReasonError(ports.EForbidden, "forbidden",
			"the event stream needs a user's access token, not an API key"))
		return
	}
	p, err := a.svc.Tenancy.AuthenticateAccess(ctx(c), token)
	if err != nil {
		abortWithError(c, a.log, err)
		return
	}
	p.IP = c.ClientIP()
	p.UserAgent = truncate(c.Request.UserAgent(), maxUserAgent)
	c.Set(keyPrincipal, p)
	if err := a.checkRole(c, p); err != nil {
		abortWithError(c, a.log, err)
		return
	}
	c.Next()
}

// streamFilter reads ?instanceId= and ?types=. The instance must be the
// caller's (the core decides: 404 otherwise).
func (a *api) streamFilter(c *gin.Context) (ports.EventFilter, error) {
	p := principal(c)
	inst, err := instanceFilterParam(c)
	if err != nil {
		return ports.EventFilter{}, err
	}
	types, err := typesParam(c)
	if err != nil {
		return ports.EventFilter{}, err
	}
	return a.svc.EventLog.Filter(ctx(c), p, inst, types)
}

// streamRequest reads what the stream is asked: its filter and, with
// ?after= (an empty one is the start of what is kept), where its replay
// starts.
func (a *api) streamRequest(c *gin.Context) (f ports.EventFilter, from int64, replay bool, err error) {
	if f, err = a.streamFilter(c); err != nil {
		return f, 0, false, err
	}
	after, replay := c.GetQuery("after")
	if replay {
		from, err = a.svc.EventLog.Position(ctx(c), f.SubscriptionID, after)
	}
	return f, from, replay, err
}

// eventStream upgrades to a WebSocket and writes every event of the
// caller's subscription that passes the filter, one JSON text frame each;
// with ?after= it first replays what followed that event in the log.
// Everything that can fail with an HTTP answer happens before the upgrade.
func (a *api) eventStream(c *gin.Context) {
	if a.opt.Events == nil || a.svc.EventLog == nil {
		a.fail(c, ports.Errorf(ports.EUnavailable, "the event stream is not available"))
		return
	}
	f, from, replay, err := a.streamRequest(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	p := principal(c)
	release, err := a.streams.acquire(p.UserID, a.opt.MaxStreamsPerUser)
	if err != nil {
		a.fail(c, err)
		return
	}
	defer release()
	subCtx, cancel := context.WithCancel(ctx(c))
	defer cancel()
	// A replaying stream listens to the whole subscription and filters
	// itself: the tail must see every position to notice a gap.
	busFilter := f
	if replay {
		busFilter = ports.EventFilter{SubscriptionID: f.SubscriptionID}
	}
	live, err := a.opt.Events.Subscribe(subCtx, busFilter)
	if err != nil {
		a.fail(c, err)
		return
	}
	// net/http clears the server's read and write deadlines on hijack, so
	// a stream outlives WriteTimeout (a test keeps that true).
	conn, err := websocket.Accept(c.Writer, c.Request, &websocket.AcceptOptions{OriginPatterns: a.opt.CORSOrigins})
	if err != nil {
		// Accept has answered (403 for a foreign origin, 426 for a plain
		// GET); the handler chain must not write again.
		c.Abort()
		return
	}
	defer conn.CloseNow()
	rctx := conn.CloseRead(subCtx)
	s := &stream{a: a, conn: conn, p: p}
	if replay {
		// Subscribed first, then replayed to the log's end: whatever
		// commits meanwhile comes from the bus, and the tail drops what
		// the replay wrote already.
		if s.tail, err = a.svc.EventLog.Follow(rctx, f, from, s.write(rctx)); err != nil {
			s.failed(rctx, err)
			return
		}
	}
	a.pump(rctx, s, live, &credentialCheck{a: a, token: streamToken(c), p: p})
}

// stream is one open event stream.
type stream struct {
	a    *api
	conn *websocket.Conn
	p    ports.Principal
	tail *events.Tail // nil: live only
}

// write returns the tail's emit: one frame per event.
func (s *stream) write(ctx context.Context) func(ports.Event) error {
	return func(e ports.Event) error { return s.a.writeEvent(ctx, s.conn, e) }
}

// deliver writes one bus event, through the tail when the stream replayed.
func (s *stream) deliver(ctx context.Context, e ports.Event) error {
	if s.tail == nil {
		return s.a.writeEvent(ctx, s.conn, e)
	}
	return s.tail.Live(ctx, e, s.write(ctx))
}

// failed ends a stream whose write or log read failed. A log that cannot
// be read is told with 1013, so that the client reconnects with ?after=
// from the last event it got.
func (s *stream) failed(ctx context.Context, err error) {
	s.a.streamError(ctx, s.p, err)
	if websocket.CloseStatus(err) == -1 && ctx.Err() == nil {
		s.conn.Close(websocket.StatusTryAgainLater, "the event log cannot be read; reconnect with after")
	}
}

// pump writes events and pings until the client leaves, the bus drops the
// subscription, the server shuts down, or the credential is no longer
// valid.
func (a *api) pump(ctx context.Context, s *stream, events <-chan ports.Event, cc *credentialCheck) {
	conn, p := s.conn, cc.p
	ping := time.NewTicker(a.opt.PingInterval)
	defer ping.Stop()
	check := time.NewTicker(a.opt.StreamRecheck)
	defer check.Stop()
	for {
		select {
		case <-check.C:
			if code, reason, ok := cc.verdict(ctx); !ok {
				conn.Close(code, reason)
				return
			}
		case <-ctx.Done():
			return // the client closed, or the request ended
		case <-a.opt.Shutdown:
			conn.Close(websocket.StatusGoingAway, "server shutting down; reconnect")
			return
		case e, ok := <-events:
			if !ok {
				a.closeDropped(ctx, conn)
				return
			}
			if err := s.deliver(ctx, e); err != nil {
				s.failed(ctx, err)
				return
			}
		case <-ping.C:
			pctx, cancel := context.WithTimeout(ctx, wsWriteTimeout)
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				a.streamError(ctx, p, err)
				return
			}
		}
	}
}

// closeDropped closes a stream whose bus subscription ended. At shutdown the
// bus closes every subscription right after the shutdown signal, and both
// may be ready at once: that is still a shutdown, not a slow client.
func (a *api) closeDropped(ctx context.Context, conn *websocket.Conn) {
	select {
	case <-a.opt.Shutdown:
		conn.Close(websocket.StatusGoingAway, "server shutting down; reconnect")
		return
	default:
	}
	if ctx.Err() == nil {
		// The bus dropped us for falling behind: events were lost, and the
		// client must know to reconnect and resync.
		conn.Close(websocket.StatusTryAgainLater, "too slow; events were dropped, reconnect")
	}
}

// writeEvent sends one event as a text frame; events without a wire form
// are skipped.
func (a *api) writeEvent(ctx context.Context, conn *websocket.Conn, e ports.Event) error {
	b, err := eventjson.Encode(e)
	if err != nil {
		a.log.LogAttrs(ctx, slog.LevelWarn, "event without a wire form skipped",
			slog.String("type", string(e.Type)), slog.String("instance_id", string(e.InstanceID)), slog.String("error", err.Error()))
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, wsWriteTimeout)
	defer cancel()
	return conn.Write(wctx, websocket.MessageText, b)
}

// streamError logs why a stream ended, unless the client simply left.
func (a *api) streamError(ctx context.Context, p ports.Principal, err error) {
	if ctx.Err() != nil || errors.Is(err, context.Canceled) || websocket.CloseStatus(err) != -1 {
		return
	}
	a.log.LogAttrs(ctx, slog.LevelInfo, "event stream closed",
		slog.String("subscription_id", string(p.SubscriptionID)), slog.String("error", err.Error()))
}
