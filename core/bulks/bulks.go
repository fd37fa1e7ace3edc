// Package bulks is the bulk sends of SPEC §8: a bulk is one text, or a
// template rendered per recipient, written as one queued message per
// recipient in one transaction, then sent by the bulk's run: one bulk.step
// job at a time, each sending the next recipient through the send path of
// core/messaging (the instance's turn, the claim, the send) and enqueueing
// the next step after the bulk's pacing. Pause, resume and cancel move the
// bulk between statuses under its lock; every move is a bulk.status event.
package bulks

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/wagate/wagate/core/events"
	"github.com/wagate/wagate/core/messaging"
	"github.com/wagate/wagate/ports"
)

// Sender is the send path of core/messaging (messaging.Service), as a
// bulk's run uses it.
type Sender interface {
	// TakeTurn takes the instance's turn to send, for what (named in its
	// errors): ERateLimited while another node holds the instance's
	// connection or another send of the instance is in flight; both retry
	// without spending an attempt. The caller releases the turn.
	TakeTurn(ctx context.Context, sub ports.SubscriptionID, inst ports.InstanceID, what string) (*messaging.Turn, error)
}

// Deps are the ports the service uses.
type Deps struct {
	Tx     ports.TxRunner
	Stores ports.Stores
	Sender Sender
	Clock  ports.Clock
	IDs    ports.IDGen
	Queue  ports.Queue
	// Events is the event log: each status move of a bulk appends its
	// bulk.status event in the move's transaction.
	Events *events.Log
	// Render fills a template for one recipient (templates.Render); nil:
	// template bulks are refused.
	Render func(ports.Template, map[string]string) (string, error)
	// Backlog finds running bulks whose run went missing, for Relay;
	// nil: no relay.
	Backlog ports.BulkBacklog
	Log     *slog.Logger
}

// Config tunes the runs. Zero values get the defaults.
type Config struct {
	// PacingMin and PacingMax bound the pause between two sends of a bulk
	// that has no pacing of its own: the instance's send delay.
	PacingMin, PacingMax time.Duration
	// Concurrency is how many steps one runner runs at once (of different
	// instances: each has one send in flight); default
	// messaging.DefaultSendConcurrency.
	Concurrency int
}

// Service is the bulks module.
type Service struct {
	d   Deps
	cfg Config
}

// New returns a Service.
func New(d Deps, cfg Config) *Service {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = messaging.DefaultSendConcurrency
	}
	return &Service{d: d, cfg: cfg}
}

// Limits of a bulk send (SPEC §8; the ones SPEC leaves open are documented
// in the OpenAPI document).
const (
	MaxRecipients = 10_000
	MaxPacing     = time.Minute         // of either pacing bound
	MaxSchedule   = 30 * 24 * time.Hour // how far ahead scheduledAt may be
	// bulkSchedulePast is how far in the past scheduledAt may be (a
	// client's clock a little behind): such a bulk starts at once.
	bulkSchedulePast = time.Minute
	// MaxVariables bounds the variables of one recipient, and
	// MaxVariableLen the characters of a name or value.
	MaxVariables   = 100
	MaxVariableLen = 1024
	// maxBulkFieldErrors caps the field errors of one refused bulk: a
	// list of 10,000 bad recipients is not read past the first few.
	maxBulkFieldErrors = 50
)

// Recipient is one recipient of a bulk send.
type Recipient struct {
	To        string
	Variables map[string]string // the template's variables; only with a template
}

// Pacing is the pause between two sends of a bulk, a random value
// between Min and Max.
type Pacing struct {
	Min, Max time.Duration
}

// CreateCmd is a bulk send: either a template, rendered for each
// recipient with its variables, or one text sent as it is.
type CreateCmd struct {
	TemplateID  ports.TemplateID
	Text        string
	Recipients  []Recipient
	ScheduledAt *time.Time // nil: start now
	Pacing      *Pacing    // nil: the instance's send delay
	// Idempotency, when set, records the request's answer in the bulk's
	// transaction.
	Idempotency *ports.IdempotencyClaim[ports.BulkSummary]
}

