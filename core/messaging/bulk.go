package messaging

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wagate/wagate/ports"
)

// Limits of a bulk send (SPEC §8; the ones SPEC leaves open are documented
// in the OpenAPI document).
const (
	MaxBulkRecipients = 10_000
	MaxBulkPacing     = time.Minute         // of either pacing bound
	MaxBulkSchedule   = 30 * 24 * time.Hour // how far ahead scheduledAt may be
	// bulkSchedulePast is how far in the past scheduledAt may be (a
	// client's clock a little behind): such a bulk starts at once.
	bulkSchedulePast = time.Minute
	// MaxBulkVariables bounds the variables of one recipient, and
	// MaxVariableLen the characters of a name or value.
	MaxBulkVariables = 100
	MaxVariableLen   = 1024
	// maxBulkFieldErrors caps the field errors of one refused bulk: a
	// list of 10,000 bad recipients is not read past the first few.
	maxBulkFieldErrors = 50
)

// BulkRecipient is one recipient of a bulk send.
type BulkRecipient struct {
	To        string
	Variables map[string]string // the template's variables; only with a template
}

// BulkPacing is the pause between two sends of a bulk, a random value
// between Min and Max.
type BulkPacing struct {
	Min, Max time.Duration
}

// CreateBulkCmd is a bulk send: either a template, rendered for each
// recipient with its variables, or one text sent as it is.
type CreateBulkCmd struct {
	TemplateID  ports.TemplateID
	Text        string
	Recipients  []BulkRecipient
	ScheduledAt *time.Time  // nil: start now
	Pacing      *BulkPacing // nil: the instance's send delay
	// Idempotency, when set, records the request's answer in the bulk's
	// transaction.
	Idempotency *ports.IdempotencyClaim[ports.BulkSummary]
}

// CreateBulk accepts a bulk send: the bulk and one queued message per
// recipient, its text rendered, are written in one transaction, then the
// first step of the run is enqueued (at ScheduledAt for a scheduled bulk).
// API keys need messages:send and act on their own instance only.
// EInvalid for bad fields, a template of no one's or a missing variable
// (each as its recipient's field); ENotFound for another tenant's
// instance; EConflict (instance_not_connected) when the instance was never
// linked or is logged out. Recipients may not repeat (after
// normalisation): a repeat is an EInvalid of the later one.
func (s *Service) CreateBulk(ctx context.Context, p ports.Principal, inst ports.InstanceID, cmd CreateBulkCmd) (ports.BulkSummary, error) {
	if err := canSend(p, inst); err != nil {
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
			return errNotConnected()
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
		}
		if err := st.Bulks.CreateBulk(ctx, p.SubscriptionID, b, msgs); err != nil {
			return fmt.Errorf("create bulk: %w", err)
		}
		return cmd.Idempotency.Record(ctx, st.Idempotency, p.SubscriptionID, ports.BulkSummary{Bulk: b, Counts: ports.BulkCounts{Queued: b.Total}})
	})
	if err != nil {
		return ports.BulkSummary{}, err
	}
	// After the commit, like a message's job: should the enqueue fail, the
	// bulk relay starts the run later.
	if err := s.enqueueStep(ctx, b, runAt); err != nil {
		s.d.Log.Warn("enqueue bulk step; the bulk relay will retry", "bulk", string(b.ID), "err", err)
	}
	sum := ports.BulkSummary{Bulk: b, Counts: ports.BulkCounts{Queued: b.Total}}
	s.publishBulk(ctx, sum)
	return sum, nil
}

