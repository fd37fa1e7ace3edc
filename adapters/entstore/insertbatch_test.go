package entstore

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/wagate/wagate/ports"
)

// openSQLiteWithInstance opens a migrated SQLite store with one
// subscription and one instance to insert messages of.
func openSQLiteWithInstance(t *testing.T) (*Store, ports.Instance) {
	t.Helper()
	ctx := t.Context()
	st, err := Open(ctx, Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	sub := ports.Subscription{ID: "sub-1", Tier: ports.TierBasic, CreatedAt: now, UpdatedAt: now}
	if err := st.Stores().Subscriptions.CreateSubscription(ctx, sub); err != nil {
		t.Fatal(err)
	}
	inst := ports.Instance{ID: "inst-1", SubscriptionID: sub.ID, Name: "one", Status: ports.StatusConnected, CreatedAt: now, UpdatedAt: now}
	if err := st.Stores().Instances.CreateInstance(ctx, sub.ID, inst); err != nil {
		t.Fatal(err)
	}
	return st, inst
}

func queuedText(inst ports.Instance, id string) ports.Message {
	now := time.Now().UTC()
	return ports.Message{ID: ports.MessageID(id), SubscriptionID: inst.SubscriptionID, InstanceID: inst.ID,
		Direction: ports.DirectionOutbound, Chat: "15550001111@s.whatsapp.net", To: "15550001111@s.whatsapp.net",
		Type: ports.MessageText, Text: "hi", Status: ports.MsgQueued, CreatedAt: now, UpdatedAt: now}
}

// A batch with a row that cannot go in fails that row only: the others
// are stored, and each caller gets its own row's error.
func TestInsertBatchFailsOnlyTheBadRow(t *testing.T) {
	st, inst := openSQLiteWithInstance(t)
	ctx := t.Context()
	if err := st.Stores().Messages.CreateMessage(ctx, inst.SubscriptionID, queuedText(inst, "m-dup")); err != nil {
		t.Fatal(err)
	}
	var rows []insertRow
	for _, id := range []string{"m-1", "m-dup", "m-2"} {
		rows = append(rows, insertRow{sub: inst.SubscriptionID, m: queuedText(inst, id)})
	}
	errs := st.pool.inserts.insertAll(ctx, rows)
	if errs[0] != nil || errs[2] != nil || !ports.IsCode(errs[1], ports.EConflict) {
		t.Fatalf("got %v, want nil, conflict, nil", errs)
	}
	for _, id := range []ports.MessageID{"m-1", "m-2"} {
		if _, err := st.Stores().Messages.GetMessage(ctx, inst.SubscriptionID, id); err != nil {
			t.Errorf("%s: %v, want stored", id, err)
		}
	}
}

// Rows that come while a batch is written join the next one, whose first
// caller writes it once the batch before is done; a row that comes when
// nothing is written is written at once.
func TestInsertBatchTurns(t *testing.T) {
	in := &inserter{}
	row := insertRow{}
	a, _, writes, now := in.join(row)
	if !writes || !now {
		t.Fatalf("the first row: writes %v now %v, want its batch written at once", writes, now)
	}
	in.mu.Lock()
	in.open = nil // a's writer took it
	in.mu.Unlock()
	b, i, writes, now := in.join(row)
	if !writes || now || b == a || i != 0 {
		t.Fatalf("a row while a batch is written: writes %v now %v, want a new batch written after it", writes, now)
	}
	c, i, writes, _ := in.join(row)
	if writes || c != b || i != 1 {
		t.Fatalf("the next row: writes %v batch %v place %d, want the same batch, second, written by the first", writes, c == b, i)
	}
	// a is done: the turn goes to b.
	in.mu.Lock()
	close(in.open.turn)
	in.open = nil
	in.mu.Unlock()
	select {
	case <-b.turn:
	default:
		t.Fatal("b's turn not given")
	}
}

// Many callers at once: every message is stored once, and a duplicate id
// fails only its caller, whichever batch it falls in.
func TestInsertBatchConcurrently(t *testing.T) {
	st, inst := openSQLiteWithInstance(t)
	ctx := context.Background()
	if err := st.Stores().Messages.CreateMessage(ctx, inst.SubscriptionID, queuedText(inst, "m-dup")); err != nil {
		t.Fatal(err)
	}
	const n = 200
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		id := fmt.Sprintf("m-%03d", i)
		if i == n/2 {
			id = "m-dup"
		}
		wg.Go(func() { errs[i] = st.Stores().Messages.CreateMessage(ctx, inst.SubscriptionID, queuedText(inst, id)) })
	}
	wg.Wait()
	for i, err := range errs {
		if i == n/2 {
			if !ports.IsCode(err, ports.EConflict) {
				t.Errorf("the duplicate: %v, want conflict", err)
			}
			continue
		}
		if err != nil {
			t.Errorf("message %d: %v", i, err)
		}
	}
	page, err := st.Stores().Messages.ListMessages(ctx, inst.SubscriptionID, ports.MessageFilter{InstanceID: inst.ID}, ports.PageRequest{Limit: 500})
	if err != nil || len(page.Items) != n {
		t.Errorf("stored: %d, %v; want %d", len(page.Items), err, n)
	}
	in := st.pool.inserts
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.busy || in.open != nil {
		t.Errorf("after all inserts: busy %v, open batch %v; want idle", in.busy, in.open != nil)
	}
}
