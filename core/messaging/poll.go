package messaging

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"

	"github.com/wagate/wagate/ports"
)

// Limits of polls (SPEC §6a; WhatsApp's own limits).
const (
	MinPollOptions  = 2
	MaxPollOptions  = 12
	MaxPollQuestion = 255
	MaxPollOption   = 100
	// maxPollVoters bounds the votes kept on one poll: beyond it new
	// voters are not counted (a poll in a huge group), old ones may change.
	maxPollVoters = 1024
)

// SendPollCmd is a poll to send.
type SendPollCmd struct {
	To              string
	Question        string
	Options         []string
	MultipleAnswers bool
	Reply
	Idempotency *ports.IdempotencyClaim[ports.Message] // as in SendTextCmd
}

// SendPoll accepts a poll: a question and 2–12 unique options, single or
// multiple answers. The errors of SendText.
func (s *Service) SendPoll(ctx context.Context, p ports.Principal, inst ports.InstanceID, cmd SendPollCmd) (ports.Message, error) {
	if err := canSend(p, inst); err != nil {
		return ports.Message{}, err
	}
	to, toErr := NormaliseTo(cmd.To)
	mentions, replyErrs := cmd.check("", false)
	errs := append([]*ports.FieldError{toErr, checkRequired("question", cmd.Question, MaxPollQuestion)}, replyErrs...)
	if err := ports.FieldErrors(append(errs, checkPollOptions(cmd.Options)...)...); err != nil {
		return ports.Message{}, err
	}
	poll := &ports.Poll{Question: cmd.Question, Options: slices.Clone(cmd.Options), MultipleAnswers: cmd.MultipleAnswers}
	mentions, err := s.withMentionAll(ctx, p, inst, to, cmd.MentionAll, mentions)
	if err != nil {
		return ports.Message{}, err
	}
	draft := ports.Message{To: to, Type: ports.MessagePoll, Poll: poll, Mentions: mentions}
	return s.accept(ctx, p, inst, draft, cmd.ReplyTo, cmd.Idempotency)
}

// CheckPoll returns the field errors of a poll's question and options
// (nil when they are fine), under the given field prefix ("poll." for the
// sandbox's polls).
func CheckPoll(prefix, question string, options []string) error {
	errs := append([]*ports.FieldError{checkRequired("question", question, MaxPollQuestion)}, checkPollOptions(options)...)
	for _, e := range errs {
		if e != nil {
			e.Field = prefix + e.Field
		}
	}
	return ports.FieldErrors(errs...)
}

func checkRequired(field, v string, maxLen int) *ports.FieldError {
	if strings.TrimSpace(v) == "" {
		return &ports.FieldError{Field: field, Message: "is required"}
	}
	return ports.CheckText(field, v, maxLen)
}

func checkPollOptions(opts []string) []*ports.FieldError {
	if len(opts) < MinPollOptions || len(opts) > MaxPollOptions {
		return []*ports.FieldError{{Field: "options", Message: fmt.Sprintf("must hold %d to %d options", MinPollOptions, MaxPollOptions)}}
	}
	var errs []*ports.FieldError
	seen := map[string]bool{}
	for i, o := range opts {
		f := fmt.Sprintf("options[%d]", i)
		errs = append(errs, checkRequired(f, o, MaxPollOption))
		if seen[o] {
			errs = append(errs, &ports.FieldError{Field: f, Message: "repeats another option"})
		}
		seen[o] = true
	}
	return errs
}

// Tally is one option of a poll with its votes.
type Tally struct {
	Name   string
	Voters []string // JIDs, in the order they voted
}

// PollTallies returns a poll message's options with who chose each. The
// access rules of Get; ENotFound also for a message that is no poll.
func (s *Service) PollTallies(ctx context.Context, p ports.Principal, inst ports.InstanceID, id ports.MessageID) ([]Tally, error) {
	m, err := s.Get(ctx, p, inst, id)
	if err != nil {
		return nil, err
	}
	if m.Poll == nil {
		return nil, ports.Errorf(ports.ENotFound, "the message is not a poll")
	}
	out := make([]Tally, len(m.Poll.Options))
	for i, o := range m.Poll.Options {
		out[i] = Tally{Name: o, Voters: []string{}}
		for _, v := range m.Poll.Votes {
			if slices.Contains(v.Selected, o) {
				out[i].Voters = append(out[i].Voters, v.Voter)
			}
		}
	}
	return out, nil
}

// onPollVote records a contact's vote on a stored poll (its latest vote
// replaces the earlier one) and announces it. A vote on a poll we do not
// have is dropped: there are no options to name its hashes with.
func (s *Service) onPollVote(ctx context.Context, ev ports.WAEvent) error {
	v := ev.PollVote
	poll, err := s.d.Stores.Messages.FindMessageByWAID(ctx, ev.Subscription, ev.Instance, v.PollWAID)
	if ports.IsCode(err, ports.ENotFound) {
		s.d.Log.Debug("vote on an unknown poll dropped", "instance", string(ev.Instance))
		return nil
	}
	if err != nil {
		return fmt.Errorf("find poll %s: %w", v.PollWAID, err)
	}
	from := ports.CleanText(v.From)
	at := v.Timestamp
	if at.IsZero() {
		at = s.d.Clock.Now()
	}
	var data ports.PollVoteData
	err = s.d.Tx.InTx(ctx, func(ctx context.Context, st ports.Stores) error {
		m, err := st.Messages.UpdateMessage(ctx, ev.Subscription, poll.ID, func(m *ports.Message) error {
			if m.Poll == nil {
				return ports.Errorf(ports.EInvalid, "message %s is not a poll", m.ID)
			}
			data = ports.PollVoteData{MessageID: m.ID, From: from, Selected: optionsOf(m.Poll.Options, v.Selected)}
			return castVote(m.Poll, ports.PollVote{Voter: from, Selected: data.Selected, At: at})
		})
		if err != nil {
			return err
		}
		_, err = s.d.Events.Append(ctx, st, ports.EventMessagePollVote, m.SubscriptionID, m.InstanceID, data)
		return err
	})
	if ports.IsCode(err, ports.EInvalid) {
		s.d.Log.Debug("vote not recorded", "instance", string(ev.Instance), "err", err)
		return nil
	}
	if err == nil {
		s.d.Events.Wake(ctx, ev.Subscription)
	}
	return err
}

// optionsOf names the options whose SHA-256 hash is among hashes (how
// WhatsApp carries a vote), in the poll's order.
func optionsOf(options []string, hashes [][]byte) []string {
	out := []string{}
	for _, o := range options {
		sum := sha256.Sum256([]byte(o))
		if slices.ContainsFunc(hashes, func(h []byte) bool { return string(h) == string(sum[:]) }) {
			out = append(out, o)
		}
	}
	return out
}

// castVote replaces the voter's earlier vote, or adds it.
func castVote(p *ports.Poll, v ports.PollVote) error {
	for i := range p.Votes {
		if p.Votes[i].Voter == v.Voter {
			p.Votes[i] = v
			return nil
		}
	}
	if len(p.Votes) >= maxPollVoters {
		return ports.Errorf(ports.EInvalid, "the poll has %d voters already", maxPollVoters)
	}
	p.Votes = append(p.Votes, v)
	return nil
}
