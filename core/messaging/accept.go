package messaging

import (
	"context"
	"fmt"
	"strings"

	"github.com/wagate/wagate/ports"
)

// MaxTextLen is the longest text message, in characters.
const MaxTextLen = 4096

// SendTextCmd is a text message to send.
type SendTextCmd struct {
	To      string // phone number or JID
	Text    string
	ReplyTo string // a WhatsApp message id, or one of our message ids of the instance
	// Mentions are phone numbers, each written @number in Text.
	Mentions []string
	// MentionAll, in a group, mentions every participant.
	MentionAll bool
	// NoLinkPreview sends a URL in Text without its preview.
	NoLinkPreview bool
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
	to, toErr := NormaliseTo(cmd.To)
	mentions, mentionErr := checkMentions(cmd.Mentions, cmd.Text)
	if err := ports.FieldErrors(toErr, CheckText(cmd.Text), checkReplyTo(cmd.ReplyTo), mentionErr); err != nil {
		return ports.Message{}, err
	}
	mentions, err := s.withMentionAll(ctx, p, inst, to, cmd.MentionAll, mentions)
	if err != nil {
		return ports.Message{}, err
	}
	draft := ports.Message{To: to, Type: ports.MessageText, Text: cmd.Text, Mentions: mentions, NoLinkPreview: cmd.NoLinkPreview}
	return s.accept(ctx, p, inst, draft, cmd.ReplyTo, cmd.Idempotency)
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
	// after the write would. So may the check be a second old (the
	// instance cache).
	i, err := s.instances.get(ctx, s.d.Stores.Instances, s.d.Clock.Now(), p.SubscriptionID, inst)
	if err != nil {
		return ports.Message{}, fmt.Errorf("get instance: %w", err)
	}
	if i.Status == ports.StatusCreated || i.Status == ports.StatusLoggedOut {
		return ports.Message{}, ErrNotConnected()
	}
	reply, err := s.resolveReply(ctx, s.d.Stores.Messages, p.SubscriptionID, inst, replyTo)
	if err != nil {
		return ports.Message{}, err
	}
	now := s.d.Clock.Now()
	m := draft
	m.ID, m.SubscriptionID, m.InstanceID = ports.MessageID(s.d.IDs.NewID()), p.SubscriptionID, inst
	m.Direction, m.Chat, m.From, m.Status = ports.DirectionOutbound, draft.To, i.JID, ports.MsgQueued
	if isLID(draft.To) {
		m.ChatLID = draft.To // sent as asked, to the LID; reported by number
		m.To = s.phoneForLID(ctx, draft.To)
		m.Chat = m.To
	}
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
	// After the commit: the row is the outbox. A run of this process
	// that drains the instance, or one of the instance's jobs still to
	// start, sends it, so it needs no job of its own (needsJob); should
	// that run stop first, its job comes back for the rest, and after a
	// crash the relay enqueues what is left. Should the enqueue fail, the
	// message stays queued and the relay enqueues it later, so the
	// caller still gets its 202.
	if !s.pace.needsJob(inst, s.owns(inst)) {
		return m, nil
	}
	if err := s.enqueue(ctx, m); err != nil {
		s.pace.unqueued(inst)
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

// CheckText checks the text of a message: 1 to MaxTextLen characters,
// not only spaces.
func CheckText(text string) *ports.FieldError {
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

// ErrNotConnected is the conflict of a send from an instance never linked
// or logged out.
func ErrNotConnected() error {
	return ports.ReasonError(ports.EConflict, "instance_not_connected", "the instance is not connected to WhatsApp")
}
