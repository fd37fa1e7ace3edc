package redisbus

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wagate/wagate/ports"
)

// Calls is the ports.NodeCalls of several nodes, over Redis pub/sub:
// Redis is what the nodes share already (no node needs to know another's
// address, no internal HTTP route needs its own authentication, nothing
// more to open in a firewall), and a call costs two publishes.
//
// A call is published on <Prefix>:calls, which every node reads; the node
// holding the instance (only it: leases make one) runs it and publishes
// the answer on the caller's reply channel, <Prefix>:replies:<node>, where
// the caller's waiting goroutine gets it by the call's id (its own Go
// channel per call: no SUBSCRIBE per call). A call that runs longer than
// AckAfter is acknowledged, then kept alive by a beat every Beat. The
// caller gives up, never later than its context's deadline:
//
//   - with ports.ErrNotHeld when nobody acknowledged within AckTimeout
//     (no node holds the instance: its holder died and the lease has not
//     expired yet, or nobody wants it connected);
//   - with EUnavailable (and a Retry-After) when the holder went silent
//     for Silence mid-call: it died, or lost Redis.
type Calls struct {
	opt     CallOptions
	calls   string
	replies string
	ps      *redis.PubSub
	cancel  context.CancelFunc
	done    chan struct{}
	once    sync.Once
	running sync.WaitGroup
	sem     chan struct{}

	mu      sync.Mutex
	pending map[string]chan callReply
	handler ports.CallHandler
}

var _ ports.NodeCalls = (*Calls)(nil)

// CallOptions configure NewCalls. Zero durations take the defaults in
// brackets.
type CallOptions struct {
	Redis  *redis.Client
	Prefix string
	Node   ports.NodeID
	Log    *slog.Logger
	// AckAfter is how long a call runs before its holder acknowledges it
	// [100ms]: a quick call's answer is its acknowledgement.
	AckAfter time.Duration
	// AckTimeout is how long a caller waits for the answer or an
	// acknowledgement [1s].
	AckTimeout time.Duration
	// Beat is how often the holder says it is still at a long call [500ms];
	// Silence is how long a caller waits without a word [3s].
	Beat, Silence time.Duration
	// MaxCall bounds a call on the holder whatever the caller's deadline
	// [1m]; MaxRunning bounds the calls this node runs at once [256].
	MaxCall    time.Duration
	MaxRunning int
}

// callMessage is a call as it crosses.
type callMessage struct {
	ID       string `json:"id"`
	Reply    string `json:"reply"`
	Instance string `json:"instance"`
	Name     string `json:"name"`
	Req      []byte `json:"req"`
	// Deadline is the caller's, in Unix milliseconds; 0: none.
	Deadline int64 `json:"deadline,omitempty"`
}

// The kinds of replies.
const (
	replyAck  = "ack"
	replyBeat = "beat"
	replyDone = "done"
)

// callReply is an answer, or a sign of life, as it crosses.
type callReply struct {
	ID   string     `json:"id"`
	Kind string     `json:"kind"`
	Resp []byte     `json:"resp,omitempty"`
	Err  *wireError `json:"err,omitempty"`
}

// wireError is an error as it crosses: a *ports.Error in full, any other
// by its text (a 500 either side).
type wireError struct {
	Code         ports.ErrorCode    `json:"code,omitempty"`
	Reason       string             `json:"reason,omitempty"`
	Message      string             `json:"message"`
	Fields       []ports.FieldError `json:"fields,omitempty"`
	RetryAfterMs int64              `json:"retryAfterMs,omitempty"`
}

func toWire(err error) *wireError {
	if pe := ports.AsError(err); pe != nil {
		return &wireError{Code: pe.Code, Reason: pe.Reason, Message: pe.Message, Fields: pe.Fields,
			RetryAfterMs: pe.RetryAfter.Milliseconds()}
	}
	return &wireError{Message: err.Error()}
}

func (w *wireError) err() error {
	if w.Code == "" {
		return errors.New(w.Message)
	}
	return &ports.Error{Code: w.Code, Reason: w.Reason, Message: w.Message, Fields: w.Fields,
		RetryAfter: time.Duration(w.RetryAfterMs) * time.Millisecond}
}

