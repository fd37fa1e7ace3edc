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

	"github.com/wagate/wagate/ports"
)

// Revocations carries ports.Revocation between nodes on one Redis pub/sub
// channel, <Prefix>:revocations, apart from the events: a burst of events
// must not delay a revoked key. Pub/sub drops what a disconnected node
// misses, so a node that (re)subscribes forgets every principal it cached;
// one Redis round trip per revocation is what a node pays.
type Revocations struct {
	opt     RevocationOptions
	channel string

	mu     sync.Mutex
	ps     *redis.PubSub
	cancel context.CancelFunc
	done   chan struct{}
}

var _ ports.RevocationBus = (*Revocations)(nil)

// RevocationOptions configure NewRevocations.
type RevocationOptions struct {
	Redis  *redis.Client
	Prefix string
	Node   ports.NodeID // this node's own messages are not applied twice
	Log    *slog.Logger
}

// RevocationTarget is what Listen hands the other nodes' revocations to:
// tenancy.Principals.
type RevocationTarget interface {
	// Drop forgets the principals r covers.
	Drop(r ports.Revocation)
	// Flush forgets every principal.
	Flush()
}

// revocationMessage is what crosses the channel: the revocation's fields,
// named, and the sender.
type revocationMessage struct {
	Node         string `json:"node"`
	Subscription string `json:"subscription,omitempty"`
	User         string `json:"user,omitempty"`
	Family       string `json:"family,omitempty"`
	Token        string `json:"token,omitempty"`
	APIKey       string `json:"apiKey,omitempty"`
	Instance     string `json:"instance,omitempty"`
}

// maxRevocation bounds a message read from the channel: ids are short.
const maxRevocation = 4 << 10

// NewRevocations returns the bus; it publishes at once and receives once
// Listen was called.
func NewRevocations(opt RevocationOptions) (*Revocations, error) {
	if opt.Redis == nil || opt.Node == "" {
		return nil, errors.New("redisbus: Redis and Node are required")
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	return &Revocations{opt: opt, channel: opt.Prefix + ":revocations"}, nil
}

// PublishRevocation sends r to the other nodes. EUnavailable when Redis
// does not take it.
func (b *Revocations) PublishRevocation(ctx context.Context, r ports.Revocation) error {
	msg, err := json.Marshal(revocationMessage{
		Node: string(b.opt.Node), Subscription: string(r.SubscriptionID), User: string(r.UserID),
		Family: r.TokenFamily, Token: r.TokenID, APIKey: string(r.APIKeyID), Instance: string(r.InstanceID),
	})
	if err != nil {
		return fmt.Errorf("encode revocation: %w", err)
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishTimeout)
	defer cancel()
	if err := b.opt.Redis.Publish(pctx, b.channel, msg).Err(); err != nil {
		return ports.Errorf(ports.EUnavailable, "publish revocation to the other nodes: %v", err)
	}
	return nil
}

// Listen subscribes (returning once Redis confirmed it) and hands the
// other nodes' revocations to t until Close.
func (b *Revocations) Listen(ctx context.Context, t RevocationTarget) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ps != nil {
		return errors.New("redisbus: Listen called twice")
	}
	ps := b.opt.Redis.Subscribe(ctx, b.channel)
	if _, err := ps.Receive(ctx); err != nil {
		ps.Close()
		return fmt.Errorf("subscribe to %s: %w", b.channel, err)
	}
	bg, cancel := context.WithCancel(context.Background())
	b.ps, b.cancel, b.done = ps, cancel, make(chan struct{})
	go b.receive(bg, ps, t)
	return nil
}

// receive reads the channel until ctx ends. go-redis reconnects and
// subscribes again after a receive error; the confirmation it then reads
// means messages may have been lost in between, so t forgets everything.
func (b *Revocations) receive(ctx context.Context, ps *redis.PubSub, t RevocationTarget) {
	defer close(b.done)
	for ctx.Err() == nil {
		msg, err := ps.Receive(ctx)
		if err != nil {
			if ctx.Err() == nil {
				b.opt.Log.Warn("revocation channel", "err", err)
				t.Flush()
				sleepCtx(ctx, 100*time.Millisecond)
			}
			continue
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			t.Flush()
		case *redis.Message:
			b.apply(m.Payload, t)
		}
	}
}

// apply decodes one message and drops what it covers, unless this node
// sent it (and so dropped it already).
func (b *Revocations) apply(payload string, t RevocationTarget) {
	var m revocationMessage
	if !decodeForeign(payload, maxRevocation, b.opt.Node, "revocation", b.opt.Log, &m) {
		return
	}
	r := ports.Revocation{
		SubscriptionID: ports.SubscriptionID(m.Subscription), UserID: ports.UserID(m.User),
		TokenFamily: m.Family, TokenID: m.Token, APIKeyID: ports.APIKeyID(m.APIKey), InstanceID: ports.InstanceID(m.Instance),
	}
	if !r.Empty() {
		t.Drop(r)
	}
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// Close stops listening. It does not close the Redis client.
func (b *Revocations) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ps == nil {
		return nil
	}
	b.cancel()
	err := b.ps.Close()
	<-b.done
	b.ps = nil
	return err
}