// checkBulk checks every field of cmd but the template's existence and
// variables (which need the store), and returns the pacing to use and the
// normalised recipients.
func (s *Service) checkBulk(cmd CreateBulkCmd, now time.Time) (BulkPacing, []string, error) {
	var errs fieldList
	switch {
	case cmd.TemplateID != "" && cmd.Text != "":
		errs.add("text", "give either templateId or text, not both")
	case cmd.TemplateID == "" && cmd.Text == "":
		errs.add("text", "templateId or text is required")
	case cmd.TemplateID != "":
		if len(cmd.TemplateID) > 64 || !ports.ValidText(string(cmd.TemplateID)) || strings.ContainsAny(string(cmd.TemplateID), " \t\r\n/") {
			errs.add("templateId", "is not a template id")
		}
	default:
		if e := checkText(cmd.Text); e != nil {
			errs.add(e.Field, e.Message)
		}
	}
	pacing := BulkPacing{Min: s.cfg.SendDelayMin, Max: s.cfg.SendDelayMax}
	if cmd.Pacing != nil {
		pacing = *cmd.Pacing
		bound := fmt.Sprintf("must be 0 to %d milliseconds", MaxBulkPacing.Milliseconds())
		if pacing.Min < 0 || pacing.Min > MaxBulkPacing {
			errs.add("pacing.minDelayMs", bound)
		}
		if pacing.Max < 0 || pacing.Max > MaxBulkPacing {
			errs.add("pacing.maxDelayMs", bound)
		} else if pacing.Max < pacing.Min {
			errs.add("pacing.maxDelayMs", "must not be less than minDelayMs")
		}
	}
	if at := cmd.ScheduledAt; at != nil {
		switch {
		case at.Before(now.Add(-bulkSchedulePast)):
			errs.add("scheduledAt", "must not be in the past")
		case at.After(now.Add(MaxBulkSchedule)):
			errs.add("scheduledAt", fmt.Sprintf("must be at most %d days ahead", int(MaxBulkSchedule/(24*time.Hour))))
		}
	}
	tos := checkRecipients(cmd, &errs)
	return pacing, tos, errs.err()
}

// checkRecipients checks the count and every recipient, and returns the
// normalised numbers.
func checkRecipients(cmd CreateBulkCmd, errs *fieldList) []string {
	if n := len(cmd.Recipients); n < 1 || n > MaxBulkRecipients {
		errs.add("recipients", fmt.Sprintf("must hold 1 to %d recipients", MaxBulkRecipients))
		return nil
	}
	tos := make([]string, len(cmd.Recipients))
	first := make(map[string]int, len(cmd.Recipients))
	for n, r := range cmd.Recipients {
		at := fmt.Sprintf("recipients[%d].", n)
		to, err := normaliseTo(r.To)
		switch {
		case err != nil:
			errs.add(at+"to", err.Message)
		case first[to] > 0:
			errs.add(at+"to", fmt.Sprintf("repeats recipients[%d].to", first[to]-1))
		default:
			first[to] = n + 1
		}
		tos[n] = to
		if e := checkVariables(cmd.TemplateID, r.Variables); e != "" {
			errs.add(at+"variables", e)
		}
	}
	return tos
}

// checkVariables returns what is wrong with a recipient's variables, "" if
// nothing.
func checkVariables(tpl ports.TemplateID, vars map[string]string) string {
	if len(vars) == 0 {
		return ""
	}
	if tpl == "" {
		return "are only used with templateId"
	}
	if len(vars) > MaxBulkVariables {
		return fmt.Sprintf("must hold at most %d variables", MaxBulkVariables)
	}
	for k, v := range vars {
		if k == "" || utf8.RuneCountInString(k) > MaxVariableLen || utf8.RuneCountInString(v) > MaxVariableLen {
			return fmt.Sprintf("names must be 1 to %d characters, values at most %d", MaxVariableLen, MaxVariableLen)
		}
		if !ports.ValidText(k) || !ports.ValidText(v) {
			return "must be valid UTF-8 without NUL characters"
		}
	}
	return ""
}

// bulkTexts returns each recipient's text: the bulk's text, or the
// subscription's template rendered with the recipient's variables. A
// template that is not the subscription's is EInvalid on templateId: it is
// a field of the request, not the resource the path names.
func (s *Service) bulkTexts(ctx context.Context, st ports.Stores, sub ports.SubscriptionID, cmd CreateBulkCmd) ([]string, error) {
	texts := make([]string, len(cmd.Recipients))
	if cmd.TemplateID == "" {
		for n := range texts {
			texts[n] = cmd.Text
		}
		return texts, nil
	}
	if s.d.Render == nil {
		return nil, ports.InvalidFields(ports.FieldError{Field: "templateId", Message: "templates are not available"})
	}
	t, err := st.Templates.GetTemplate(ctx, sub, cmd.TemplateID)
	if ports.IsCode(err, ports.ENotFound) {
		return nil, ports.InvalidFields(ports.FieldError{Field: "templateId", Message: "no such template"})
	}
	if err != nil {
		return nil, fmt.Errorf("get template: %w", err)
	}
	var errs fieldList
	for n, r := range cmd.Recipients {
		text, err := s.d.Render(t, r.Variables)
		if err == nil {
			texts[n] = text
			continue
		}
		e := ports.AsError(err)
		if e == nil || e.Code != ports.EInvalid {
			return nil, fmt.Errorf("render template for recipient %d: %w", n, err)
		}
		for _, f := range e.Fields {
			errs.add(fmt.Sprintf("recipients[%d].%s", n, f.Field), f.Message)
		}
	}
	return texts, errs.err()
}

