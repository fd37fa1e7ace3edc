package storetest

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wagate/wagate/ports"
)

// RunIdempotency runs the conformance tests of ports.IdempotencyStore.
// open is called once per test and must return an empty store of its own
// (migrated, for a database), closed when t ends.
func RunIdempotency(t *testing.T, open func(t *testing.T) ports.IdempotencyStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, ctx context.Context, s ports.IdempotencyStore)
	}{
		{"BeginConflict", testIdemBeginConflict},
		{"PerSubscription", testIdemPerSubscription},
		{"Complete", testIdemComplete},
		{"Release", testIdemRelease},
		{"Purge", testIdemPurge},
		{"BeginConcurrently", testIdemBeginRace},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, t.Context(), open(t))
		})
	}
}

// idemRecord is a new claim of key with the request hash h.
func idemRecord(key, h string) ports.IdempotencyRecord {
	return ports.IdempotencyRecord{ID: newID(), Key: key, RequestHash: h, CreatedAt: base, ExpiresAt: base.Add(24 * time.Hour)}
}

func testIdemBeginConflict(t *testing.T, ctx context.Context, s ports.IdempotencyStore) {
	sub := ports.SubscriptionID(newID())
	key := strings.Repeat("k", 255)
	first := idemRecord(key, "h1")
	got, err := s.BeginIdempotency(ctx, sub, first)
	mustOK(t, "begin", err)
	want := first
	want.SubscriptionID, want.State = sub, ports.IdempotencyInProgress
	diff(t, "begin", want, got)

	held, err := s.BeginIdempotency(ctx, sub, idemRecord(key, "h2"))
	wantErr(t, "begin a held key", err, ports.EConflict, "")
	diff(t, "the held record", want, held)
	wantUTC(t, "created at", held.CreatedAt)
	wantUTC(t, "expires at", held.ExpiresAt)
}

func testIdemPerSubscription(t *testing.T, ctx context.Context, s ports.IdempotencyStore) {
	a, b := ports.SubscriptionID(newID()), ports.SubscriptionID(newID())
	_, err := s.BeginIdempotency(ctx, a, idemRecord("same", "h1"))
	mustOK(t, "begin in a", err)
	got, err := s.BeginIdempotency(ctx, b, idemRecord("same", "h2"))
	mustOK(t, "begin the same key in b", err)
	if got.SubscriptionID != b || got.RequestHash != "h2" {
		t.Errorf("got %+v, want b's own record", got)
	}
}

func testIdemComplete(t *testing.T, ctx context.Context, s ports.IdempotencyStore) {
	sub, other := ports.SubscriptionID(newID()), ports.SubscriptionID(newID())
	r := idemRecord("k", "h1")
	_, err := s.BeginIdempotency(ctx, sub, r)
	mustOK(t, "begin", err)
	body := []byte(`{"id":"m1","status":"queued"}`)
	wantErr(t, "complete another claim", s.CompleteIdempotency(ctx, sub, "k", newID(), 202, "application/json", body), ports.ENotFound, "")
	wantErr(t, "complete in another tenant", s.CompleteIdempotency(ctx, other, "k", r.ID, 202, "application/json", body), ports.ENotFound, "")
	mustOK(t, "complete", s.CompleteIdempotency(ctx, sub, "k", r.ID, 202, "application/json", body))
	wantErr(t, "complete twice", s.CompleteIdempotency(ctx, sub, "k", r.ID, 500, "", nil), ports.ENotFound, "")

	held, err := s.BeginIdempotency(ctx, sub, idemRecord("k", "h1"))
	wantErr(t, "begin a done key", err, ports.EConflict, "")
	want := r
	want.SubscriptionID, want.State, want.Status, want.ContentType, want.Body = sub, ports.IdempotencyDone, 202, "application/json", body
	diff(t, "the done record", want, held)
}

func testIdemRelease(t *testing.T, ctx context.Context, s ports.IdempotencyStore) {
	sub := ports.SubscriptionID(newID())
	r := idemRecord("k", "h1")
	_, err := s.BeginIdempotency(ctx, sub, r)
	mustOK(t, "begin", err)
	mustOK(t, "release another claim", s.ReleaseIdempotency(ctx, sub, "k", newID()))
	_, err = s.BeginIdempotency(ctx, sub, idemRecord("k", "h1"))
	wantErr(t, "begin after releasing another claim", err, ports.EConflict, "")
	mustOK(t, "release", s.ReleaseIdempotency(ctx, sub, "k", r.ID))
	mustOK(t, "release again", s.ReleaseIdempotency(ctx, sub, "k", r.ID))
	_, err = s.BeginIdempotency(ctx, sub, idemRecord("k", "h2"))
	mustOK(t, "begin after release", err)
}

func testIdemPurge(t *testing.T, ctx context.Context, s ports.IdempotencyStore) {
	sub := ports.SubscriptionID(newID())
	old := idemRecord("old", "h")
	old.ExpiresAt = base.Add(time.Hour)
	_, err := s.BeginIdempotency(ctx, sub, old)
	mustOK(t, "begin old", err)
	young := idemRecord("young", "h")
	young.ExpiresAt = base.Add(3 * time.Hour)
	_, err = s.BeginIdempotency(ctx, sub, young)
	mustOK(t, "begin young", err)

	n, err := s.PurgeIdempotency(ctx, base.Add(2*time.Hour))
	mustOK(t, "purge", err)
	if n != 1 {
		t.Errorf("purge: got %d deleted, want 1", n)
	}
	_, err = s.BeginIdempotency(ctx, sub, idemRecord("old", "h"))
	mustOK(t, "begin the purged key", err)
	_, err = s.BeginIdempotency(ctx, sub, idemRecord("young", "h"))
	wantErr(t, "begin the kept key", err, ports.EConflict, "")
}

func testIdemBeginRace(t *testing.T, ctx context.Context, s ports.IdempotencyStore) {
	sub := ports.SubscriptionID(newID())
	const n = 20
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		winners []string
		held    []string
	)
	for range n {
		wg.Go(func() {
			r := idemRecord("race", "h")
			got, err := s.BeginIdempotency(ctx, sub, r)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				winners = append(winners, r.ID)
			case ports.IsCode(err, ports.EConflict):
				held = append(held, got.ID)
			default:
				t.Errorf("concurrent begin: got %v, want nil or conflict", err)
			}
		})
	}
	wg.Wait()
	if len(winners) != 1 || len(held) != n-1 {
		t.Fatalf("got %d winners and %d conflicts, want 1 and %d", len(winners), len(held), n-1)
	}
	for _, id := range held {
		if id != winners[0] {
			t.Errorf("a conflict returned claim %q, want the winner's %q", id, winners[0])
		}
	}
}
