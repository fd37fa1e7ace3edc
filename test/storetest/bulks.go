package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wagate/wagate/ports"
)

// BulkBackend is a Backend that also offers the system-level view of
// running bulks.
type BulkBackend interface {
	Backend
	BulkBacklog() ports.BulkBacklog
}

// RunBulks runs the conformance tests of ports.BulkStore and
// ports.BulkBacklog. open is called once per test and must return an
// empty, migrated backend of its own, closed when t ends.
func RunBulks(t *testing.T, open func(t *testing.T) BulkBackend) {
	tests := []struct {
		name string
		fn   func(t *testing.T, f *fixture, bl ports.BulkBacklog)
	}{
		{"CreateGet", testBulkCreateGet},
		{"Create10000", testBulkCreateLarge},
		{"CreateRollsBack", testBulkCreateRollsBack},
		{"Update", testBulkUpdate},
		{"Counts", testBulkCounts},
		{"NextRecipient", testBulkNextRecipient},
		{"FailQueued", testBulkFailQueued},
		{"ListMessages", testBulkListMessages},
		{"ListIdle", testBulkListIdle},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := open(t)
			tc.fn(t, &fixture{t: t, ctx: t.Context(), b: b, s: b.Stores()}, b.BulkBacklog())
		})
	}
}

// bulk stores a running text bulk of inst with n queued recipients,
// updated at the given time.
func (f *fixture) bulk(inst ports.Instance, n int, updated time.Time) (ports.Bulk, []ports.Message) {
	f.t.Helper()
	b, msgs := newBulk(inst, n, updated)
	err := f.b.InTx(f.ctx, func(ctx context.Context, s ports.Stores) error {
		return s.Bulks.CreateBulk(ctx, inst.SubscriptionID, b, msgs)
	})
	if err != nil {
		f.t.Fatalf("create bulk: %v", err)
	}
	return b, msgs
}

func newBulk(inst ports.Instance, n int, at time.Time) (ports.Bulk, []ports.Message) {
	b := ports.Bulk{
		ID: ports.BulkID(newID()), SubscriptionID: inst.SubscriptionID, InstanceID: inst.ID, Status: ports.BulkRunning,
		Text: "hello", Total: n, PacingMin: time.Second, PacingMax: 3 * time.Second, Generation: 0,
		CreatedAt: at, UpdatedAt: at, StartedAt: &at,
	}
	msgs := make([]ports.Message, n)
	for i := range msgs {
		to := fmt.Sprintf("1555%07d@s.whatsapp.net", i)
		msgs[i] = ports.Message{
			ID: ports.MessageID(newID()), SubscriptionID: inst.SubscriptionID, InstanceID: inst.ID,
			Direction: ports.DirectionOutbound, Chat: to, To: to, From: inst.JID, Type: ports.MessageText,
			Text: fmt.Sprintf("hello %d", i), Status: ports.MsgQueued, CreatedAt: at, UpdatedAt: at, BulkID: b.ID, BulkSeq: i,
		}
	}
	return b, msgs
}

// setStatus moves a message to st.
func (f *fixture) setStatus(sub ports.SubscriptionID, id ports.MessageID, st ports.MessageStatus) {
	f.t.Helper()
	if _, err := f.s.Messages.UpdateMessage(f.ctx, sub, id, func(m *ports.Message) error {
		m.Status = st
		return nil
	}); err != nil {
		f.t.Fatalf("update message: %v", err)
	}
}

func roundTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func testBulkCreateGet(t *testing.T, f *fixture, _ ports.BulkBacklog) {
	sub, other := f.subscription(), f.subscription()
	inst := f.instance(sub.ID, "one")
	at := base.Add(time.Hour)
	b, msgs := newBulk(inst, 3, base)
	b.Status, b.TemplateID, b.Text, b.ScheduledAt, b.StartedAt = ports.BulkScheduled, "tpl-1", "", &at, nil
	if err := f.s.Bulks.CreateBulk(f.ctx, sub.ID, b, msgs); err != nil {
		t.Fatalf("create bulk outside a transaction: %v", err)
	}
	got, err := f.s.Bulks.GetBulk(f.ctx, sub.ID, b.ID)
	if err != nil {
		t.Fatalf("get bulk: %v", err)
	}
	want := b
	rat := roundTime(at)
	want.CreatedAt, want.UpdatedAt, want.ScheduledAt = roundTime(base), roundTime(base), &rat
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("get bulk (-want +got):\n%s", diff)
	}
	m, err := f.s.Messages.GetMessage(f.ctx, sub.ID, msgs[2].ID)
	if err != nil || m.BulkID != b.ID || m.BulkSeq != 2 || m.Text != "hello 2" || m.Status != ports.MsgQueued {
		t.Errorf("recipient 2: got %+v, %v; want queued with bulk %s and seq 2", m, err, b.ID)
	}
	wantCode(t, "get another tenant's", errOnly(f.s.Bulks.GetBulk(f.ctx, other.ID, b.ID)), ports.ENotFound)
	wantCode(t, "create a duplicate id", f.s.Bulks.CreateBulk(f.ctx, sub.ID, b, nil), ports.EConflict)
}

