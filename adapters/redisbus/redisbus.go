// Package redisbus is the ports.EventBus of several nodes: every event is
// handed to this node's realtime subscribers at once (through a local bus)
// and published on one Redis pub/sub channel, from which every other node
// hands it to its own. A WebSocket client on any node so sees the events
// of instances whose connection another node holds.
//
// An event crosses Redis in its wire form (the envelope the WebSocket
// sends), with the subscription id beside it; on the receiving node its
// data is that JSON, which the stream writes back unchanged. Pub/sub is
// fire and forget, like the realtime stream itself: an event published
// while a node is cut off from Redis does not reach that node's clients
// (webhooks, which are durable, do not depend on it).
package redisbus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wagate/wagate/adapters/eventjson"
	"github.com/wagate/wagate/ports"
)

// publishTimeout bounds one PUBLISH: the caller (a WhatsApp event
// handler) must not wait on a stalled Redis.
const publishTimeout = 2 * time.Second

// maxMessage bounds a message read from the channel: anything larger was
// not written by a wagate node.
const maxMessage = 1 << 20

// Options configure New.
type Options struct {
	Redis *redis.Client
	// Prefix names the deployment's channel: <Prefix>:events.
	Prefix string
	// Node tells this node's messages apart: it delivered them itself.
	Node ports.NodeID
	// Local delivers to this node's subscribers.
	Local ports.EventBus
	Log   *slog.Logger
}

// Bus is the Redis event bus. It is safe for concurrent use.
type Bus struct {
	opt     Options
	channel string
	ps      *redis.PubSub
	cancel  context.CancelFunc
	done    chan struct{}
	once    sync.Once
}

var _ ports.EventBus = (*Bus)(nil)

// message is what crosses the channel. Position travels beside the
// envelope, not in it (clients never see it): a stream replaying the log
// orders the live events by it.
type message struct {
	Node         string          `json:"node"`
	Subscription string          `json:"subscription"`
	Position     int64           `json:"position,omitempty"`
	Event        json.RawMessage `json:"event"`
}

// New subscribes to the channel (returning once Redis confirmed it, so
// that no event published after New returns is missed) and starts
// forwarding other nodes' events to Local until Close.
func New(ctx context.Context, opt Options) (*Bus, error) {
	if opt.Redis == nil || opt.Local == nil || opt.Node == "" {
		return nil, errors.New("redisbus: Redis, Local and Node are required")
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	b := &Bus{opt: opt, channel: opt.Prefix + ":events", done: make(chan struct{})}
	b.ps = opt.Redis.Subscribe(ctx, b.channel)
	if _, err := b.ps.Receive(ctx); err != nil {
		b.ps.Close()
		return nil, fmt.Errorf("subscribe to %s: %w", b.channel, err)
	}
	bg, cancel := context.WithCancel(context.Background())
	b.cancel = cancel
	go b.forward(bg)
	return b, nil
}

// Publish hands e to this node's subscribers, then to the other nodes.
// EInvalid without a SubscriptionID (from the local bus); EUnavailable
// when Redis does not take it: this node's subscribers got it anyway.
func (b *Bus) Publish(ctx context.Context, e ports.Event) error {
	if err := b.opt.Local.Publish(ctx, e); err != nil {
		return err
	}
	wire, err := eventjson.Encode(e)
	if err != nil {
		// No wire form: no WebSocket client could be sent it anyway.
		b.opt.Log.Debug("event without a wire form not shared", "type", string(e.Type))
		return nil
	}
	msg, err := json.Marshal(message{Node: string(b.opt.Node), Subscription: string(e.SubscriptionID), Position: e.Position, Event: wire})
	if err != nil {
		return fmt.Errorf("encode event %s: %w", e.ID, err)
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishTimeout)
	defer cancel()
	if err := b.opt.Redis.Publish(pctx, b.channel, msg).Err(); err != nil {
		return ports.Errorf(ports.EUnavailable, "publish event %s to the other nodes: %v", e.ID, err)
	}
	return nil
}

// Subscribe returns this node's matching events, from every node.
func (b *Bus) Subscribe(ctx context.Context, f ports.EventFilter) (<-chan ports.Event, error) {
	return b.opt.Local.Subscribe(ctx, f)
}

// forward hands the other nodes' events to the local subscribers. go-redis
// reconnects and resubscribes by itself after a dropped connection.
func (b *Bus) forward(ctx context.Context) {
	defer close(b.done)
	ch := b.ps.Channel(redis.WithChannelSize(1024))
	for {
		select {
		case <-ctx.Done():
			return
		case m, ok := <-ch:
			if !ok {
				return
			}
			b.deliver(ctx, m.Payload)
		}
	}
}

// deliver decodes one message and hands it to the local bus, unless this
// node published it.
func (b *Bus) deliver(ctx context.Context, payload string) {
	var m message
	if !decodeForeign(payload, maxMessage, b.opt.Node, "event", b.opt.Log, &m) {
		return
	}
	e, err := eventjson.Decode(m.Event)
	if err != nil || m.Subscription == "" {
		b.opt.Log.Warn("malformed event message ignored", "node", m.Node)
		return
	}
	e.SubscriptionID, e.Position = ports.SubscriptionID(m.Subscription), max(m.Position, 0)
	if err := b.opt.Local.Publish(ctx, e); err != nil {
		b.opt.Log.Warn("deliver another node's event", "type", string(e.Type), "err", err)
	}
}

// sent is what decodeForeign needs of a channel message: who sent it.
type sent interface{ sender() string }

func (m *message) sender() string           { return m.Node }
func (m *revocationMessage) sender() string { return m.Node }

// decodeForeign decodes one channel message into m and reports whether it
// is another node's: one too large or undecodable is logged and dropped,
// and this node's own were handled when it published them.
func decodeForeign(payload string, limit int, self ports.NodeID, what string, log *slog.Logger, m sent) bool {
	if len(payload) > limit {
		log.Warn("oversized "+what+" message ignored", "bytes", len(payload))
		return false
	}
	if err := json.Unmarshal([]byte(payload), m); err != nil {
		log.Warn("undecodable "+what+" message ignored", "err", err)
		return false
	}
	return m.sender() != string(self)
}

// Close stops forwarding and unsubscribes. It does not close the local
// bus or the Redis client, which the caller owns.
func (b *Bus) Close() error {
	var err error
	b.once.Do(func() {
		b.cancel()
		err = b.ps.Close()
		<-b.done
	})
	return err
}
