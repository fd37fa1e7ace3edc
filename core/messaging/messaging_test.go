package messaging_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wagate/wagate/core/coretest"
	"github.com/wagate/wagate/core/messaging"
	"github.com/wagate/wagate/ports"
)

// statuses lists the message.status moves of one message.
func statuses(b *coretest.EventTap, id ports.MessageID) []string {
	var out []string
	for _, e := range b.Events() {
		d, err := coretest.DataAs[ports.MessageStatusData](e)
		if err == nil && e.Type == ports.EventMessageStatus && d.MessageID == id {
			out = append(out, string(d.Status))
		}
	}
	return out
}

type env struct {
	store *coretest.Store
	clock *coretest.Clock
	ids   *coretest.IDs
	wa    *coretest.WhatsApp
	queue *coretest.Queue
	bus   *coretest.EventTap
	svc   *messaging.Service
	p     ports.Principal
	inst  ports.Instance
}

func newEnv(t *testing.T, status ports.InstanceStatus) *env {
	t.Helper()
	return newEnvWith(t, status, messaging.Config{MaxAge: time.Hour, RelayAfter: 30 * time.Second})
}

// newEnvWith is newEnv with the service configured by cfg.
func newEnvWith(t *testing.T, status ports.InstanceStatus, cfg messaging.Config) *env {
	t.Helper()
	e := &env{
		store: coretest.NewStore(), clock: coretest.NewClock(),
		wa:    &coretest.WhatsApp{SendFunc: func(ports.WAOutbound) (ports.WASent, error) { return ports.WASent{WAMessageID: "3EB0SENT"}, nil }},
		queue: &coretest.Queue{},
	}
	e.bus = coretest.NewEventTap(e.store)
	ids := &coretest.IDs{}
	e.ids = ids
	e.svc = messaging.New(messaging.Deps{
		Tx: e.store, Stores: e.store.Stores(), Outbox: e.store.Outbox(),
		Clock: e.clock, IDs: ids, Queue: e.queue, WhatsApp: e.wa, Events: coretest.NewEventLog(e.clock, nil),
	}, cfg)
	e.p = e.store.SeedAccount(ids, e.clock, ports.TierBasic, "owner@example.com")
	e.inst = ports.Instance{ID: ports.InstanceID(ids.NewID()), SubscriptionID: e.p.SubscriptionID, Name: "one",
		Status: status, JID: "15550001:1@s.whatsapp.net", CreatedAt: e.clock.Now(), UpdatedAt: e.clock.Now()}
	if err := e.store.Stores().Instances.CreateInstance(t.Context(), e.p.SubscriptionID, e.inst); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) send(t *testing.T, to string) ports.Message {
	t.Helper()
	m, err := e.svc.SendText(t.Context(), e.p, e.inst.ID, messaging.SendTextCmd{To: to, Text: "hello"})
	if err != nil {
		t.Fatalf("send text: %v", err)
	}
	return m
}

func (e *env) run(t *testing.T, id ports.MessageID) error {
	t.Helper()
	j, ok := e.queue.Take(string(id))
	if !ok {
		t.Fatalf("no job for message %s", id)
	}
	return e.svc.HandleSend(t.Context(), ports.Delivery{Job: j, Attempt: 1})
}

