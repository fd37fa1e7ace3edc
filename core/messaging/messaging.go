// Package messaging is the send path and message history of SPEC §6: it
// accepts text, location and media messages, writes each as a queued row
// and enqueues its send job after the commit (the outbox; accept.go), runs
// the send jobs with per-instance pacing (worker.go, pace.go), re-enqueues
// jobs that went missing (the relay), follows delivery and read receipts
// and stores inbound messages (inbound.go). Every status move is a
// message.status event; every inbound message a message.received event.
// Bulk sends (core/bulks) send their recipients through a Turn.
package messaging

import (
	"log/slog"
	"time"

	"github.com/wagate/wagate/core/events"
	"github.com/wagate/wagate/ports"
)

// Deps are the ports the service uses.
type Deps struct {
	Tx       ports.TxRunner
	Stores   ports.Stores
	Outbox   ports.MessageOutbox
	Clock    ports.Clock
	IDs      ports.IDGen
	Queue    ports.Queue
	WhatsApp ports.WhatsApp
	// Actions acts on sent and received messages (actions.go); nil: those
	// routes answer not_supported.
	Actions ports.WAActions
	// Previews fetches link previews of texts; nil: texts go without.
	Previews ports.LinkPreviewer
	// LIDs maps a LID given as `to` to its phone number; nil: sends to a
	// LID keep the LID as to and chat (SPEC §6a).
	LIDs ports.WALIDResolver
	// Groups lists a group's participants for mentionAll; nil: mentionAll
	// answers not_supported.
	Groups ports.WAGroups
	// Events is the event log: each status move and inbound message is
	// appended in its own transaction.
	Events *events.Log
	// Fetcher downloads URL media; nil: URL media is refused.
	Fetcher ports.MediaFetcher
	// Owner tells whether this node holds an instance's connection, when
	// several nodes share the work (core/ownership); nil: it holds all.
	Owner Owner
	Log   *slog.Logger
}

// Owner tells whether this node holds an instance's WhatsApp connection.
type Owner interface {
	Owns(id ports.InstanceID) bool
}

// Config tunes sending. Zero values get the defaults.
type Config struct {
	// SendDelayMin and SendDelayMax bound the pause between two sends of
	// one instance (a random value in between); both zero: no pause.
	SendDelayMin, SendDelayMax time.Duration
	// MaxAge is how long a message waits for a disconnected instance
	// before it fails with instance_not_connected; default 1 h.
	MaxAge time.Duration
	// RelayAfter is how long a message must have stayed queued untouched
	// to count as left behind by RelayOnce (a sending one, also
	// ClaimStaleAfter); default 30 s.
	RelayAfter time.Duration
	// SendConcurrency is how many sends one runner makes at once (of
	// different instances: each has one in flight); default 32. A send
	// mostly waits (Signal encryption's store reads, WhatsApp's answer),
	// so with 8 the workers, not the CPU, capped delivery across many
	// instances.
	SendConcurrency int
	// MaxMediaBytes is the largest file of a media message; default
	// 10 MiB.
	MaxMediaBytes int64
	// SendTimeout bounds one send to WhatsApp, from the claim to its
	// answer; default 20 s.
	SendTimeout time.Duration
	// ClaimStaleAfter is how long a message may stay sending before its
	// claim counts as left by a dead worker and the message is sent again,
	// under the same WhatsApp id; default 30 s, and always more than
	// SendTimeout, so that a live send has given up before it is retaken.
	ClaimStaleAfter time.Duration
	// InstanceCacheTTL is how long the accept path trusts an instance it
	// read (its tenant, status and JID) without reading it again, at most
	// 1 s; the instance's status moves and its deletion drop it on this
	// node at once (ForgetInstance). Zero: not cached.
	InstanceCacheTTL time.Duration
}

// Defaults of Config.
const (
	DefaultMaxAge          = time.Hour
	DefaultRelayAfter      = 30 * time.Second
	DefaultSendConcurrency = 32
	DefaultSendTimeout     = 20 * time.Second
	DefaultClaimStaleAfter = 30 * time.Second
)

func (c Config) withDefaults() Config {
	if c.MaxAge <= 0 {
		c.MaxAge = DefaultMaxAge
	}
	if c.RelayAfter <= 0 {
		c.RelayAfter = DefaultRelayAfter
	}
	if c.SendConcurrency <= 0 {
		c.SendConcurrency = DefaultSendConcurrency
	}
	if c.MaxMediaBytes <= 0 {
		c.MaxMediaBytes = DefaultMaxMedia
	}
	if c.SendTimeout <= 0 {
		c.SendTimeout = DefaultSendTimeout
	}
	if c.ClaimStaleAfter <= 0 {
		c.ClaimStaleAfter = DefaultClaimStaleAfter
	}
	if c.ClaimStaleAfter <= c.SendTimeout {
		c.ClaimStaleAfter = c.SendTimeout + c.SendTimeout/2
	}
	if c.SendDelayMax < c.SendDelayMin {
		c.SendDelayMax = c.SendDelayMin
	}
	return c
}

// Service is the messaging module.
type Service struct {
	d    Deps
	cfg  Config
	pace *pacer
	// instances caches the accept path's instance checks (nil: off).
	instances *instanceCache
}

// New returns a Service.
func New(d Deps, cfg Config) *Service {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	cfg = cfg.withDefaults()
	return &Service{d: d, cfg: cfg, pace: newPacer(cfg.SendDelayMin, cfg.SendDelayMax), instances: newInstanceCache(cfg.InstanceCacheTTL)}
}
