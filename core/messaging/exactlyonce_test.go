package messaging_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wagate/wagate/core/coretest"
	"github.com/wagate/wagate/core/messaging"
	"github.com/wagate/wagate/ports"
)

// echo answers a send as the real adapter does: under the id it was given.
func echo(out ports.WAOutbound) (ports.WASent, error) {
	return ports.WASent{WAMessageID: out.ID}, nil
}

// claimAsDeadWorker claims m as a worker that then died would have: the
// message is left sending under a WhatsApp id.
func (e *env) claimAsDeadWorker(t *testing.T, m ports.Message, waID string) ports.Message {
	t.Helper()
	now := e.clock.Now()
	c, err := e.store.Stores().Messages.ClaimForSend(t.Context(), e.p.SubscriptionID, m.ID, now, now.Add(-time.Minute), waID)
	if err != nil || c.Status != ports.MsgSending || c.WAMessageID != waID {
		t.Fatalf("claim: got %s %q, %v; want sending %q", c.Status, c.WAMessageID, err, waID)
	}
	return c
}

// sentIDs lists the WhatsApp ids the fake was asked to send under.
func sentIDs(wa *coretest.WhatsApp) []string {
	sent := wa.Sends()
	out := make([]string, len(sent))
	for i, m := range sent {
		out[i] = m.ID
	}
	return out
}

// sentTo lists the recipients of the sends, in order.
func sentTo(wa *coretest.WhatsApp) []string {
	sent := wa.Sends()
	out := make([]string, len(sent))
	for i, m := range sent {
		out[i] = strings.TrimSuffix(m.To, "@s.whatsapp.net")
	}
	return out
}

func TestSendUsesTheClaimedWhatsAppID(t *testing.T) {
	e := newEnv(t, ports.StatusConnected)
	e.wa.SendFunc = echo
	m := e.send(t, "+15550001111")
	if err := e.run(t, m.ID); err != nil {
		t.Fatalf("handle send: %v", err)
	}
	got := e.get(t, m.ID)
	if ids := sentIDs(e.wa); len(ids) != 1 || ids[0] == "" || got.WAMessageID != ids[0] || got.Status != ports.MsgSent {
		t.Errorf("got %s with id %q after sends under %q, want sent under the one id given to WhatsApp", got.Status, got.WAMessageID, ids)
	}
	if !strings.HasPrefix(got.WAMessageID, "3EB0") || len(got.WAMessageID) != 22 {
		t.Errorf("got WhatsApp id %q, want WhatsApp Web's format (3EB0 and 18 hex digits)", got.WAMessageID)
	}
}

// TestStaleClaimResentWithTheSameID: a worker died after its claim. While
// the claim is fresh nothing is sent; once it is stale the message is
// sent again under the id of the first claim.
func TestStaleClaimResentWithTheSameID(t *testing.T) {
	e := newEnv(t, ports.StatusConnected)
	e.wa.SendFunc = echo
	m := e.send(t, "+15550001111")
	e.claimAsDeadWorker(t, m, "3EB0DEADWORKER")

	err := e.run(t, m.ID)
	if d := ports.RetryFor(err); !ports.IsCode(err, ports.ERateLimited) || !d.Retry || d.CountsAsFailure {
		t.Errorf("a job while the claim is fresh: got %v, want deferred without using an attempt", err)
	}
	if got := e.get(t, m.ID); got.Status != ports.MsgSending || got.Attempts != 1 || len(e.wa.Sent) != 0 {
		t.Fatalf("fresh claim: got %s, %d attempts, %d sends; want left sending, 1 attempt, no send", got.Status, got.Attempts, len(e.wa.Sent))
	}

	e.clock.Advance(messaging.DefaultClaimStaleAfter + time.Second)
	e.requeue(m.ID)
	if err := e.run(t, m.ID); err != nil {
		t.Fatalf("a job once the claim is stale: %v", err)
	}
	got := e.get(t, m.ID)
	if d := cmp.Diff([]string{"3EB0DEADWORKER"}, sentIDs(e.wa)); d != "" {
		t.Errorf("ids sent under (-want +got):\n%s", d)
	}
	if got.Status != ports.MsgSent || got.WAMessageID != "3EB0DEADWORKER" || got.Attempts != 2 || got.SentAt == nil {
		t.Errorf("got %s %q after %d attempts, sent at %v; want sent 3EB0DEADWORKER after 2, with a time", got.Status, got.WAMessageID, got.Attempts, got.SentAt)
	}
	if s := strings.Join(statuses(e.bus, m.ID), ">"); s != "sent" {
		t.Errorf("got status events %s, want only sent (the reclaim is no news)", s)
	}
}