func (e *env) get(t *testing.T, id ports.MessageID) ports.Message {
	t.Helper()
	m, err := e.store.Stores().Messages.GetMessage(t.Context(), e.p.SubscriptionID, id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSendTextValidation(t *testing.T) {
	long := strings.Repeat("é", messaging.MaxTextLen)
	tests := []struct {
		name   string
		cmd    messaging.SendTextCmd
		to     string // the JID stored, when accepted
		fields string // the failed fields, when refused
	}{
		{"phone with plus, spaces and dashes", messaging.SendTextCmd{To: "+49 151-2345 6789", Text: "hi"}, "4915123456789@s.whatsapp.net", ""},
		{"user JID", messaging.SendTextCmd{To: "4915123456789@s.whatsapp.net", Text: long}, "4915123456789@s.whatsapp.net", ""},
		{"group JID", messaging.SendTextCmd{To: "120363021234567890@g.us", Text: "hi"}, "120363021234567890@g.us", ""},
		{"too few digits", messaging.SendTextCmd{To: "+12345", Text: "hi"}, "", "to"},
		{"letters", messaging.SendTextCmd{To: "+1555abc0001", Text: "hi"}, "", "to"},
		{"foreign JID", messaging.SendTextCmd{To: "a@example.com", Text: "hi"}, "", "to"},
		{"empty text", messaging.SendTextCmd{To: "+15550001111"}, "", "text"},
		{"blank text", messaging.SendTextCmd{To: "+15550001111", Text: "  "}, "", "text"},
		{"text over 4096", messaging.SendTextCmd{To: "+15550001111", Text: long + "x"}, "", "text"},
		{"both", messaging.SendTextCmd{To: "x", Text: ""}, "", "to,text"},
		{"bad replyTo", messaging.SendTextCmd{To: "+15550001111", Text: "hi", ReplyTo: "a b"}, "", "replyTo"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, ports.StatusConnected)
			m, err := e.svc.SendText(t.Context(), e.p, e.inst.ID, tc.cmd)
			if tc.fields == "" {
				if err != nil || m.To != tc.to || m.Status != ports.MsgQueued {
					t.Fatalf("got %q %s, %v; want queued to %q", m.To, m.Status, err, tc.to)
				}
				return
			}
			var got []string
			if pe := ports.AsError(err); pe != nil {
				for _, f := range pe.Fields {
					got = append(got, f.Field)
				}
			}
			if strings.Join(got, ",") != tc.fields {
				t.Errorf("got %v (fields %v), want invalid fields %s", err, got, tc.fields)
			}
		})
	}
}

func TestSendTextRefusals(t *testing.T) {
	for _, st := range []ports.InstanceStatus{ports.StatusCreated, ports.StatusLoggedOut} {
		e := newEnv(t, st)
		_, err := e.svc.SendText(t.Context(), e.p, e.inst.ID, messaging.SendTextCmd{To: "+15550001111", Text: "hi"})
		if pe := ports.AsError(err); pe == nil || pe.Code != ports.EConflict || pe.Reason != "instance_not_connected" {
			t.Errorf("send on a %s instance: got %v, want conflict instance_not_connected", st, err)
		}
	}
	e := newEnv(t, ports.StatusConnected)
	key := ports.Principal{Kind: ports.PrincipalAPIKey, SubscriptionID: e.p.SubscriptionID, InstanceID: "other", Scopes: []ports.Scope{ports.ScopeMessagesSend}}
	if _, err := e.svc.SendText(t.Context(), key, e.inst.ID, messaging.SendTextCmd{To: "+15550001111", Text: "hi"}); !ports.IsCode(err, ports.ENotFound) {
		t.Errorf("a key of another instance: got %v, want not found", err)
	}
	key.InstanceID, key.Scopes = e.inst.ID, []ports.Scope{ports.ScopeMessagesRead}
	if _, err := e.svc.SendText(t.Context(), key, e.inst.ID, messaging.SendTextCmd{To: "+15550001111", Text: "hi"}); !ports.IsCode(err, ports.EForbidden) {
		t.Errorf("a key without messages:send: got %v, want forbidden", err)
	}
	if e.queue.Len() != 0 {
		t.Errorf("refused sends: got %d jobs, want none", e.queue.Len())
	}
}

func TestSendEnqueuesAfterCommitAndSends(t *testing.T) {
	e := newEnv(t, ports.StatusDisconnected)
	m := e.send(t, "+15550001111")
	if j, ok := e.queue.Job(string(m.ID)); !ok || j.Type != messaging.JobSend {
		t.Fatalf("got jobs %v, want a %s job with the message id", e.queue.Jobs(), messaging.JobSend)
	}
	if err := e.run(t, m.ID); err != nil {
		t.Fatalf("handle send: %v", err)
	}
	got := e.get(t, m.ID)
	if got.Status != ports.MsgSent || got.WAMessageID != "3EB0SENT" || got.SentAt == nil || got.Attempts != 1 {
		t.Errorf("got %s wa %q sentAt %v attempts %d, want sent 3EB0SENT with a time and 1 attempt", got.Status, got.WAMessageID, got.SentAt, got.Attempts)
	}
	if s := strings.Join(statuses(e.bus, m.ID), ">"); s != "sending>sent" {
		t.Errorf("got status events %s, want sending>sent", s)
	}
	// A duplicate run of the same job sends nothing.
	_ = e.queue.Enqueue(t.Context(), ports.Job{ID: string(m.ID), Type: messaging.JobSend, Payload: []byte(`{"sub":"` + string(e.p.SubscriptionID) + `","id":"` + string(m.ID) + `"}`)})
	if err := e.run(t, m.ID); err != nil || len(e.wa.Sent) != 1 {
		t.Errorf("a second run: got %v and %d sends, want nil and 1", err, len(e.wa.Sent))
	}
}

