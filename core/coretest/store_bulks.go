package coretest

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/wagate/wagate/ports"
)

var (
	_ ports.BulkStore   = view{}
	_ ports.BulkBacklog = view{}
)

// BulkBacklog returns the system-level view of running bulks, for use
// outside transactions.
func (s *Store) BulkBacklog() ports.BulkBacklog { return view{s: s} }

// storedBulk rounds b's times as the real stores keep them and copies its
// time pointers.
func storedBulk(b ports.Bulk) ports.Bulk {
	round := func(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
	b.CreatedAt, b.UpdatedAt = round(b.CreatedAt), round(b.UpdatedAt)
	for _, t := range []**time.Time{&b.ScheduledAt, &b.StartedAt, &b.CompletedAt} {
		if *t != nil {
			*t = timePtr(round(**t))
		}
	}
	b.PacingMin, b.PacingMax = b.PacingMin.Truncate(time.Millisecond), b.PacingMax.Truncate(time.Millisecond)
	return b
}

// cloneBulk copies the time pointers, so that no caller shares them.
func cloneBulk(b ports.Bulk) ports.Bulk {
	for _, t := range []**time.Time{&b.ScheduledAt, &b.StartedAt, &b.CompletedAt} {
		if *t != nil {
			*t = timePtr(**t)
		}
	}
	return b
}

// CreateBulk stores b and its recipients; EConflict if an id exists,
// leaving nothing behind.
func (v view) CreateBulk(_ context.Context, sub ports.SubscriptionID, b ports.Bulk, recipients []ports.Message) error {
	d, done, err := v.enter("CreateBulk")
	if err != nil {
		return err
	}
	defer done()
	if _, ok := d.bulks[b.ID]; ok {
		return ports.Errorf(ports.EConflict, "bulk already exists")
	}
	seen := map[ports.MessageID]bool{}
	for _, m := range recipients {
		if _, ok := d.messages[m.ID]; ok || seen[m.ID] {
			return ports.Errorf(ports.EConflict, "message already exists")
		}
		seen[m.ID] = true
	}
	b.SubscriptionID = sub
	d.bulks[b.ID] = storedBulk(b)
	for _, m := range recipients {
		m.SubscriptionID, m.BulkID = sub, b.ID
		d.messages[m.ID] = stored(m)
	}
	return nil
}

// GetBulk returns ENotFound if missing or another tenant's.
func (v view) GetBulk(_ context.Context, sub ports.SubscriptionID, id ports.BulkID) (ports.Bulk, error) {
	d, done, err := v.enter("GetBulk")
	if err != nil {
		return ports.Bulk{}, err
	}
	defer done()
	b, ok := d.bulks[id]
	if !ok || b.SubscriptionID != sub {
		return ports.Bulk{}, notFound("bulk")
	}
	return cloneBulk(b), nil
}

// UpdateBulk applies fn to a copy and stores the fields the real stores
// update, unless fn fails.
func (v view) UpdateBulk(_ context.Context, sub ports.SubscriptionID, id ports.BulkID, fn func(*ports.Bulk) error) (ports.Bulk, error) {
	d, done, err := v.enter("UpdateBulk")
	if err != nil {
		return ports.Bulk{}, err
	}
	defer done()
	old, ok := d.bulks[id]
	if !ok || old.SubscriptionID != sub {
		return ports.Bulk{}, notFound("bulk")
	}
	b := cloneBulk(old)
	if err := fn(&b); err != nil {
		return ports.Bulk{}, err
	}
	next := old
	next.Status, next.Generation, next.UpdatedAt = b.Status, b.Generation, b.UpdatedAt
	next.StartedAt, next.CompletedAt = b.StartedAt, b.CompletedAt
	d.bulks[id] = storedBulk(next)
	return cloneBulk(d.bulks[id]), nil
}

// CountBulk counts the bulk's messages by status.
func (v view) CountBulk(_ context.Context, sub ports.SubscriptionID, id ports.BulkID) (ports.BulkCounts, error) {
	d, done, err := v.enter("CountBulk")
	if err != nil {
		return ports.BulkCounts{}, err
	}
	defer done()
	var c ports.BulkCounts
	for _, m := range d.messages {
		if m.BulkID != id || m.SubscriptionID != sub {
			continue
		}
		switch m.Status {
		case ports.MsgQueued, ports.MsgSending:
			c.Queued++
		case ports.MsgSent:
			c.Sent++
		case ports.MsgDelivered:
			c.Delivered++
		case ports.MsgRead:
			c.Read++
		case ports.MsgFailed:
			c.Failed++
		}
	}
	return c, nil
}

// bulkMessages returns the bulk's messages that keep, in BulkSeq order.
func (d *state) bulkMessages(sub ports.SubscriptionID, id ports.BulkID, keep func(ports.Message) bool) []ports.Message {
	var out []ports.Message
	for _, m := range d.messages {
		if m.BulkID == id && m.SubscriptionID == sub && keep(m) {
			out = append(out, cloneMessage(m))
		}
	}
	slices.SortFunc(out, func(a, b ports.Message) int { return a.BulkSeq - b.BulkSeq })
	return out
}

// NextRecipient returns the bulk's queued or sending message with the
// lowest BulkSeq.
func (v view) NextRecipient(_ context.Context, sub ports.SubscriptionID, id ports.BulkID) (ports.Message, error) {
	d, done, err := v.enter("NextRecipient")
	if err != nil {
		return ports.Message{}, err
	}
	defer done()
	left := d.bulkMessages(sub, id, func(m ports.Message) bool {
		return m.Status == ports.MsgQueued || m.Status == ports.MsgSending
	})
	if len(left) == 0 {
		return ports.Message{}, notFound("recipient")
	}
	return left[0], nil
}

// FailQueued fails the bulk's queued messages.
func (v view) FailQueued(_ context.Context, sub ports.SubscriptionID, id ports.BulkID, code, msg string, at time.Time) (int, error) {
	d, done, err := v.enter("FailQueued")
	if err != nil {
		return 0, err
	}
	defer done()
	n := 0
	for _, m := range d.bulkMessages(sub, id, func(m ports.Message) bool { return m.Status == ports.MsgQueued }) {
		m.Status, m.ErrorCode, m.ErrorMessage, m.UpdatedAt = ports.MsgFailed, code, msg, at
		d.messages[m.ID] = stored(m)
		n++
	}
	return n, nil
}

// ListBulkMessages pages through the bulk's messages in BulkSeq order.
func (v view) ListBulkMessages(_ context.Context, sub ports.SubscriptionID, id ports.BulkID, page ports.PageRequest) (ports.Page[ports.Message], error) {
	d, done, err := v.enter("ListBulkMessages")
	if err != nil {
		return ports.Page[ports.Message]{}, err
	}
	defer done()
	all := d.bulkMessages(sub, id, func(ports.Message) bool { return true })
	return pageOf(all, func(m ports.Message) string { return strconv.Itoa(m.BulkSeq) }, page)
}

// ListIdleBulks returns running or scheduled bulks last updated before
// olderThan, oldest first.
func (v view) ListIdleBulks(_ context.Context, olderThan time.Time, limit int) ([]ports.Bulk, error) {
	d, done, err := v.enter("ListIdleBulks")
	if err != nil {
		return nil, err
	}
	defer done()
	out := []ports.Bulk{}
	for _, b := range d.bulks {
		if (b.Status == ports.BulkRunning || b.Status == ports.BulkScheduled) && b.UpdatedAt.Before(olderThan.Truncate(time.Microsecond)) {
			out = append(out, cloneBulk(b))
		}
	}
	slices.SortFunc(out, func(a, b ports.Bulk) int { return byAge(a.UpdatedAt, b.UpdatedAt, string(a.ID), string(b.ID)) })
	return out[:min(max(limit, 0), len(out))], nil
}