// TestRetryKeepsTheID: a send WhatsApp did not answer may have gone out;
// the retry carries the same id, so the recipient drops a repeat.
func TestRetryKeepsTheID(t *testing.T) {
	e := newEnv(t, ports.StatusConnected)
	calls := 0
	e.wa.SendFunc = func(out ports.WAOutbound) (ports.WASent, error) {
		if calls++; calls == 1 {
			return ports.WASent{}, ports.Errorf(ports.EUnavailable, "no answer")
		}
		return echo(out)
	}
	m := e.send(t, "+15550001111")
	if err := e.run(t, m.ID); !ports.IsCode(err, ports.EUnavailable) {
		t.Fatalf("first try: got %v, want unavailable", err)
	}
	if got := e.get(t, m.ID); got.Status != ports.MsgQueued || got.WAMessageID == "" {
		t.Fatalf("after an unanswered send: got %s %q, want queued with its WhatsApp id", got.Status, got.WAMessageID)
	}
	e.requeue(m.ID)
	if err := e.run(t, m.ID); err != nil {
		t.Fatalf("retry: %v", err)
	}
	ids := sentIDs(e.wa)
	if len(ids) != 2 || ids[0] != ids[1] || e.get(t, m.ID).WAMessageID != ids[0] {
		t.Errorf("got sends under %q and the message recorded %q, want two sends under its one id", ids, e.get(t, m.ID).WAMessageID)
	}
}

// TestOrderOldestFirst: messages accepted while the instance is busy go
// out oldest first, whichever of their jobs runs first: their jobs (the
// relay's: an accept during a run enqueues none) leave them to the run in
// flight, which sends them in order.
func TestOrderOldestFirst(t *testing.T) {
	e := newEnv(t, ports.StatusConnected)
	inFlight, unblock := make(chan struct{}), make(chan struct{})
	e.wa.SendFunc = func(out ports.WAOutbound) (ports.WASent, error) {
		if strings.HasPrefix(out.To, "15550000000") {
			close(inFlight)
			<-unblock
		}
		return echo(out)
	}
	busy := e.send(t, "+15550000000")
	done := make(chan error, 1)
	go func() { done <- e.run(t, busy.ID) }()
	<-inFlight
	var later []ports.Message
	for _, to := range []string{"+15550000001", "+15550000002", "+15550000003"} {
		m := e.send(t, to)
		e.requeue(m.ID)
		if err := e.run(t, m.ID); err != nil {
			t.Errorf("job of %s while the instance is busy: got %v, want nil (left to the run in flight)", to, err)
		}
		e.requeue(m.ID)
		later = append(later, m)
	}
	close(unblock)
	if err := <-done; err != nil {
		t.Fatalf("the busy send: %v", err)
	}
	for i := len(later) - 1; i >= 0; i-- { // the newest job first
		if err := e.run(t, later[i].ID); err != nil {
			t.Fatalf("job %d: %v", i, err)
		}
	}
	want := []string{"15550000000", "15550000001", "15550000002", "15550000003"}
	if d := cmp.Diff(want, sentTo(e.wa)); d != "" {
		t.Errorf("send order (-want +got):\n%s", d)
	}
	e.requeue(later[0].ID)
	if err := e.run(t, later[0].ID); err != nil || len(e.wa.Sent) != 4 {
		t.Errorf("a job with nothing left: got %v and %d sends, want nil and 4", err, len(e.wa.Sent))
	}
}