// NewCalls subscribes to the calls and this node's replies (returning
// once Redis confirmed it) and starts reading them until Close. It runs
// no call before Serve.
func NewCalls(ctx context.Context, opt CallOptions) (*Calls, error) {
	if opt.Redis == nil || opt.Node == "" {
		return nil, errors.New("redisbus: Redis and Node are required")
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	opt.AckAfter = durationOr(opt.AckAfter, 100*time.Millisecond)
	opt.AckTimeout = durationOr(opt.AckTimeout, time.Second)
	opt.Beat = durationOr(opt.Beat, 500*time.Millisecond)
	opt.Silence = durationOr(opt.Silence, 3*time.Second)
	opt.MaxCall = durationOr(opt.MaxCall, time.Minute)
	if opt.MaxRunning <= 0 {
		opt.MaxRunning = 256
	}
	c := &Calls{
		opt: opt, calls: opt.Prefix + ":calls", replies: opt.Prefix + ":replies:" + string(opt.Node),
		done: make(chan struct{}), sem: make(chan struct{}, opt.MaxRunning), pending: map[string]chan callReply{},
	}
	c.ps = opt.Redis.Subscribe(ctx, c.calls, c.replies)
	for range 2 {
		if _, err := c.ps.Receive(ctx); err != nil {
			c.ps.Close()
			return nil, fmt.Errorf("subscribe to %s: %w", c.calls, err)
		}
	}
	bg, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	go c.read(bg)
	return c, nil
}

func durationOr(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Serve hands the calls of the instances h holds to h.
func (c *Calls) Serve(h ports.CallHandler) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.handler != nil {
		return errors.New("redisbus: calls are served already")
	}
	c.handler = h
	return nil
}

// Call runs the call on the instance's holder; see Calls for the errors.
func (c *Calls) Call(ctx context.Context, id ports.InstanceID, name string, req []byte) ([]byte, error) {
	raw := make([]byte, 16)
	rand.Read(raw)
	m := callMessage{ID: hex.EncodeToString(raw), Reply: c.replies, Instance: string(id), Name: name, Req: req}
	if d, ok := ctx.Deadline(); ok {
		m.Deadline = d.UnixMilli()
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode call %s: %w", name, err)
	}
	if len(b) > maxMessage {
		return nil, ports.Errorf(ports.EInvalid, "the call %s is too large to send to the instance's node", name)
	}
	ch := make(chan callReply, 8)
	c.mu.Lock()
	c.pending[m.ID] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, m.ID)
		c.mu.Unlock()
	}()
	pctx, cancel := context.WithTimeout(ctx, publishTimeout)
	err = c.opt.Redis.Publish(pctx, c.calls, b).Err()
	cancel()
	if err != nil {
		return nil, &ports.Error{Code: ports.EUnavailable, RetryAfter: time.Second,
			Message: "the instance's node could not be reached: try again"}
	}
	return c.wait(ctx, id, name, ch)
}

// wait waits for the answer to one call.
func (c *Calls) wait(ctx context.Context, id ports.InstanceID, name string, ch <-chan callReply) ([]byte, error) {
	timer := time.NewTimer(c.opt.AckTimeout)
	defer timer.Stop()
	acked := false
	for {
		select {
		case r := <-ch:
			switch r.Kind {
			case replyDone:
				if r.Err != nil {
					return nil, r.Err.err()
				}
				return r.Resp, nil
			default: // an acknowledgement or a beat
				acked = true
				timer.Reset(c.opt.Silence)
			}
		case <-timer.C:
			if !acked {
				return nil, ports.ErrNotHeld(id)
			}
			c.opt.Log.Warn("the node holding the instance went silent mid-call", "instance", string(id), "call", name)
			return nil, &ports.Error{Code: ports.EUnavailable, RetryAfter: ports.NotHeldRetryAfter,
				Message: "the node holding the instance stopped answering (it is being replaced): try again in a few seconds"}
		case <-ctx.Done():
			return nil, &ports.Error{Code: ports.EUnavailable, RetryAfter: time.Second,
				Message: "the instance's node did not answer in time: try again"}
		}
	}
}

