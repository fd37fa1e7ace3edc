package messaging_test

import (
	"errors"
	"testing"

	"github.com/wagate/wagate/core/messaging"
	"github.com/wagate/wagate/ports"
)

// The command's Idempotency-Key claim is recorded in the message's
// transaction: its answer renders the message, and its failure takes the
// message back (no row, no job), so that an answer and its message exist
// together or not at all.
func TestIdempotencyClaimRecordedInTheMessageTransaction(t *testing.T) {
	e := newEnv(t, ports.StatusConnected)
	idem := e.store.Stores().Idempotency
	claim := func(key string, answer func(ports.Message) (ports.IdempotencyAnswer, error)) *ports.IdempotencyClaim[ports.Message] {
		_, err := idem.BeginIdempotency(t.Context(), e.p.SubscriptionID, ports.IdempotencyRecord{ID: key, Key: key, RequestHash: "h"})
		if err != nil {
			t.Fatal(err)
		}
		return &ports.IdempotencyClaim[ports.Message]{Key: key, ID: key, Answer: answer}
	}
	var seen ports.Message
	ok := claim("k1", func(m ports.Message) (ports.IdempotencyAnswer, error) {
		seen = m
		return ports.IdempotencyAnswer{Status: 202, Body: []byte(m.ID)}, nil
	})
	m, err := e.svc.SendText(t.Context(), e.p, e.inst.ID, messaging.SendTextCmd{To: "+15550001111", Text: "hi", Idempotency: ok})
	if err != nil {
		t.Fatal(err)
	}
	if seen.ID != m.ID || seen.Status != ports.MsgQueued {
		t.Errorf("the answer rendered %q (%s), want the queued message %q", seen.ID, seen.Status, m.ID)
	}
	rec, _ := idem.BeginIdempotency(t.Context(), e.p.SubscriptionID, ports.IdempotencyRecord{ID: "x", Key: ok.Key})
	if rec.State != ports.IdempotencyDone || string(rec.Body) != string(m.ID) {
		t.Errorf("stored answer: got %s %q, want done %q", rec.State, rec.Body, m.ID)
	}

	boom := errors.New("answer not rendered")
	failing := claim("k2", func(ports.Message) (ports.IdempotencyAnswer, error) { return ports.IdempotencyAnswer{}, boom })
	_, err = e.svc.SendText(t.Context(), e.p, e.inst.ID, messaging.SendTextCmd{To: "+15550001111", Text: "again", Idempotency: failing})
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want the answer's error", err)
	}
	page, err := e.store.Stores().Messages.ListMessages(t.Context(), e.p.SubscriptionID, ports.MessageFilter{InstanceID: e.inst.ID}, ports.PageRequest{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 || e.queue.Len() != 1 {
		t.Errorf("got %d messages and %d jobs, want only the first send's", len(page.Items), e.queue.Len())
	}
}