// testBulkCreateLarge writes the largest bulk SPEC allows in one
// transaction and logs how long it took (a figure, not a limit).
func testBulkCreateLarge(t *testing.T, f *fixture, _ ports.BulkBacklog) {
	sub := f.subscription()
	inst := f.instance(sub.ID, "one")
	start := time.Now()
	b, msgs := f.bulk(inst, 10_000, base)
	t.Logf("created a bulk of %d recipients in %v", len(msgs), time.Since(start))
	c, err := f.s.Bulks.CountBulk(f.ctx, sub.ID, b.ID)
	if err != nil || c != (ports.BulkCounts{Queued: 10_000}) {
		t.Errorf("counts: got %+v, %v; want 10000 queued", c, err)
	}
	last, err := f.s.Messages.GetMessage(f.ctx, sub.ID, msgs[9_999].ID)
	if err != nil || last.BulkSeq != 9_999 || last.To != msgs[9_999].To {
		t.Errorf("last recipient: got %+v, %v; want seq 9999 to %s", last, err, msgs[9_999].To)
	}
}

func testBulkCreateRollsBack(t *testing.T, f *fixture, _ ports.BulkBacklog) {
	sub := f.subscription()
	inst := f.instance(sub.ID, "one")
	taken := f.message(inst, base, nil)
	b, msgs := newBulk(inst, 2100, base)
	msgs[2050].ID = taken.ID // past the first batch of every store
	err := f.b.InTx(f.ctx, func(ctx context.Context, s ports.Stores) error {
		return s.Bulks.CreateBulk(ctx, sub.ID, b, msgs)
	})
	wantCode(t, "create with a taken message id", err, ports.EConflict)
	wantCode(t, "get the bulk that failed", errOnly(f.s.Bulks.GetBulk(f.ctx, sub.ID, b.ID)), ports.ENotFound)
	wantCode(t, "get its first recipient", errOnly(f.s.Messages.GetMessage(f.ctx, sub.ID, msgs[0].ID)), ports.ENotFound)
}

func testBulkUpdate(t *testing.T, f *fixture, _ ports.BulkBacklog) {
	sub, other := f.subscription(), f.subscription()
	inst := f.instance(sub.ID, "one")
	b, _ := f.bulk(inst, 1, base)
	done := base.Add(time.Minute)
	got, err := f.s.Bulks.UpdateBulk(f.ctx, sub.ID, b.ID, func(x *ports.Bulk) error {
		x.Status, x.Generation, x.UpdatedAt, x.CompletedAt, x.StartedAt = ports.BulkCompleted, 7, done, &done, nil
		return nil
	})
	if err != nil {
		t.Fatalf("update bulk: %v", err)
	}
	again, _ := f.s.Bulks.GetBulk(f.ctx, sub.ID, b.ID)
	rd := roundTime(done)
	for _, g := range []ports.Bulk{got, again} {
		if g.Status != ports.BulkCompleted || g.Generation != 7 || !g.UpdatedAt.Equal(rd) || g.CompletedAt == nil || !g.CompletedAt.Equal(rd) || g.StartedAt != nil {
			t.Errorf("got %+v, want completed, generation 7, completed at %v, not started", g, rd)
		}
	}
	boom := errors.New("boom")
	if _, err := f.s.Bulks.UpdateBulk(f.ctx, sub.ID, b.ID, func(x *ports.Bulk) error { x.Status = ports.BulkPaused; return boom }); !errors.Is(err, boom) {
		t.Errorf("fn's error: got %v, want it returned", err)
	}
	if g, _ := f.s.Bulks.GetBulk(f.ctx, sub.ID, b.ID); g.Status != ports.BulkCompleted {
		t.Errorf("after a failed update: got %s, want completed", g.Status)
	}
	wantCode(t, "update another tenant's", errOnly(f.s.Bulks.UpdateBulk(f.ctx, other.ID, b.ID, func(*ports.Bulk) error { return nil })), ports.ENotFound)
}