// read takes the calls and the replies off the channels. go-redis
// reconnects and resubscribes by itself after a dropped connection.
func (c *Calls) read(ctx context.Context) {
	defer close(c.done)
	ch := c.ps.Channel(redis.WithChannelSize(1024))
	for {
		select {
		case <-ctx.Done():
			return
		case m, ok := <-ch:
			if !ok {
				return
			}
			if len(m.Payload) > maxMessage {
				c.opt.Log.Warn("oversized call message ignored", "bytes", len(m.Payload))
				continue
			}
			if m.Channel == c.replies {
				c.reply(m.Payload)
			} else {
				c.take(ctx, m.Payload)
			}
		}
	}
}

// reply hands a reply to the call waiting for it, if any still is.
func (c *Calls) reply(payload string) {
	var r callReply
	if err := json.Unmarshal([]byte(payload), &r); err != nil {
		c.opt.Log.Warn("undecodable call reply ignored", "err", err)
		return
	}
	c.mu.Lock()
	ch := c.pending[r.ID]
	c.mu.Unlock()
	if ch == nil {
		return
	}
	select {
	case ch <- r:
	default: // the waiter is behind on beats: dropping one is harmless
	}
}

// take runs a call of an instance this node holds; the others' are for
// their holders.
func (c *Calls) take(ctx context.Context, payload string) {
	var m callMessage
	if err := json.Unmarshal([]byte(payload), &m); err != nil {
		c.opt.Log.Warn("undecodable call ignored", "err", err)
		return
	}
	c.mu.Lock()
	h := c.handler
	c.mu.Unlock()
	if h == nil || m.ID == "" || m.Reply == "" || !h.Owns(ports.InstanceID(m.Instance)) {
		return
	}
	select {
	case c.sem <- struct{}{}:
	default:
		// Too busy: no acknowledgement, so the caller answers 503 at once
		// rather than queueing behind a backlog.
		c.opt.Log.Warn("too many forwarded calls at once: one refused", "call", m.Name)
		return
	}
	c.running.Add(1)
	go func() {
		defer func() { <-c.sem; c.running.Done() }()
		c.run(ctx, h, m)
	}()
}

// run runs one call and publishes its answer, acknowledging it and
// beating while it takes long.
func (c *Calls) run(ctx context.Context, h ports.CallHandler, m callMessage) {
	deadline := time.Now().Add(c.opt.MaxCall)
	if d := time.UnixMilli(m.Deadline); m.Deadline > 0 && d.Before(deadline) {
		deadline = d
	}
	cctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	type result struct {
		resp []byte
		err  error
	}
	res := make(chan result, 1)
	go func() {
		resp, err := h.HandleCall(cctx, ports.InstanceID(m.Instance), m.Name, m.Req)
		res <- result{resp, err}
	}()
	timer := time.NewTimer(c.opt.AckAfter)
	defer timer.Stop()
	kind := replyAck
	for {
		select {
		case r := <-res:
			out := callReply{ID: m.ID, Kind: replyDone, Resp: r.resp}
			if r.err != nil {
				out.Resp, out.Err = nil, toWire(r.err)
			}
			c.send(ctx, m, out)
			return
		case <-timer.C:
			c.send(ctx, m, callReply{ID: m.ID, Kind: kind})
			kind = replyBeat
			timer.Reset(c.opt.Beat)
		}
	}
}

// send publishes a reply on the caller's channel.
func (c *Calls) send(ctx context.Context, m callMessage, r callReply) {
	b, err := json.Marshal(r)
	if err == nil && len(b) > maxMessage {
		b, err = json.Marshal(callReply{ID: r.ID, Kind: replyDone, Err: toWire(
			ports.Errorf(ports.EUnavailable, "the answer to %s is too large to send back", m.Name))})
	}
	if err != nil {
		c.opt.Log.Error("encode a call's reply", "call", m.Name, "err", err)
		return
	}
	pctx, cancel := context.WithTimeout(ctx, publishTimeout)
	defer cancel()
	if err := c.opt.Redis.Publish(pctx, m.Reply, b).Err(); err != nil {
		c.opt.Log.Warn("publish a call's reply", "call", m.Name, "err", err)
	}
}

// Close stops taking calls, waits for those running here to answer, and
// unsubscribes. It does not close the Redis client, which the caller owns.
func (c *Calls) Close() error {
	var err error
	c.once.Do(func() {
		c.mu.Lock()
		c.handler = nil
		c.mu.Unlock()
		c.running.Wait()
		c.cancel()
		err = c.ps.Close()
		<-c.done
	})
	return err
}