// TestOrderWaitsForDisconnected: the oldest message waiting for its
// instance holds back the later ones.
func TestOrderWaitsForDisconnected(t *testing.T) {
	e := newEnv(t, ports.StatusConnected)
	connected := false
	e.wa.SendFunc = func(out ports.WAOutbound) (ports.WASent, error) {
		if !connected {
			return ports.WASent{}, ports.ReasonError(ports.EConflict, "instance_not_connected", "not connected")
		}
		return echo(out)
	}
	first, second := e.send(t, "+15550000001"), e.send(t, "+15550000002")
	e.requeue(second.ID) // a job of its own, as the relay enqueues
	if err := e.run(t, second.ID); !ports.IsCode(err, ports.EUnavailable) {
		t.Fatalf("the second message's job while disconnected: got %v, want unavailable (a retry)", err)
	}
	if d := cmp.Diff([]string{"15550000001"}, sentTo(e.wa)); d != "" {
		t.Errorf("tried while disconnected (-want +got):\n%s", d)
	}
	connected = true
	e.requeue(second.ID)
	for _, id := range []ports.MessageID{second.ID, first.ID} {
		if err := e.run(t, id); err != nil {
			t.Fatalf("after the reconnect: %v", err)
		}
	}
	if d := cmp.Diff([]string{"15550000001", "15550000001", "15550000002"}, sentTo(e.wa)); d != "" {
		t.Errorf("send order (-want +got):\n%s", d)
	}
	if a, b := e.get(t, first.ID), e.get(t, second.ID); a.Status != ports.MsgSent || b.Status != ports.MsgSent {
		t.Errorf("got %s and %s, want both sent", a.Status, b.Status)
	}
}

// bulkMessage stores a queued bulk recipient of the instance, created at
// the clock's time: its bulk's run sends it, not send jobs.
func (e *env) bulkMessage(t *testing.T, to string) ports.Message {
	t.Helper()
	now := e.clock.Now()
	m := ports.Message{
		ID: ports.MessageID(e.ids.NewID()), SubscriptionID: e.p.SubscriptionID, InstanceID: e.inst.ID,
		Direction: ports.DirectionOutbound, Chat: to, To: to, From: e.inst.JID, Type: ports.MessageText, Text: "bulk",
		Status: ports.MsgQueued, CreatedAt: now, UpdatedAt: now, BulkID: "bulk1", BulkSeq: 1,
	}
	if err := e.store.Stores().Messages.CreateMessage(t.Context(), e.p.SubscriptionID, m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSendJobsSkipBulkRecipients(t *testing.T) {
	e := newEnv(t, ports.StatusConnected)
	e.wa.SendFunc = echo
	bulk := e.bulkMessage(t, "15550000009@s.whatsapp.net")
	m := e.send(t, "+15550000001")
	if err := e.run(t, m.ID); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"15550000001"}, sentTo(e.wa)); d != "" {
		t.Errorf("sent (-want +got):\n%s", d)
	}
	if got := e.get(t, bulk.ID); got.Status != ports.MsgQueued {
		t.Errorf("the bulk recipient: got %s, want left queued for its bulk's run", got.Status)
	}
}

func TestRelayPicksUpStaleSendingSkipsBulk(t *testing.T) {
	e := newEnv(t, ports.StatusConnected)
	e.wa.SendFunc = echo
	m := e.send(t, "+15550001111")
	e.queue.Take(string(m.ID)) // the process died during the send
	e.claimAsDeadWorker(t, m, "3EB0RELAYED")
	e.bulkMessage(t, "15550000009@s.whatsapp.net")
	if n, err := e.svc.RelayOnce(t.Context()); err != nil || n != 0 {
		t.Errorf("relay while the claim is fresh: got %d, %v; want 0", n, err)
	}
	e.clock.Advance(time.Minute)
	if n, err := e.svc.RelayOnce(t.Context()); err != nil || n != 1 {
		t.Fatalf("relay of a stale claim: got %d, %v; want 1 (not the bulk recipient)", n, err)
	}
	if _, ok := e.queue.Job(string(m.ID)); !ok || e.queue.Len() != 1 {
		t.Fatalf("got jobs %v, want only the stale message's", e.queue.Jobs())
	}
	if err := e.run(t, m.ID); err != nil {
		t.Fatal(err)
	}
	if got := e.get(t, m.ID); got.Status != ports.MsgSent || got.WAMessageID != "3EB0RELAYED" {
		t.Errorf("got %s %q, want sent under the first claim's id", got.Status, got.WAMessageID)
	}
}

