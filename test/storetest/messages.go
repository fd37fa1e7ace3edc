package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wagate/wagate/ports"
)

// OutboxBackend is a Backend that also offers the system-level view of the
// send backlog.
type OutboxBackend interface {
	Backend
	Outbox() ports.MessageOutbox
}

// RunMessages runs the conformance tests of ports.MessageStore and
// ports.MessageOutbox. open is called once per test and must return an
// empty, migrated backend of its own, closed when t ends.
func RunMessages(t *testing.T, open func(t *testing.T) OutboxBackend) {
	tests := []struct {
		name string
		fn   func(t *testing.T, f *fixture, out ports.MessageOutbox)
	}{
		{"CreateGet", testMessageCreateGet},
		{"ListFiltersAndPaging", testMessageList},
		{"FindByWAID", testMessageFindByWAID},
		{"Update", testMessageUpdate},
		{"ClaimForSend", testMessageClaim},
		{"ClaimConcurrently", testMessageClaimRace},
		{"ReclaimStale", testMessageReclaim},
		{"ReclaimConcurrently", testMessageReclaimRace},
		{"SendOutcome", testMessageSendOutcome},
		{"ClaimKnown", testMessageClaimKnown},
		{"NextToSend", testMessageNextToSend},
		{"ListStuck", testMessageListStuck},
		{"Location", testMessageLocation},
		{"LIDs", testMessageLIDs},
		{"ChatForms", testMessageChatForms},
		{"Kinds", testMessageKinds},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := open(t)
			tc.fn(t, &fixture{t: t, ctx: t.Context(), b: b, s: b.Stores()}, b.Outbox())
		})
	}
}

// message stores an outbound text message created at the given time.
func (f *fixture) message(inst ports.Instance, created time.Time, edit func(*ports.Message)) ports.Message {
	f.t.Helper()
	m := ports.Message{
		ID: ports.MessageID(newID()), SubscriptionID: inst.SubscriptionID, InstanceID: inst.ID,
		Direction: ports.DirectionOutbound, Chat: "4915112345678@s.whatsapp.net", To: "4915112345678@s.whatsapp.net",
		Type: ports.MessageText, Text: "hello", Status: ports.MsgQueued, CreatedAt: created, UpdatedAt: created,
	}
	if edit != nil {
		edit(&m)
	}
	if err := f.s.Messages.CreateMessage(f.ctx, inst.SubscriptionID, m); err != nil {
		f.t.Fatalf("create message: %v", err)
	}
	return m
}

func wantCode(t *testing.T, what string, err error, code ports.ErrorCode) {
	t.Helper()
	if !ports.IsCode(err, code) {
		t.Errorf("%s: got %v, want %s", what, err, code)
	}
}

func testMessageCreateGet(t *testing.T, f *fixture, _ ports.MessageOutbox) {
	sub, other := f.subscription(), f.subscription()
	inst := f.instance(sub.ID, "one")
	sent := base.Add(time.Second)
	m := f.message(inst, base, func(m *ports.Message) {
		m.Status, m.WAMessageID, m.ReplyTo, m.Attempts, m.SentAt = ports.MsgSent, "3EB0AA", "3EB0BB", 2, &sent
		m.ErrorCode, m.ErrorMessage, m.Caption = "x", "y", "c"
	})
	got, err := f.s.Messages.GetMessage(f.ctx, sub.ID, m.ID)
	if err != nil {
		t.Fatalf("get message: %v", err)
	}
	want := m
	want.CreatedAt, want.UpdatedAt = base.UTC().Truncate(time.Microsecond), base.UTC().Truncate(time.Microsecond)
	s := sent.UTC().Truncate(time.Microsecond)
	want.SentAt = &s
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("get message (-want +got):\n%s", d)
	}
	wantCode(t, "create a duplicate id", f.s.Messages.CreateMessage(f.ctx, sub.ID, m), ports.EConflict)
	_, err = f.s.Messages.GetMessage(f.ctx, other.ID, m.ID)
	wantCode(t, "get another tenant's message", err, ports.ENotFound)
	_, err = f.s.Messages.GetMessage(f.ctx, sub.ID, ports.MessageID(newID()))
	wantCode(t, "get a missing message", err, ports.ENotFound)
}

