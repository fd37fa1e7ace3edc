package messaging_test

import (
	"testing"

	"github.com/wagate/wagate/ports"
)

// counters returns the statistics of e's instance for the clock's day.
func (e *env) counters(t *testing.T) ports.Counters {
	t.Helper()
	now := e.clock.Now()
	days, err := e.store.Stores().Stats.QueryStats(t.Context(), e.p.SubscriptionID, e.inst.ID, now, now)
	if err != nil {
		t.Fatalf("query stats: %v", err)
	}
	var c ports.Counters
	for _, d := range days {
		c = c.Add(d.Counters)
	}
	return c
}

// TestStatsCountEachMessageOnce: retries, duplicate receipts and duplicate
// inbound deliveries add nothing; a state counts when first reached.
func TestStatsCountEachMessageOnce(t *testing.T) {
	receipt := func(e *env, typ ports.WAReceiptType) {
		e.svc.HandleEvent(ports.WAEvent{Subscription: e.p.SubscriptionID, Instance: e.inst.ID, Kind: ports.WAReceipt, Receipt: &ports.WAReceiptEvent{Type: typ, WAMessageID: []string{"3EB0SENT"}}})
	}
	unavailable := ports.Errorf(ports.EUnavailable, "timeout")
	tests := []struct {
		name string
		play func(t *testing.T, e *env)
		want ports.Counters
	}{
		{"sent after two retries", func(t *testing.T, e *env) {
			calls := 0
			e.wa.SendFunc = func(ports.WAOutbound) (ports.WASent, error) {
				if calls++; calls < 3 {
					return ports.WASent{}, unavailable
				}
				return ports.WASent{WAMessageID: "3EB0SENT"}, nil
			}
			m := e.send(t, "+15550001111")
			for range 4 { // two retries, the send, then a duplicate job
				_ = e.run(t, m.ID)
				e.requeue(m.ID)
			}
			if got := e.get(t, m.ID); got.Status != ports.MsgSent || got.Attempts != 3 {
				t.Fatalf("got %s after %d attempts, want sent after 3", got.Status, got.Attempts)
			}
		}, ports.Counters{Sent: 1}},
		{"failed once", func(t *testing.T, e *env) {
			e.wa.SendFunc = func(ports.WAOutbound) (ports.WASent, error) {
				return ports.WASent{}, ports.ReasonError(ports.EInvalid, "recipient_not_on_whatsapp", "no")
			}
			m := e.send(t, "+99950001111")
			_ = e.run(t, m.ID)
			e.requeue(m.ID)
			_ = e.run(t, m.ID) // a duplicate job finds it failed
		}, ports.Counters{Failed: 1}},
		{"duplicate receipts", func(t *testing.T, e *env) {
			m := e.send(t, "+15550001111")
			if err := e.run(t, m.ID); err != nil {
				t.Fatal(err)
			}
			receipt(e, ports.ReceiptDelivered)
			receipt(e, ports.ReceiptDelivered)
			receipt(e, ports.ReceiptRead)
			receipt(e, ports.ReceiptRead)
			receipt(e, ports.ReceiptDelivered)
		}, ports.Counters{Sent: 1, Delivered: 1, Read: 1}},
		{"read before delivered counts both", func(t *testing.T, e *env) {
			m := e.send(t, "+15550001111")
			if err := e.run(t, m.ID); err != nil {
				t.Fatal(err)
			}
			receipt(e, ports.ReceiptRead)
			receipt(e, ports.ReceiptDelivered)
		}, ports.Counters{Sent: 1, Delivered: 1, Read: 1}},
		{"inbound delivered twice", func(t *testing.T, e *env) {
			ev := ports.WAEvent{Subscription: e.p.SubscriptionID, Instance: e.inst.ID, Kind: ports.WAMessage, Message: &ports.WAInbound{
				WAMessageID: "3EB0IN", Chat: "15550002222@s.whatsapp.net", From: "15550002222@s.whatsapp.net", Text: "hi",
			}}
			e.svc.HandleEvent(ev)
			e.svc.HandleEvent(ev)
		}, ports.Counters{Received: 1}},
		{"queued only", func(t *testing.T, e *env) { e.send(t, "+15550001111") }, ports.Counters{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, ports.StatusConnected)
			tc.play(t, e)
			if got := e.counters(t); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestStatsRolledBackWithTheMove: when the status move cannot be stored,
// nothing is counted either.
func TestStatsRolledBackWithTheMove(t *testing.T) {
	e := newEnv(t, ports.StatusConnected)
	m := e.send(t, "+15550001111")
	e.store.Hook = func(method string) error {
		if method == "AddStats" {
			return ports.Errorf(ports.EUnavailable, "database gone")
		}
		return nil
	}
	if err := e.run(t, m.ID); err == nil {
		t.Fatal("handle send with the counters failing: got nil, want an error")
	}
	e.store.Hook = nil
	if got := e.get(t, m.ID); got.Status != ports.MsgSending || got.SentAt != nil {
		t.Errorf("got %s sent at %v, want the move to sent rolled back", got.Status, got.SentAt)
	}
	if got := e.counters(t); !got.IsZero() {
		t.Errorf("got %+v, want no counts", got)
	}
}

// requeue puts the send job of id back, as a queue retry would.
func (e *env) requeue(id ports.MessageID) {
	if _, ok := e.queue.Job(string(id)); !ok {
		e.queue.Put(ports.Job{ID: string(id), Type: "message.send",
			Payload: []byte(`{"sub":"` + string(e.p.SubscriptionID) + `","id":"` + string(id) + `","inst":"` + string(e.inst.ID) + `"}`)})
	}
}
