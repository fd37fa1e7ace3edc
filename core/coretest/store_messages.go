package coretest

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/wagate/wagate/ports"
)

var (
	_ ports.MessageStore  = view{}
	_ ports.MessageOutbox = view{}
)

// Outbox returns the system-level view of the send backlog, for use
// outside transactions.
func (s *Store) Outbox() ports.MessageOutbox { return view{s: s} }

// cloneMessage copies the time and location pointers, so that no caller
// shares them with the stored value.
func cloneMessage(m ports.Message) ports.Message {
	if m.Location != nil {
		l := *m.Location
		m.Location = &l
	}
	for _, t := range []**time.Time{&m.SentAt, &m.DeliveredAt, &m.ReadAt, &m.EditedAt, &m.DeletedAt} {
		if *t != nil {
			*t = timePtr(**t)
		}
	}
	m.Reactions, m.Mentions = slices.Clone(m.Reactions), slices.Clone(m.Mentions)
	return m
}

// stored rounds m's times as the real stores keep them: UTC at
// microsecond precision.
func stored(m ports.Message) ports.Message {
	m = cloneMessage(m)
	round := func(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
	m.CreatedAt, m.UpdatedAt = round(m.CreatedAt), round(m.UpdatedAt)
	for _, t := range []*time.Time{m.SentAt, m.DeliveredAt, m.ReadAt, m.EditedAt, m.DeletedAt} {
		if t != nil {
			*t = round(*t)
		}
	}
	for i := range m.Reactions {
		m.Reactions[i].At = round(m.Reactions[i].At)
	}
	return m
}

// CreateMessage stores m; EConflict if the id exists.
func (v view) CreateMessage(_ context.Context, sub ports.SubscriptionID, m ports.Message) error {
	d, done, err := v.enter("CreateMessage")
	if err != nil {
		return err
	}
	defer done()
	if _, ok := d.messages[m.ID]; ok {
		return ports.Errorf(ports.EConflict, "message already exists")
	}
	m.SubscriptionID = sub
	d.messages[m.ID] = stored(m)
	return nil
}

// GetMessage returns ENotFound if missing or another tenant's.
func (v view) GetMessage(_ context.Context, sub ports.SubscriptionID, id ports.MessageID) (ports.Message, error) {
	d, done, err := v.enter("GetMessage")
	if err != nil {
		return ports.Message{}, err
	}
	defer done()
	m, ok := d.messages[id]
	if !ok || m.SubscriptionID != sub {
		return ports.Message{}, notFound("message")
	}
	return cloneMessage(m), nil
}

// ListMessages pages through one instance's matching messages, newest
// first.
func (v view) ListMessages(_ context.Context, sub ports.SubscriptionID, f ports.MessageFilter, page ports.PageRequest) (ports.Page[ports.Message], error) {
	d, done, err := v.enter("ListMessages")
	if err != nil {
		return ports.Page[ports.Message]{}, err
	}
	defer done()
	var match []ports.Message
	for _, m := range d.messages {
		if m.SubscriptionID == sub && matches(m, f) {
			match = append(match, cloneMessage(m))
		}
	}
	// Ids are time-ordered: the largest is the newest.
	slices.SortFunc(match, func(a, b ports.Message) int { return strings.Compare(string(b.ID), string(a.ID)) })
	return pageOf(match, func(m ports.Message) string { return string(m.ID) }, page)
}

func matches(m ports.Message, f ports.MessageFilter) bool {
	return m.InstanceID == f.InstanceID &&
		(f.Direction == "" || m.Direction == f.Direction) &&
		(f.Status == "" || m.Status == f.Status) &&
		(f.Chat == "" || sameChatForm(m, f.Chat, f.ChatAlt)) &&
		(f.Since.IsZero() || !m.CreatedAt.Before(f.Since.Truncate(time.Microsecond)))
}

// FindMessageByWAID returns the instance's newest message with WhatsApp's
// id waID.
func (v view) FindMessageByWAID(_ context.Context, sub ports.SubscriptionID, inst ports.InstanceID, waID string) (ports.Message, error) {
	d, done, err := v.enter("FindMessageByWAID")
	if err != nil {
		return ports.Message{}, err
	}
	defer done()
	var found *ports.Message
	for _, m := range d.messages {
		if waID != "" && m.SubscriptionID == sub && m.InstanceID == inst && m.WAMessageID == waID &&
			(found == nil || m.ID > found.ID) {
			found = &m
		}
	}
	if found == nil {
		return ports.Message{}, notFound("message")
	}
	return cloneMessage(*found), nil
}

// UpdateMessage applies fn to a copy and stores it unless fn fails.
func (v view) UpdateMessage(_ context.Context, sub ports.SubscriptionID, id ports.MessageID, fn func(*ports.Message) error) (ports.Message, error) {
	d, done, err := v.enter("UpdateMessage")
	if err != nil {
		return ports.Message{}, err
	}
	defer done()
	m, ok := d.messages[id]
	if !ok || m.SubscriptionID != sub {
		return ports.Message{}, notFound("message")
	}
	m = cloneMessage(m)
	if err := fn(&m); err != nil {
		return ports.Message{}, err
	}
	m.ID, m.SubscriptionID = id, sub
	d.messages[id] = stored(m)
	return cloneMessage(d.messages[id]), nil
}

// ClaimKnown claims the message while it is still known.
func (v view) ClaimKnown(_ context.Context, known ports.Message, at, staleBefore time.Time, waID string) (ports.Message, bool, error) {
	if waID == "" {
		return ports.Message{}, false, ports.Errorf(ports.EInvalid, "claim message: no WhatsApp id")
	}
	d, done, err := v.enter("ClaimKnown")
	if err != nil {
		return ports.Message{}, false, err
	}
	defer done()
	m, ok := d.messages[known.ID]
	if !ok || m.SubscriptionID != known.SubscriptionID || m.Status != known.Status || !m.UpdatedAt.Equal(known.UpdatedAt) ||
		m.Attempts != known.Attempts || m.WAMessageID != known.WAMessageID {
		return ports.Message{}, false, nil
	}
	if !claimable(m, staleBefore) {
		return ports.Message{}, false, nil
	}
	return claim(d, m, at, waID), true, nil
}

// SetSendOutcome writes out's outcome columns while the message still
// has known's status and UpdatedAt.
func (v view) SetSendOutcome(_ context.Context, known, out ports.Message) (ports.Message, bool, error) {
	d, done, err := v.enter("SetSendOutcome")
	if err != nil {
		return ports.Message{}, false, err
	}
	defer done()
	m, ok := d.messages[known.ID]
	if !ok || m.SubscriptionID != known.SubscriptionID || m.Status != known.Status || !m.UpdatedAt.Equal(known.UpdatedAt) {
		return ports.Message{}, false, nil
	}
	d.messages[known.ID] = stored(cloneMessage(m).WithSendOutcome(out))
	return cloneMessage(d.messages[known.ID]), true, nil
}

// ClaimForSend moves a queued message, or a sending one claimed before
// staleBefore, to sending, counts an attempt and gives it waID unless it
// has a WhatsApp id.
func (v view) ClaimForSend(_ context.Context, sub ports.SubscriptionID, id ports.MessageID, at, staleBefore time.Time, waID string) (ports.Message, error) {
	if waID == "" {
		return ports.Message{}, ports.Errorf(ports.EInvalid, "claim message: no WhatsApp id")
	}
	d, done, err := v.enter("ClaimForSend")
	if err != nil {
		return ports.Message{}, err
	}
	defer done()
	m, ok := d.messages[id]
	if !ok || m.SubscriptionID != sub {
		return ports.Message{}, notFound("message")
	}
	if !claimable(m, staleBefore) {
		return ports.Message{}, ports.Errorf(ports.EConflict, "the message is %s, not queued or stale", m.Status)
	}
	return claim(d, m, at, waID), nil
}

// claimable reports whether m is queued, or sending with a claim from
// before staleBefore.
func claimable(m ports.Message, staleBefore time.Time) bool {
	stale := m.Status == ports.MsgSending && m.UpdatedAt.Before(staleBefore.Truncate(time.Microsecond))
	return m.Status == ports.MsgQueued || stale
}

// claim moves m to sending at at, counts an attempt and gives it waID
// unless it has a WhatsApp id.
func claim(d *state, m ports.Message, at time.Time, waID string) ports.Message {
	m = cloneMessage(m)
	m.Status, m.Attempts, m.UpdatedAt = ports.MsgSending, m.Attempts+1, at
	if m.WAMessageID == "" {
		m.WAMessageID = waID
	}
	d.messages[m.ID] = stored(m)
	return cloneMessage(d.messages[m.ID])
}

// NextToSend returns the instance's oldest outbound message, not of a
// bulk, that is queued or sending, with an id after after ("" for any).
func (v view) NextToSend(_ context.Context, sub ports.SubscriptionID, inst ports.InstanceID, after ports.MessageID) (ports.Message, error) {
	d, done, err := v.enter("NextToSend")
	if err != nil {
		return ports.Message{}, err
	}
	defer done()
	next := d.toSend(sub, inst, after)
	if len(next) == 0 {
		return ports.Message{}, notFound("message")
	}
	return next[0], nil
}

// FollowingToSend returns up to limit of the instance's messages that
// NextToSend would return, after after, oldest first.
func (v view) FollowingToSend(_ context.Context, sub ports.SubscriptionID, inst ports.InstanceID, after ports.MessageID, limit int) ([]ports.Message, error) {
	d, done, err := v.enter("FollowingToSend")
	if err != nil {
		return nil, err
	}
	defer done()
	next := d.toSend(sub, inst, after)
	return next[:min(len(next), max(limit, 0))], nil
}

// toSend returns copies of the instance's messages to send with an id
// after after, oldest first.
func (d *state) toSend(sub ports.SubscriptionID, inst ports.InstanceID, after ports.MessageID) []ports.Message {
	out := []ports.Message{}
	for _, m := range d.messages {
		if m.SubscriptionID == sub && m.InstanceID == inst && pending(m) && m.ID > after {
			out = append(out, cloneMessage(m))
		}
	}
	slices.SortFunc(out, func(a, b ports.Message) int { return strings.Compare(string(a.ID), string(b.ID)) })
	return out
}

// pending reports whether m is an outbound message, not of a bulk, that
// send jobs still have to send.
func pending(m ports.Message) bool {
	return m.Direction == ports.DirectionOutbound && m.BulkID == "" &&
		(m.Status == ports.MsgQueued || m.Status == ports.MsgSending)
}

// ListStuck returns queued or sending outbound messages, not of a bulk,
// last updated before olderThan, oldest first.
func (v view) ListStuck(_ context.Context, olderThan time.Time, limit int) ([]ports.Message, error) {
	d, done, err := v.enter("ListStuck")
	if err != nil {
		return nil, err
	}
	defer done()
	out := []ports.Message{}
	for _, m := range d.messages {
		if pending(m) && m.UpdatedAt.Before(olderThan.Truncate(time.Microsecond)) {
			out = append(out, cloneMessage(m))
		}
	}
	slices.SortFunc(out, func(a, b ports.Message) int { return byAge(a.UpdatedAt, b.UpdatedAt, string(a.ID), string(b.ID)) })
	return out[:min(max(limit, 0), len(out))], nil
}

// sameChatForm reports whether m's chat or chat LID is chat or alt.
func sameChatForm(m ports.Message, chat, alt string) bool {
	for _, c := range []string{m.Chat, m.ChatLID} {
		if c != "" && (c == chat || alt != "" && c == alt) {
			return true
		}
	}
	return false
}