// GetBulk returns a bulk with its progress. Users reach every bulk of
// their subscription; API keys need messages:read and reach their own
// instance's bulks only (another's is ENotFound).
func (s *Service) GetBulk(ctx context.Context, p ports.Principal, id ports.BulkID) (ports.BulkSummary, error) {
	b, err := s.readableBulk(ctx, p, id)
	if err != nil {
		return ports.BulkSummary{}, err
	}
	return s.summary(ctx, b)
}

// ListBulkMessages pages through a bulk's messages in recipient order,
// with GetBulk's rules.
func (s *Service) ListBulkMessages(ctx context.Context, p ports.Principal, id ports.BulkID, page ports.PageRequest) (ports.Page[ports.Message], error) {
	b, err := s.readableBulk(ctx, p, id)
	if err != nil {
		return ports.Page[ports.Message]{}, err
	}
	out, err := s.d.Stores.Bulks.ListBulkMessages(ctx, p.SubscriptionID, b.ID, page)
	if err != nil {
		return ports.Page[ports.Message]{}, fmt.Errorf("list bulk messages: %w", err)
	}
	return out, nil
}

func (s *Service) readableBulk(ctx context.Context, p ports.Principal, id ports.BulkID) (ports.Bulk, error) {
	if err := p.RequireScope(ports.ScopeMessagesRead); err != nil {
		return ports.Bulk{}, err
	}
	return s.ownBulk(ctx, p, id)
}

// ownBulk loads the bulk if the caller reaches it: an API key only its
// own instance's.
func (s *Service) ownBulk(ctx context.Context, p ports.Principal, id ports.BulkID) (ports.Bulk, error) {
	b, err := s.d.Stores.Bulks.GetBulk(ctx, p.SubscriptionID, id)
	if err != nil {
		return ports.Bulk{}, fmt.Errorf("get bulk: %w", err)
	}
	if p.CanActOn(b.InstanceID) != nil {
		return ports.Bulk{}, ports.Errorf(ports.ENotFound, "bulk not found")
	}
	return b, nil
}

// PauseBulk stops a running bulk after the send in flight, if any.
// EConflict unless it is running. API keys need messages:send.
func (s *Service) PauseBulk(ctx context.Context, p ports.Principal, id ports.BulkID) (ports.BulkSummary, error) {
	return s.changeBulk(ctx, p, id, func(_ context.Context, b *ports.Bulk, _ ports.Stores) error {
		if b.Status != ports.BulkRunning {
			return errBulkState(b.Status, "pause", "running")
		}
		b.Status = ports.BulkPaused
		return nil
	}, false)
}

// ResumeBulk starts a paused bulk's run again, at its first recipient not
// yet sent. EConflict unless it is paused.
func (s *Service) ResumeBulk(ctx context.Context, p ports.Principal, id ports.BulkID) (ports.BulkSummary, error) {
	return s.changeBulk(ctx, p, id, func(_ context.Context, b *ports.Bulk, _ ports.Stores) error {
		if b.Status != ports.BulkPaused {
			return errBulkState(b.Status, "resume", "paused")
		}
		// A new generation: a step of the paused run still waiting in the
		// queue must not run alongside the new one.
		b.Status, b.Generation = ports.BulkRunning, b.Generation+1
		if b.StartedAt == nil {
			now := s.d.Clock.Now()
			b.StartedAt = &now
		}
		return nil
	}, true)
}

// CancelBulk ends a bulk that has not ended: its recipients still queued
// fail with bulk_cancelled in the same transaction; a send in flight
// completes. EConflict for a completed or cancelled bulk.
func (s *Service) CancelBulk(ctx context.Context, p ports.Principal, id ports.BulkID) (ports.BulkSummary, error) {
	return s.changeBulk(ctx, p, id, func(ctx context.Context, b *ports.Bulk, st ports.Stores) error {
		if b.Status == ports.BulkCompleted || b.Status == ports.BulkCancelled {
			return errBulkState(b.Status, "cancel", "scheduled, running or paused")
		}
		now := s.d.Clock.Now()
		b.Status, b.CompletedAt = ports.BulkCancelled, &now
		return s.failQueued(ctx, st, *b, "bulk_cancelled", "the bulk was cancelled")
	}, false)
}