// Create accepts a bulk send: the bulk and one queued message per
// recipient, its text rendered, are written in one transaction, then the
// first step of the run is enqueued (at ScheduledAt for a scheduled bulk).
// API keys need messages:send and act on their own instance only.
// EInvalid for bad fields, a template of no one's or a missing variable
// (each as its recipient's field); ENotFound for another tenant's
// instance; EConflict (instance_not_connected) when the instance was never
// linked or is logged out. Recipients may not repeat (after
// normalisation): a repeat is an EInvalid of the later one.
func (s *Service) Create(ctx context.Context, p ports.Principal, inst ports.InstanceID, cmd CreateCmd) (ports.BulkSummary, error) {
	if err := p.CanActOn(inst); err != nil {
		return ports.BulkSummary{}, err
	}
	if err := p.RequireScope(ports.ScopeMessagesSend); err != nil {
		return ports.BulkSummary{}, err
	}
	now := s.d.Clock.Now()
	pacing, tos, err := s.checkBulk(cmd, now)
	if err != nil {
		return ports.BulkSummary{}, err
	}
	b := ports.Bulk{
		ID: ports.BulkID(s.d.IDs.NewID()), SubscriptionID: p.SubscriptionID, InstanceID: inst,
		Status: ports.BulkRunning, TemplateID: cmd.TemplateID, Text: cmd.Text, Total: len(tos),
		PacingMin: pacing.Min, PacingMax: pacing.Max, CreatedAt: now, UpdatedAt: now,
	}
	runAt := now
	if cmd.ScheduledAt != nil && cmd.ScheduledAt.After(now) {
		at := cmd.ScheduledAt.UTC()
		b.Status, b.ScheduledAt, runAt = ports.BulkScheduled, &at, at
	} else {
		b.StartedAt = &now
	}
	err = s.d.Tx.InTx(ctx, func(ctx context.Context, st ports.Stores) error {
		i, err := st.Instances.GetInstance(ctx, p.SubscriptionID, inst)
		if err != nil {
			return fmt.Errorf("get instance: %w", err)
		}
		if i.Status == ports.StatusCreated || i.Status == ports.StatusLoggedOut {
			return messaging.ErrNotConnected()
		}
		texts, err := s.bulkTexts(ctx, st, p.SubscriptionID, cmd)
		if err != nil {
			return err
		}
		msgs := make([]ports.Message, len(tos))
		for n, to := range tos {
			msgs[n] = ports.Message{
				ID: ports.MessageID(s.d.IDs.NewID()), SubscriptionID: p.SubscriptionID, InstanceID: inst,
				Direction: ports.DirectionOutbound, Chat: to, To: to, From: i.JID, Type: ports.MessageText,
				Text: texts[n], Status: ports.MsgQueued, CreatedAt: now, UpdatedAt: now, BulkID: b.ID, BulkSeq: n,
			}
			if strings.HasSuffix(to, "@lid") {
				// Sent to the LID as asked, and found under it (SPEC §6a); no
				// look-up of its number for each of thousands of recipients.
				msgs[n].ChatLID = to
			}
		}
		if err := st.Bulks.CreateBulk(ctx, p.SubscriptionID, b, msgs); err != nil {
			return fmt.Errorf("create bulk: %w", err)
		}
		if _, err := s.announce(ctx, st, b); err != nil {
			return err
		}
		return cmd.Idempotency.Record(ctx, st.Idempotency, p.SubscriptionID, ports.BulkSummary{Bulk: b, Counts: ports.BulkCounts{Queued: b.Total}})
	})
	if err != nil {
		return ports.BulkSummary{}, err
	}
	s.d.Events.Wake(ctx, p.SubscriptionID)
	// After the commit, like a message's job: should the enqueue fail, the
	// bulk relay starts the run later.
	if err := s.enqueueStep(ctx, b, runAt); err != nil {
		s.d.Log.Warn("enqueue bulk step; the bulk relay will retry", "bulk", string(b.ID), "err", err)
	}
	return ports.BulkSummary{Bulk: b, Counts: ports.BulkCounts{Queued: b.Total}}, nil
}
