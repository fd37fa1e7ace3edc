// Package messaging is the send path and message history of SPEC §6: it
// accepts text messages, writes each as a queued row and enqueues its send
// job after the commit (the outbox), runs the send jobs with per-instance
// pacing, re-enqueues jobs that went missing (the relay), follows delivery
// and read receipts, and stores inbound messages. Every status move is a
// message.status event; every inbound message a message.received event.
package messaging

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/wagate/wagate/ports"
)

// Deps are the ports the service uses.
type Deps struct {
	Tx        ports.TxRunner
	Stores    ports.Stores
	Outbox    ports.MessageOutbox
	Directory ports.InstanceDirectory // the tenant of a WhatsApp event
	Clock     ports.Clock
	IDs       ports.IDGen
	Queue     ports.Queue
	WhatsApp  ports.WhatsApp
	Bus       ports.EventBus // nil: no events
	// Fetcher downloads URL media; nil: URL media is refused.
	Fetcher ports.MediaFetcher
	// Render fills a template for one bulk recipient (templates.Render);
	// nil: template bulks are refused.
	Render func(ports.Template, map[string]string) (string, error)
	// Bulks finds running bulks whose run went missing, for RelayBulks;
	// nil: no bulk relay.
	Bulks ports.BulkBacklog
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
	d     Deps
	cfg   Config
	pace  *pacer
	mu    sync.Mutex
	owner map[ports.InstanceID]ports.SubscriptionID // tenants of instances seen in events
}

// New returns a Service.
func New(d Deps, cfg Config) *Service {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	cfg = cfg.withDefaults()
	return &Service{d: d, cfg: cfg, pace: newPacer(cfg.SendDelayMin, cfg.SendDelayMax), owner: map[ports.InstanceID]ports.SubscriptionID{}}
}

// MaxTextLen is the longest text message, in characters.
const MaxTextLen = 4096

// SendTextCmd is a text message to send.
type SendTextCmd struct {
	To      string // phone number or JID
	Text    string
	ReplyTo string // a WhatsApp message id, or one of our message ids of the instance
	// Idempotency, when set, records the request's answer in the
	// message's transaction.
	Idempotency *ports.IdempotencyClaim[ports.Message]
}

// SendText accepts a text message for sending: the row is written queued
// and its job enqueued after the commit. API keys need messages:send and
// act on their own instance only. EInvalid for bad fields; ENotFound for
// another tenant's instance; EConflict (instance_not_connected) when the
// instance was never linked or is logged out.
func (s *Service) SendText(ctx context.Context, p ports.Principal, inst ports.InstanceID, cmd SendTextCmd) (ports.Message, error) {
	if err := canSend(p, inst); err != nil {
		return ports.Message{}, err
	}
	to, toErr := normaliseTo(cmd.To)
	if err := ports.FieldErrors(toErr, checkText(cmd.Text), checkReplyTo(cmd.ReplyTo)); err != nil {
		return ports.Message{}, err
	}
	return s.accept(ctx, p, inst, ports.Message{To: to, Type: ports.MessageText, Text: cmd.Text}, cmd.ReplyTo, cmd.Idempotency)
}

// canSend checks that the caller may send from the instance.
func canSend(p ports.Principal, inst ports.InstanceID) error {
	if err := p.CanActOn(inst); err != nil {
		return err
	}
	return p.RequireScope(ports.ScopeMessagesSend)
}

// accept writes the outbound message draft (its To, Type and content set,
// already checked) as queued, with replyTo resolved and the claim's answer
// recorded (a nil claim: none), and enqueues its job after the commit.
func (s *Service) accept(ctx context.Context, p ports.Principal, inst ports.InstanceID, draft ports.Message, replyTo string,
	claim *ports.IdempotencyClaim[ports.Message]) (ports.Message, error) {
	return s.acceptWith(ctx, p, inst, draft, replyTo, claim, nil)
}

// acceptWith is accept with more to write in the message's transaction
// (its file), by also, when not nil, once the row is created.
func (s *Service) acceptWith(ctx context.Context, p ports.Principal, inst ports.InstanceID, draft ports.Message, replyTo string,
	claim *ports.IdempotencyClaim[ports.Message], also func(ctx context.Context, st ports.Stores, m ports.Message) error) (ports.Message, error) {
	// The checks read outside the write: an instance logged out a moment
	// after its check fails the message at send time, as one logged out
	// after the write would.
	i, err := s.d.Stores.Instances.GetInstance(ctx, p.SubscriptionID, inst)
	if err != nil {
		return ports.Message{}, fmt.Errorf("get instance: %w", err)
	}
	if i.Status == ports.StatusCreated || i.Status == ports.StatusLoggedOut {
		return ports.Message{}, errNotConnected()
	}
	reply, err := s.resolveReply(ctx, s.d.Stores.Messages, p.SubscriptionID, inst, replyTo)
	if err != nil {
		return ports.Message{}, err
	}
	now := s.d.Clock.Now()
	m := draft
	m.ID, m.SubscriptionID, m.InstanceID = ports.MessageID(s.d.IDs.NewID()), p.SubscriptionID, inst
	m.Direction, m.Chat, m.From, m.Status = ports.DirectionOutbound, draft.To, i.JID, ports.MsgQueued
	m.ReplyTo, m.CreatedAt, m.UpdatedAt = reply, now, now
	write := func(ctx context.Context, st ports.Stores) error {
		if err := st.Messages.CreateMessage(ctx, p.SubscriptionID, m); err != nil {
			return fmt.Errorf("create message: %w", err)
		}
		if also != nil {
			if err := also(ctx, st, m); err != nil {
				return err
			}
		}
		return claim.Record(ctx, st.Idempotency, p.SubscriptionID, m)
	}
	// A lone INSERT needs no transaction around it (two round trips to
	// the database fewer on the hottest route); a file or an
	// Idempotency-Key answer must commit with the message.
	if also == nil && claim == nil {
		err = write(ctx, s.d.Stores)
	} else {
		err = s.d.Tx.InTx(ctx, write)
	}
	if err != nil {
		return ports.Message{}, err
	}
	// After the commit: the row is the outbox. Should the enqueue fail,
	// the message stays queued and the relay enqueues it later, so the
	// caller still gets its 202.
	if err := s.enqueue(ctx, m); err != nil {
		s.d.Log.Warn("enqueue send; the relay will retry", "message", string(m.ID), "err", err)
	}
	return m, nil
}