func testBulkCounts(t *testing.T, f *fixture, _ ports.BulkBacklog) {
	sub, other := f.subscription(), f.subscription()
	inst := f.instance(sub.ID, "one")
	b, msgs := f.bulk(inst, 7, base)
	f.bulk(inst, 2, base) // another bulk: not counted
	f.message(inst, base, nil)
	for i, st := range []ports.MessageStatus{ports.MsgSending, ports.MsgSent, ports.MsgDelivered, ports.MsgRead, ports.MsgFailed} {
		f.setStatus(sub.ID, msgs[i].ID, st)
	}
	c, err := f.s.Bulks.CountBulk(f.ctx, sub.ID, b.ID)
	if want := (ports.BulkCounts{Queued: 3, Sent: 1, Delivered: 1, Read: 1, Failed: 1}); err != nil || c != want {
		t.Errorf("counts: got %+v, %v; want %+v", c, err, want)
	}
	if c, err := f.s.Bulks.CountBulk(f.ctx, other.ID, b.ID); err != nil || c != (ports.BulkCounts{}) {
		t.Errorf("another tenant's counts: got %+v, %v; want zero", c, err)
	}
}

func testBulkNextRecipient(t *testing.T, f *fixture, _ ports.BulkBacklog) {
	sub, other := f.subscription(), f.subscription()
	inst := f.instance(sub.ID, "one")
	b, msgs := f.bulk(inst, 4, base)
	next := func() ports.Message {
		t.Helper()
		m, err := f.s.Bulks.NextRecipient(f.ctx, sub.ID, b.ID)
		if err != nil {
			t.Fatalf("next recipient: %v", err)
		}
		return m
	}
	if m := next(); m.ID != msgs[0].ID {
		t.Errorf("first: got seq %d, want 0", m.BulkSeq)
	}
	f.setStatus(sub.ID, msgs[0].ID, ports.MsgSent)
	f.setStatus(sub.ID, msgs[2].ID, ports.MsgFailed)
	if m := next(); m.ID != msgs[1].ID {
		t.Errorf("after 0 sent: got seq %d, want 1", m.BulkSeq)
	}
	f.setStatus(sub.ID, msgs[1].ID, ports.MsgSending)
	if m := next(); m.ID != msgs[1].ID || m.Status != ports.MsgSending {
		t.Errorf("with 1 sending: got seq %d %s, want 1 sending (to wait for or take over)", m.BulkSeq, m.Status)
	}
	f.setStatus(sub.ID, msgs[1].ID, ports.MsgDelivered)
	if m := next(); m.ID != msgs[3].ID {
		t.Errorf("after 1 delivered, 2 failed: got seq %d, want 3", m.BulkSeq)
	}
	wantCode(t, "another tenant's", errOnly(f.s.Bulks.NextRecipient(f.ctx, other.ID, b.ID)), ports.ENotFound)
	f.setStatus(sub.ID, msgs[3].ID, ports.MsgRead)
	wantCode(t, "none left", errOnly(f.s.Bulks.NextRecipient(f.ctx, sub.ID, b.ID)), ports.ENotFound)
}

func testBulkFailQueued(t *testing.T, f *fixture, _ ports.BulkBacklog) {
	sub, other := f.subscription(), f.subscription()
	inst := f.instance(sub.ID, "one")
	b, msgs := f.bulk(inst, 5, base)
	_, others := f.bulk(inst, 1, base)
	single := f.message(inst, base, nil)
	f.setStatus(sub.ID, msgs[0].ID, ports.MsgSent)
	f.setStatus(sub.ID, msgs[1].ID, ports.MsgSending)
	if n, err := f.s.Bulks.FailQueued(f.ctx, other.ID, b.ID, "bulk_cancelled", "x", base); n != 0 || err != nil {
		t.Errorf("another tenant's: got %d, %v; want 0", n, err)
	}
	at := base.Add(time.Minute)
	n, err := f.s.Bulks.FailQueued(f.ctx, sub.ID, b.ID, "bulk_cancelled", "the bulk was cancelled", at)
	if n != 3 || err != nil {
		t.Fatalf("fail queued: got %d, %v; want 3", n, err)
	}
	want := []ports.MessageStatus{ports.MsgSent, ports.MsgSending, ports.MsgFailed, ports.MsgFailed, ports.MsgFailed}
	for i, m := range msgs {
		got, _ := f.s.Messages.GetMessage(f.ctx, sub.ID, m.ID)
		if got.Status != want[i] {
			t.Errorf("recipient %d: got %s, want %s", i, got.Status, want[i])
		}
		if want[i] == ports.MsgFailed && (got.ErrorCode != "bulk_cancelled" || got.ErrorMessage != "the bulk was cancelled" || !got.UpdatedAt.Equal(roundTime(at))) {
			t.Errorf("recipient %d: got %q %q at %v, want bulk_cancelled at %v", i, got.ErrorCode, got.ErrorMessage, got.UpdatedAt, at)
		}
	}
	for _, id := range []ports.MessageID{others[0].ID, single.ID} {
		if got, _ := f.s.Messages.GetMessage(f.ctx, sub.ID, id); got.Status != ports.MsgQueued {
			t.Errorf("message %s outside the bulk: got %s, want queued", id, got.Status)
		}
	}
}