func testMessageList(t *testing.T, f *fixture, _ ports.MessageOutbox) {
	sub, other := f.subscription(), f.subscription()
	inst, inst2 := f.instance(sub.ID, "one"), f.instance(sub.ID, "two")
	var ids []ports.MessageID
	for i := range 5 {
		m := f.message(inst, base.Add(time.Duration(i)*time.Minute), func(m *ports.Message) {
			if i%2 == 1 {
				m.Direction, m.Status, m.Chat = ports.DirectionInbound, ports.MsgReceived, "other@s.whatsapp.net"
			}
		})
		ids = append(ids, m.ID)
	}
	f.message(inst2, base, nil)
	f.message(f.instance(other.ID, "theirs"), base, nil)

	list := func(filter ports.MessageFilter, page ports.PageRequest) ports.Page[ports.Message] {
		t.Helper()
		p, err := f.s.Messages.ListMessages(f.ctx, sub.ID, filter, page)
		if err != nil {
			t.Fatalf("list messages %+v: %v", filter, err)
		}
		return p
	}
	idsOf := func(ms []ports.Message) []ports.MessageID {
		out := make([]ports.MessageID, len(ms))
		for i, m := range ms {
			out[i] = m.ID
		}
		return out
	}
	all := ports.MessageFilter{InstanceID: inst.ID}
	p1 := list(all, ports.PageRequest{Limit: 3})
	p2 := list(all, ports.PageRequest{Limit: 3, After: p1.Next})
	got := append(idsOf(p1.Items), idsOf(p2.Items)...)
	want := []ports.MessageID{ids[4], ids[3], ids[2], ids[1], ids[0]}
	if d := cmp.Diff(want, got); d != "" || p1.Next == "" || p2.Next != "" {
		t.Errorf("pages newest first (-want +got):\n%s\nnext cursors %q, %q; want one, then none", d, p1.Next, p2.Next)
	}
	cases := []struct {
		name   string
		filter ports.MessageFilter
		want   []ports.MessageID
	}{
		{"inbound", ports.MessageFilter{InstanceID: inst.ID, Direction: ports.DirectionInbound}, []ports.MessageID{ids[3], ids[1]}},
		{"queued", ports.MessageFilter{InstanceID: inst.ID, Status: ports.MsgQueued}, []ports.MessageID{ids[4], ids[2], ids[0]}},
		{"chat", ports.MessageFilter{InstanceID: inst.ID, Chat: "other@s.whatsapp.net"}, []ports.MessageID{ids[3], ids[1]}},
		{"since", ports.MessageFilter{InstanceID: inst.ID, Since: base.Add(3 * time.Minute)}, []ports.MessageID{ids[4], ids[3]}},
	}
	for _, tc := range cases {
		if d := cmp.Diff(tc.want, idsOf(list(tc.filter, ports.PageRequest{}).Items)); d != "" {
			t.Errorf("list %s (-want +got):\n%s", tc.name, d)
		}
	}
	if n := len(list(ports.MessageFilter{InstanceID: inst2.ID}, ports.PageRequest{}).Items); n != 1 {
		t.Errorf("list the second instance: got %d messages, want 1", n)
	}
	p, err := f.s.Messages.ListMessages(f.ctx, other.ID, all, ports.PageRequest{})
	if err != nil || len(p.Items) != 0 {
		t.Errorf("list another tenant's instance: got %d messages, %v; want none", len(p.Items), err)
	}
}

func testMessageFindByWAID(t *testing.T, f *fixture, _ ports.MessageOutbox) {
	sub, other := f.subscription(), f.subscription()
	inst, inst2 := f.instance(sub.ID, "one"), f.instance(sub.ID, "two")
	m := f.message(inst, base, func(m *ports.Message) { m.WAMessageID = "3EB0CC" })
	got, err := f.s.Messages.FindMessageByWAID(f.ctx, sub.ID, inst.ID, "3EB0CC")
	if err != nil || got.ID != m.ID {
		t.Errorf("find by WhatsApp id: got %q, %v; want %q", got.ID, err, m.ID)
	}
	for _, tc := range []struct {
		name string
		sub  ports.SubscriptionID
		inst ports.InstanceID
		wa   string
	}{
		{"another instance", sub.ID, inst2.ID, "3EB0CC"},
		{"another tenant", other.ID, inst.ID, "3EB0CC"},
		{"an unknown id", sub.ID, inst.ID, "3EB0DD"},
		{"an empty id", sub.ID, inst2.ID, ""},
	} {
		_, err := f.s.Messages.FindMessageByWAID(f.ctx, tc.sub, tc.inst, tc.wa)
		wantCode(t, "find in "+tc.name, err, ports.ENotFound)
	}
}