func TestSendOutcomes(t *testing.T) {
	notConnected := ports.ReasonError(ports.EConflict, "instance_not_connected", "not connected")
	refused := ports.ReasonError(ports.EInvalid, "recipient_not_on_whatsapp", "not on WhatsApp")
	tests := []struct {
		name    string
		err     error
		age     time.Duration
		status  ports.MessageStatus
		code    string
		retried bool
	}{
		{"disconnected: back to queued and retried", notConnected, 0, ports.MsgQueued, "", true},
		{"disconnected past the max age: failed", notConnected, 2 * time.Hour, ports.MsgFailed, "instance_not_connected", false},
		{"WhatsApp unavailable: retried", ports.Errorf(ports.EUnavailable, "timeout"), 0, ports.MsgQueued, "", true},
		{"recipient refused: failed", refused, 0, ports.MsgFailed, "recipient_not_on_whatsapp", false},
		{"invalid without reason: failed", ports.Errorf(ports.EInvalid, "bad jid"), 0, ports.MsgFailed, "recipient_rejected", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, ports.StatusConnected)
			e.wa.SendFunc = func(ports.WAOutbound) (ports.WASent, error) { return ports.WASent{}, tc.err }
			m := e.send(t, "+15550001111")
			e.clock.Advance(tc.age)
			err := e.run(t, m.ID)
			if retried := ports.RetryFor(err).Retry; retried != tc.retried {
				t.Errorf("handler error %v: got retry %v, want %v", err, retried, tc.retried)
			}
			got := e.get(t, m.ID)
			if got.Status != tc.status || got.ErrorCode != tc.code {
				t.Errorf("got %s/%q, want %s/%q", got.Status, got.ErrorCode, tc.status, tc.code)
			}
		})
	}
}