// resolveReply turns replyTo into WhatsApp's id: one of our message ids of
// the instance is looked up, anything else is taken as WhatsApp's id.
func (s *Service) resolveReply(ctx context.Context, st ports.MessageStore, sub ports.SubscriptionID, inst ports.InstanceID, replyTo string) (string, error) {
	if replyTo == "" {
		return "", nil
	}
	m, err := st.GetMessage(ctx, sub, ports.MessageID(replyTo))
	switch {
	case ports.IsCode(err, ports.ENotFound):
		return replyTo, nil
	case err != nil:
		return "", fmt.Errorf("get quoted message: %w", err)
	case m.InstanceID != inst:
		return replyTo, nil
	case m.WAMessageID == "":
		return "", ports.InvalidFields(ports.FieldError{Field: "replyTo", Message: "the quoted message has not been sent yet"})
	}
	return m.WAMessageID, nil
}

// Get returns one message of the instance; ENotFound for another
// instance's or tenant's. API keys need messages:read.
func (s *Service) Get(ctx context.Context, p ports.Principal, inst ports.InstanceID, id ports.MessageID) (ports.Message, error) {
	if err := s.canRead(ctx, p, inst); err != nil {
		return ports.Message{}, err
	}
	m, err := s.d.Stores.Messages.GetMessage(ctx, p.SubscriptionID, id)
	if err != nil {
		return ports.Message{}, fmt.Errorf("get message: %w", err)
	}
	if m.InstanceID != inst {
		return ports.Message{}, ports.Errorf(ports.ENotFound, "message not found")
	}
	return m, nil
}

// List pages through the instance's messages, newest first. API keys need
// messages:read. EInvalid for an unknown direction or status.
func (s *Service) List(ctx context.Context, p ports.Principal, inst ports.InstanceID, f ports.MessageFilter, page ports.PageRequest) (ports.Page[ports.Message], error) {
	if err := s.canRead(ctx, p, inst); err != nil {
		return ports.Page[ports.Message]{}, err
	}
	if err := checkFilter(&f); err != nil {
		return ports.Page[ports.Message]{}, err
	}
	f.InstanceID = inst
	out, err := s.d.Stores.Messages.ListMessages(ctx, p.SubscriptionID, f, page)
	if err != nil {
		return ports.Page[ports.Message]{}, fmt.Errorf("list messages: %w", err)
	}
	return out, nil
}

// canRead checks the scope and that the instance is the caller's.
func (s *Service) canRead(ctx context.Context, p ports.Principal, inst ports.InstanceID) error {
	if err := p.CanActOn(inst); err != nil {
		return err
	}
	if err := p.RequireScope(ports.ScopeMessagesRead); err != nil {
		return err
	}
	if _, err := s.d.Stores.Instances.GetInstance(ctx, p.SubscriptionID, inst); err != nil {
		return fmt.Errorf("get instance: %w", err)
	}
	return nil
}

func checkFilter(f *ports.MessageFilter) error {
	var errs []*ports.FieldError
	switch f.Direction {
	case "", ports.DirectionInbound, ports.DirectionOutbound:
	default:
		errs = append(errs, &ports.FieldError{Field: "direction", Message: "must be inbound or outbound"})
	}
	switch f.Status {
	case "", ports.MsgQueued, ports.MsgSending, ports.MsgSent, ports.MsgDelivered, ports.MsgRead, ports.MsgFailed, ports.MsgReceived:
	default:
		errs = append(errs, &ports.FieldError{Field: "status", Message: "is not a message status"})
	}
	if f.Chat != "" {
		chat, err := normaliseTo(f.Chat)
		if err != nil {
			err.Field = "chat"
			errs = append(errs, err)
		}
		f.Chat = chat
	}
	return ports.FieldErrors(errs...)
}

func checkText(text string) *ports.FieldError {
	if fe := ports.CheckText("text", text, MaxTextLen); fe != nil {
		return fe
	}
	if strings.TrimSpace(text) == "" {
		return &ports.FieldError{Field: "text", Message: fmt.Sprintf("must be 1 to %d characters", MaxTextLen)}
	}
	return nil
}

// checkReplyTo accepts what a WhatsApp message id can be: short, printable,
// without spaces.
func checkReplyTo(id string) *ports.FieldError {
	if len(id) > 128 || ports.CheckName("replyTo", id, 128) != nil || strings.ContainsAny(id, " ") {
		return &ports.FieldError{Field: "replyTo", Message: "must be a message id"}
	}
	return nil
}

func errNotConnected() error {
	return ports.ReasonError(ports.EConflict, "instance_not_connected", "the instance is not connected to WhatsApp")
}