func testMessageUpdate(t *testing.T, f *fixture, _ ports.MessageOutbox) {
	sub, other := f.subscription(), f.subscription()
	m := f.message(f.instance(sub.ID, "one"), base, nil)
	at := base.Add(time.Minute).UTC().Truncate(time.Microsecond)
	got, err := f.s.Messages.UpdateMessage(f.ctx, sub.ID, m.ID, func(m *ports.Message) error {
		m.Status, m.WAMessageID, m.DeliveredAt, m.UpdatedAt = ports.MsgDelivered, "3EB0EE", &at, at
		return nil
	})
	if err != nil || got.Status != ports.MsgDelivered || got.DeliveredAt == nil || !got.DeliveredAt.Equal(at) {
		t.Fatalf("update message: got %+v, %v; want delivered at %v", got, err, at)
	}
	read, _ := f.s.Messages.GetMessage(f.ctx, sub.ID, m.ID)
	if d := cmp.Diff(got, read); d != "" {
		t.Errorf("read after update (-returned +read):\n%s", d)
	}
	boom := ports.Errorf(ports.EConflict, "no")
	_, err = f.s.Messages.UpdateMessage(f.ctx, sub.ID, m.ID, func(m *ports.Message) error {
		m.Status = ports.MsgFailed
		return boom
	})
	if err != boom {
		t.Errorf("update with a failing closure: got %v, want the closure's error", err)
	}
	if again, _ := f.s.Messages.GetMessage(f.ctx, sub.ID, m.ID); again.Status != ports.MsgDelivered {
		t.Errorf("after a failed update: got status %s, want delivered", again.Status)
	}
	_, err = f.s.Messages.UpdateMessage(f.ctx, other.ID, m.ID, func(*ports.Message) error { return nil })
	wantCode(t, "update another tenant's message", err, ports.ENotFound)
}

func testMessageListStuck(t *testing.T, f *fixture, out ports.MessageOutbox) {
	a, b := f.subscription(), f.subscription()
	old1 := f.message(f.instance(a.ID, "a"), base, nil)
	old2 := f.message(f.instance(b.ID, "b"), base.Add(time.Second), func(m *ports.Message) {
		m.Status, m.WAMessageID, m.Attempts = ports.MsgSending, "3EB0STUCK", 1 // its worker died
	})
	f.message(f.instance(a.ID, "c"), base.Add(time.Hour), nil)
	f.message(f.instance(a.ID, "d"), base, func(m *ports.Message) { m.Status = ports.MsgSent })
	f.message(f.instance(a.ID, "e"), base, func(m *ports.Message) {
		m.Direction, m.Status = ports.DirectionInbound, ports.MsgReceived
	})
	f.message(f.instance(a.ID, "f"), base, func(m *ports.Message) { m.BulkID, m.BulkSeq = ports.BulkID(newID()), 0 })
	f.message(f.instance(a.ID, "g"), base, func(m *ports.Message) { m.Status = ports.MsgFailed })
	got, err := out.ListStuck(f.ctx, base.Add(time.Minute), 10)
	if err != nil {
		t.Fatalf("list stuck: %v", err)
	}
	if d := cmp.Diff([]ports.MessageID{old1.ID, old2.ID}, messageIDs(got)); d != "" {
		t.Errorf("stuck messages, queued or sending, no bulk recipients, oldest first across tenants (-want +got):\n%s", d)
	}
	if len(got) == 2 && got[1].WAMessageID != "3EB0STUCK" {
		t.Errorf("stuck sending message: got WhatsApp id %q, want 3EB0STUCK", got[1].WAMessageID)
	}
	if got, _ := out.ListStuck(f.ctx, base.Add(time.Minute), 1); len(got) != 1 {
		t.Errorf("list stuck with limit 1: got %d, want 1", len(got))
	}
	if got, err := out.ListStuck(f.ctx, base, 10); err != nil || len(got) != 0 {
		t.Errorf("list stuck before the oldest update: got %d, %v; want none", len(got), err)
	}
}

func messageIDs(ms []ports.Message) []ports.MessageID {
	ids := []ports.MessageID{}
	for _, m := range ms {
		ids = append(ids, m.ID)
	}
	return ids
}
