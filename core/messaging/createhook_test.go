package messaging_test

import (
	"context"
	"errors"
	"testing"

	"github.com/wagate/wagate/core/messaging"
	"github.com/wagate/wagate/ports"
)

// The transport's create hook runs in the message's transaction: it sees
// the message, and its failure takes the message back (no row, no job), so
// that an Idempotency-Key answer and its message exist together or not at
// all.
func TestCreateHookRunsInTheMessageTransaction(t *testing.T) {
	e := newEnv(t, ports.StatusConnected)
	var seen ports.Message
	ctx := ports.WithCreateHook(t.Context(), func(_ context.Context, created any) error {
		seen, _ = created.(ports.Message)
		return nil
	})
	m, err := e.svc.SendText(ctx, e.p, e.inst.ID, messaging.SendTextCmd{To: "+15550001111", Text: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	if seen.ID != m.ID || seen.Status != ports.MsgQueued {
		t.Errorf("the hook saw %q (%s), want the queued message %q", seen.ID, seen.Status, m.ID)
	}

	boom := errors.New("answer not stored")
	ctx = ports.WithCreateHook(t.Context(), func(context.Context, any) error { return boom })
	_, err = e.svc.SendText(ctx, e.p, e.inst.ID, messaging.SendTextCmd{To: "+15550001111", Text: "again"})
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want the hook's error", err)
	}
	page, err := e.store.Stores().Messages.ListMessages(t.Context(), e.p.SubscriptionID, ports.MessageFilter{InstanceID: e.inst.ID}, ports.PageRequest{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 || e.queue.Len() != 1 {
		t.Errorf("got %d messages and %d jobs, want only the first send's", len(page.Items), e.queue.Len())
	}
}