// TestReceiptOvertakesTheSend: a receipt for a message whose send is not
// recorded yet moves it on (sent at the receipt's time at the latest), and
// the late record does not move it back.
func TestReceiptOvertakesTheSend(t *testing.T) {
	e := newEnv(t, ports.StatusConnected)
	inFlight, unblock := make(chan string), make(chan struct{})
	e.wa.SendFunc = func(out ports.WAOutbound) (ports.WASent, error) {
		inFlight <- out.ID
		<-unblock
		return echo(out)
	}
	m := e.send(t, "+15550001111")
	done := make(chan error, 1)
	go func() { done <- e.run(t, m.ID) }()
	waID := <-inFlight
	e.svc.HandleEvent(ports.WAEvent{Subscription: e.p.SubscriptionID, Instance: e.inst.ID, Kind: ports.WAReceipt,
		Receipt: &ports.WAReceiptEvent{Type: ports.ReceiptDelivered, WAMessageID: []string{waID}}})
	if got := e.get(t, m.ID); got.Status != ports.MsgDelivered || got.SentAt == nil || got.DeliveredAt == nil {
		t.Errorf("receipt while sending: got %s sent %v delivered %v, want delivered with both times", got.Status, got.SentAt, got.DeliveredAt)
	}
	close(unblock)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := e.get(t, m.ID); got.Status != ports.MsgDelivered {
		t.Errorf("after the send is recorded: got %s, want still delivered", got.Status)
	}
	if s := strings.Join(statuses(e.bus, m.ID), ">"); s != "sending>delivered" {
		t.Errorf("got status events %s, want sending>delivered", s)
	}
	if c := e.counters(t); c.Sent != 1 || c.Delivered != 1 {
		t.Errorf("got counters %+v, want sent and delivered once", c)
	}
}

// stallingWhatsApp is a node's WhatsApp that stalls in its send, telling
// inFlight the message's id, until release is closed; then it reports that
// WhatsApp did not answer.
func stallingWhatsApp(inFlight chan<- string, release <-chan struct{}) *coretest.WhatsApp {
	return &coretest.WhatsApp{SendFunc: func(m ports.WAOutbound) (ports.WASent, error) {
		inFlight <- m.ID
		<-release
		return ports.WASent{}, ports.Errorf(ports.EUnavailable, "no answer")
	}}
}

// TestLateOutcomeOfAReclaimedSend: two nodes. The first stalls in its
// send; once its claim is stale the second resends under the same id and
// records it sent. The first's failure, arriving late, changes nothing.
func TestLateOutcomeOfAReclaimedSend(t *testing.T) {
	e := newEnv(t, ports.StatusConnected)
	e.wa.SendFunc = echo
	inFlight, release := make(chan string, 1), make(chan struct{})
	stall := stallingWhatsApp(inFlight, release)
	first := messaging.New(messaging.Deps{
		Tx: e.store, Stores: e.store.Stores(), Outbox: e.store.Outbox(),
		Clock: e.clock, IDs: e.ids, Queue: e.queue, WhatsApp: stall, Events: coretest.NewEventLog(e.clock, nil),
	}, messaging.Config{MaxAge: time.Hour})
	m := e.send(t, "+15550001111")
	done := make(chan error, 1)
	go func() { done <- first.HandleSend(context.Background(), e.job(m.ID)) }()
	stalledID := <-inFlight

	e.clock.Advance(messaging.DefaultClaimStaleAfter + time.Second)
	if err := e.svc.HandleSend(t.Context(), e.job(m.ID)); err != nil {
		t.Fatalf("the second node: %v", err)
	}
	close(release)
	if err := <-done; !ports.IsCode(err, ports.EUnavailable) {
		t.Fatalf("the first node: got %v, want its unavailable", err)
	}
	got := e.get(t, m.ID)
	if d := cmp.Diff([]string{stalledID}, sentIDs(e.wa)); d != "" {
		t.Errorf("the second node's sends (-want +got):\n%s", d)
	}
	if got.Status != ports.MsgSent || got.WAMessageID != stalledID || got.Attempts != 2 {
		t.Errorf("got %s %q after %d attempts, want sent under %q after 2", got.Status, got.WAMessageID, got.Attempts, stalledID)
	}
}

// job is the send job of id.
func (e *env) job(id ports.MessageID) ports.Delivery {
	return ports.Delivery{Job: ports.Job{ID: string(id), Type: messaging.JobSend,
		Payload: []byte(`{"sub":"` + string(e.p.SubscriptionID) + `","id":"` + string(id) + `"}`)}, Attempt: 1}
}