// failQueued fails b's recipients still queued with code and counts them
// failed in the statistics, in the caller's transaction: like any message,
// each counts once, when it fails.
func (s *Service) failQueued(ctx context.Context, st ports.Stores, b ports.Bulk, code, msg string) error {
	now := s.d.Clock.Now()
	n, err := st.Bulks.FailQueued(ctx, b.SubscriptionID, b.ID, code, msg, now)
	if err != nil {
		return fmt.Errorf("fail queued recipients: %w", err)
	}
	if n == 0 {
		return nil
	}
	if err := st.Stats.AddStats(ctx, b.SubscriptionID, b.InstanceID, now, ports.Counters{Failed: int64(n)}); err != nil {
		return fmt.Errorf("count failed recipients of %s: %w", b.ID, err)
	}
	return nil
}

// changeBulk applies an owner's status change under the bulk's lock
// (move gets the transaction's ctx and stores), announces it and, when run is set, enqueues the first step of the new
// generation.
func (s *Service) changeBulk(ctx context.Context, p ports.Principal, id ports.BulkID, move func(context.Context, *ports.Bulk, ports.Stores) error, run bool) (ports.BulkSummary, error) {
	if err := p.RequireScope(ports.ScopeMessagesSend); err != nil {
		return ports.BulkSummary{}, err
	}
	if _, err := s.ownBulk(ctx, p, id); err != nil {
		return ports.BulkSummary{}, err
	}
	var b ports.Bulk
	err := s.d.Tx.InTx(ctx, func(ctx context.Context, st ports.Stores) error {
		var err error
		b, err = st.Bulks.UpdateBulk(ctx, p.SubscriptionID, id, func(b *ports.Bulk) error {
			if err := move(ctx, b, st); err != nil {
				return err
			}
			b.UpdatedAt = s.d.Clock.Now()
			return nil
		})
		return err
	})
	if err != nil {
		return ports.BulkSummary{}, err
	}
	if run {
		if err := s.enqueueStep(ctx, b, s.d.Clock.Now()); err != nil {
			s.d.Log.Warn("enqueue bulk step; the bulk relay will retry", "bulk", string(b.ID), "err", err)
		}
	}
	return s.announce(ctx, b), nil
}

// summary adds the progress counts to b.
func (s *Service) summary(ctx context.Context, b ports.Bulk) (ports.BulkSummary, error) {
	c, err := s.d.Stores.Bulks.CountBulk(ctx, b.SubscriptionID, b.ID)
	if err != nil {
		return ports.BulkSummary{}, fmt.Errorf("count bulk: %w", err)
	}
	return ports.BulkSummary{Bulk: b, Counts: c}, nil
}

// announce publishes b's status with its progress and returns the summary.
// The change has happened: should the count fail, the summary goes out
// without progress rather than not at all.
func (s *Service) announce(ctx context.Context, b ports.Bulk) ports.BulkSummary {
	sum, err := s.summary(ctx, b)
	if err != nil {
		s.d.Log.Warn("count bulk for its event", "bulk", string(b.ID), "err", err)
		sum = ports.BulkSummary{Bulk: b}
	}
	s.publishBulk(ctx, sum)
	return sum
}

func (s *Service) publishBulk(ctx context.Context, sum ports.BulkSummary) {
	s.publish(ctx, ports.Event{Type: ports.EventBulkStatus, SubscriptionID: sum.SubscriptionID, InstanceID: sum.InstanceID, Data: sum})
}

func errBulkState(now ports.BulkStatus, verb, want string) error {
	return ports.Errorf(ports.EConflict, "cannot %s a bulk that is %s: it must be %s", verb, now, want)
}

// fieldList gathers field errors up to maxBulkFieldErrors, then counts
// the rest.
type fieldList struct {
	fields []ports.FieldError
	more   int
}

func (l *fieldList) add(field, msg string) {
	if len(l.fields) >= maxBulkFieldErrors {
		l.more++
		return
	}
	l.fields = append(l.fields, ports.FieldError{Field: field, Message: msg})
}

// err is the EInvalid of the gathered errors, nil if none.
func (l *fieldList) err() error {
	if len(l.fields) == 0 {
		return nil
	}
	fields := l.fields
	if l.more > 0 {
		fields = append(fields, ports.FieldError{Field: "recipients", Message: fmt.Sprintf("%d more errors not listed", l.more)})
	}
	return ports.InvalidFields(fields...)
}