func TestSendFailsWhenInstanceUnlinked(t *testing.T) {
	e := newEnv(t, ports.StatusConnected)
	m := e.send(t, "+15550001111")
	_, err := e.store.Stores().Instances.UpdateInstance(t.Context(), e.p.SubscriptionID, e.inst.ID, func(i *ports.Instance) error {
		i.Status = ports.StatusLoggedOut
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.run(t, m.ID); err != nil {
		t.Fatalf("handle send: %v", err)
	}
	if got := e.get(t, m.ID); got.Status != ports.MsgFailed || got.ErrorCode != "instance_not_connected" || len(e.wa.Sent) != 0 {
		t.Errorf("got %s/%q with %d sends, want failed/instance_not_connected without a send", got.Status, got.ErrorCode, len(e.wa.Sent))
	}
}

// TestPacingOneInFlight: while a send job of the instance is in flight, a
// second job leaves its message to the run in flight and ends; that run
// sends it next, after the first's answer.
func TestPacingOneInFlight(t *testing.T) {
	e := newEnv(t, ports.StatusConnected)
	first, second := e.send(t, "+15550001111"), e.send(t, "+15550002222")
	inFlight, unblock := make(chan struct{}), make(chan struct{})
	e.wa.SendFunc = func(ports.WAOutbound) (ports.WASent, error) {
		select {
		case <-inFlight:
		default:
			close(inFlight)
			<-unblock
		}
		return ports.WASent{WAMessageID: "3EB0A"}, nil
	}
	done := make(chan error, 1)
	go func() { done <- e.run(t, first.ID) }()
	<-inFlight
	e.requeue(second.ID) // a job of its own, as the relay enqueues
	if err := e.run(t, second.ID); err != nil {
		t.Errorf("a second job while one is in flight: got %v, want nil (the run in flight sends its message)", err)
	}
	// The run in flight may have claimed it ahead already (pipeline), but
	// it goes out only after the first send's answer.
	if got := e.get(t, second.ID); got.SentAt != nil || got.Attempts > 1 || (got.Status != ports.MsgQueued && got.Status != ports.MsgSending) {
		t.Errorf("message behind the send in flight: got %s with %d attempts, want queued or claimed, not sent", got.Status, got.Attempts)
	}
	close(unblock)
	if err := <-done; err != nil {
		t.Fatalf("first send: %v", err)
	}
	if got := e.get(t, second.ID); got.Status != ports.MsgSent || got.Attempts != 1 {
		t.Errorf("message behind the send in flight, after it: got %s with %d attempts, want sent with 1", got.Status, got.Attempts)
	}
	if n := len(e.wa.Sends()); n != 2 {
		t.Errorf("got %d sends, want 2", n)
	}
}

func TestReceiptsMoveForwardOnly(t *testing.T) {
	e := newEnv(t, ports.StatusConnected)
	m := e.send(t, "+15550001111")
	if err := e.run(t, m.ID); err != nil {
		t.Fatal(err)
	}
	receipt := func(typ ports.WAReceiptType, ids ...string) {
		e.svc.HandleEvent(ports.WAEvent{Subscription: e.p.SubscriptionID, Instance: e.inst.ID, Kind: ports.WAReceipt, Receipt: &ports.WAReceiptEvent{Type: typ, WAMessageID: ids}})
	}
	receipt(ports.ReceiptRead, "3EB0SENT", "unknown")
	receipt(ports.ReceiptDelivered, "3EB0SENT")
	got := e.get(t, m.ID)
	if got.Status != ports.MsgRead || got.ReadAt == nil || got.DeliveredAt == nil {
		t.Errorf("after read then delivered: got %s read %v delivered %v, want read with both times", got.Status, got.ReadAt, got.DeliveredAt)
	}
	if s := strings.Join(statuses(e.bus, m.ID), ">"); s != "sending>sent>read" {
		t.Errorf("got status events %s, want sending>sent>read", s)
	}
}

func TestInboundStoredOnce(t *testing.T) {
	e := newEnv(t, ports.StatusConnected)
	ev := ports.WAEvent{Subscription: e.p.SubscriptionID, Instance: e.inst.ID, Kind: ports.WAMessage, Message: &ports.WAInbound{
		WAMessageID: "3EB0IN", Chat: "15550002222@s.whatsapp.net", From: "15550002222@s.whatsapp.net", Text: "hi",
	}}
	e.svc.HandleEvent(ev)
	e.svc.HandleEvent(ev)
	page, err := e.svc.List(t.Context(), e.p, e.inst.ID, ports.MessageFilter{Direction: ports.DirectionInbound}, ports.PageRequest{})
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("inbound messages: got %d, %v; want 1", len(page.Items), err)
	}
	m := page.Items[0]
	if m.Status != ports.MsgReceived || m.Text != "hi" || m.To != e.inst.JID {
		t.Errorf("got %+v, want a received text to the instance", m)
	}
	received := 0
	for _, ev := range e.bus.Events() {
		if ev.Type == ports.EventMessageReceived {
			received++
		}
	}
	if received != 1 {
		t.Errorf("got %d message.received events, want 1", received)
	}
}

func TestRelayReenqueuesLostJobs(t *testing.T) {
	e := newEnv(t, ports.StatusConnected)
	m := e.send(t, "+15550001111")
	e.queue.Take(string(m.ID)) // the queue lost it
	if n, err := e.svc.RelayOnce(t.Context()); err != nil || n != 0 {
		t.Errorf("relay of a fresh message: got %d, %v; want 0 (not yet left behind)", n, err)
	}
	e.clock.Advance(time.Minute)
	if n, err := e.svc.RelayOnce(t.Context()); err != nil || n != 1 {
		t.Errorf("relay: got %d, %v; want 1", n, err)
	}
	if n, err := e.svc.RelayOnce(t.Context()); err != nil || n != 0 {
		t.Errorf("relay while the job is there: got %d, %v; want 0", n, err)
	}
	if err := e.run(t, m.ID); err != nil || e.get(t, m.ID).Status != ports.MsgSent {
		t.Errorf("the relayed job: got %v, want the message sent", err)
	}
}

func TestReplyToResolvesOurID(t *testing.T) {
	e := newEnv(t, ports.StatusConnected)
	first := e.send(t, "+15550001111")
	if _, err := e.svc.SendText(t.Context(), e.p, e.inst.ID, messaging.SendTextCmd{To: "+15550001111", Text: "re", ReplyTo: string(first.ID)}); !ports.IsCode(err, ports.EInvalid) {
		t.Errorf("reply to an unsent message: got %v, want invalid", err)
	}
	if err := e.run(t, first.ID); err != nil {
		t.Fatal(err)
	}
	reply, err := e.svc.SendText(t.Context(), e.p, e.inst.ID, messaging.SendTextCmd{To: "+15550001111", Text: "re", ReplyTo: string(first.ID)})
	if err != nil || reply.ReplyTo != "3EB0SENT" {
		t.Errorf("reply to our id: got %q, %v; want WhatsApp's id 3EB0SENT", reply.ReplyTo, err)
	}
	raw, _ := e.svc.SendText(t.Context(), e.p, e.inst.ID, messaging.SendTextCmd{To: "+15550001111", Text: "re", ReplyTo: "3EB0FOREIGN"})
	if raw.ReplyTo != "3EB0FOREIGN" {
		t.Errorf("reply to a WhatsApp id: got %q, want it kept", raw.ReplyTo)
	}
}

// An inbound message with text PostgreSQL cannot hold (NUL, invalid UTF-8)
// is cleaned and kept, never dropped: it is the contact's message.
func TestInboundTextCleaned(t *testing.T) {
	e := newEnv(t, ports.StatusConnected)
	e.svc.HandleEvent(ports.WAEvent{Subscription: e.p.SubscriptionID, Instance: e.inst.ID, Kind: ports.WAMessage, Message: &ports.WAInbound{
		WAMessageID: "3EB0\x00NUL", Chat: "15550002222@s.whatsapp.net", From: "15550002222@s.whatsapp.net",
		Text: "hi\x00there \xff", ReplyTo: "3EB0\x00Q",
	}})
	e.svc.HandleEvent(ports.WAEvent{Subscription: e.p.SubscriptionID, Instance: e.inst.ID, Kind: ports.WAMessage, Message: &ports.WAInbound{
		WAMessageID: "3EB0LOC", Chat: "15550002222@s.whatsapp.net", From: "15550002222@s.whatsapp.net",
		Location: &ports.WALocation{Latitude: 1, Longitude: 2, Name: "caf\x00é", Address: "\xc3"},
	}})
	page, err := e.svc.List(t.Context(), e.p, e.inst.ID, ports.MessageFilter{Direction: ports.DirectionInbound}, ports.PageRequest{})
	if err != nil || len(page.Items) != 2 {
		t.Fatalf("inbound messages: got %d, %v; want 2", len(page.Items), err)
	}
	for _, m := range page.Items {
		for _, s := range []string{m.Text, m.WAMessageID, m.ReplyTo, m.Chat, m.From, m.Caption} {
			if !ports.ValidText(s) {
				t.Errorf("message %s holds %q, want clean text", m.ID, s)
			}
		}
		if m.Type == ports.MessageText && m.Text != "hithere \uFFFD" {
			t.Errorf("text: got %q, want %q", m.Text, "hithere \uFFFD")
		}
		if m.Type == ports.MessageLocation && (m.Location.Name != "café" || m.Location.Address != "\uFFFD") {
			t.Errorf("location: got %q, %q; want café, U+FFFD", m.Location.Name, m.Location.Address)
		}
	}
}

// An instance drains its own queue: the job that takes the instance's
// turn sends every message waiting, oldest first, back to back; the other
// jobs find nothing left.
func TestAnInstanceDrainsItsQueue(t *testing.T) {
	e := newEnv(t, ports.StatusConnected)
	a, b, c := e.send(t, "+15550002222"), e.send(t, "+15550003333"), e.send(t, "+15550004444")
	e.requeue(b.ID) // b and c counted on a's job; relayed, they have their own
	e.requeue(c.ID)
	if err := e.run(t, b.ID); err != nil {
		t.Fatal(err)
	}
	for _, m := range []ports.Message{a, b, c} {
		if got := e.get(t, m.ID); got.Status != ports.MsgSent || got.Attempts != 1 {
			t.Errorf("%s after one job: got %s with %d attempts, want sent with 1", m.To, got.Status, got.Attempts)
		}
	}
	for _, m := range []ports.Message{c, a} {
		if err := e.run(t, m.ID); err != nil {
			t.Fatal(err)
		}
	}
	if d := cmp.Diff([]string{"15550002222", "15550003333", "15550004444"}, sentTo(e.wa)); d != "" {
		t.Errorf("sends (-want +got):\n%s", d)
	}
	if e.queue.Len() != 0 {
		t.Errorf("got jobs %v left, want none", e.queue.Jobs())
	}
	// A wake-up job an earlier version enqueued does nothing.
	wake := ports.Delivery{Job: ports.Job{ID: "wake:" + string(a.ID), Type: messaging.JobSend,
		Payload: []byte(`{"sub":"` + string(e.p.SubscriptionID) + `","id":"` + string(a.ID) + `","wake":true}`)}, Attempt: 1}
	if err := e.svc.HandleSend(t.Context(), wake); err != nil || len(e.wa.Sends()) != 3 {
		t.Errorf("an old wake-up: got %v and %d sends, want nil and 3", err, len(e.wa.Sends()))
	}
}