func testBulkListMessages(t *testing.T, f *fixture, _ ports.BulkBacklog) {
	sub, other := f.subscription(), f.subscription()
	inst := f.instance(sub.ID, "one")
	b, msgs := f.bulk(inst, 12, base)
	f.bulk(inst, 3, base)
	var seen []int
	page := ports.PageRequest{Limit: 5}
	for range 5 {
		p, err := f.s.Bulks.ListBulkMessages(f.ctx, sub.ID, b.ID, page)
		if err != nil {
			t.Fatalf("list bulk messages: %v", err)
		}
		for _, m := range p.Items {
			seen = append(seen, m.BulkSeq)
			if m.ID != msgs[m.BulkSeq].ID {
				t.Errorf("seq %d: got message %s, want %s", m.BulkSeq, m.ID, msgs[m.BulkSeq].ID)
			}
		}
		if p.Next == "" {
			break
		}
		page.After = p.Next
	}
	if want := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}; !cmp.Equal(seen, want) {
		t.Errorf("paged seqs: got %v, want %v", seen, want)
	}
	wantCode(t, "a bad cursor", errOnly(f.s.Bulks.ListBulkMessages(f.ctx, sub.ID, b.ID, ports.PageRequest{After: "!!"})), ports.EInvalid)
	if p, err := f.s.Bulks.ListBulkMessages(f.ctx, other.ID, b.ID, ports.PageRequest{}); err != nil || len(p.Items) != 0 {
		t.Errorf("another tenant's: got %d items, %v; want none", len(p.Items), err)
	}
}

func testBulkListIdle(t *testing.T, f *fixture, bl ports.BulkBacklog) {
	sub, other := f.subscription(), f.subscription()
	inst, inst2 := f.instance(sub.ID, "one"), f.instance(other.ID, "two")
	old, _ := f.bulk(inst, 1, base)
	older, _ := f.bulk(inst2, 1, base.Add(-time.Minute))
	f.bulk(inst, 1, base.Add(time.Hour)) // recent
	sched, _ := f.bulk(inst, 1, base.Add(time.Second))
	paused, _ := f.bulk(inst, 1, base)
	done, _ := f.bulk(inst, 1, base)
	for id, st := range map[ports.BulkID]ports.BulkStatus{sched.ID: ports.BulkScheduled, paused.ID: ports.BulkPaused, done.ID: ports.BulkCompleted} {
		if _, err := f.s.Bulks.UpdateBulk(f.ctx, sub.ID, id, func(b *ports.Bulk) error { b.Status = st; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	got, err := bl.ListIdleBulks(f.ctx, base.Add(time.Minute), 10)
	if err != nil {
		t.Fatalf("list idle bulks: %v", err)
	}
	var ids []ports.BulkID
	for _, b := range got {
		ids = append(ids, b.ID)
	}
	if want := []ports.BulkID{older.ID, old.ID, sched.ID}; !cmp.Equal(ids, want) {
		t.Errorf("idle bulks: got %v, want %v (oldest first, every tenant, running or scheduled)", ids, want)
	}
	if got, _ := bl.ListIdleBulks(f.ctx, base.Add(time.Minute), 1); len(got) != 1 || got[0].ID != older.ID {
		t.Errorf("limit 1: got %d bulks, want the oldest", len(got))
	}
	if got, err := bl.ListIdleBulks(f.ctx, base.Add(time.Minute), 0); err != nil || len(got) != 0 {
		t.Errorf("limit 0: got %d, %v; want none", len(got), err)
	}
}
