package uuidv7_test

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wagate/wagate/adapters/uuidv7"
)

func TestNewID(t *testing.T) {
	g := uuidv7.New()
	const n = 1000
	ids := make([]string, n)
	for i := range ids {
		ids[i] = g.NewID()
	}
	for _, id := range ids {
		u, err := uuid.Parse(id)
		if err != nil {
			t.Fatalf("parse %q: %v", id, err)
		}
		if u.Version() != 7 || u.Variant() != uuid.RFC4122 || u.String() != id {
			t.Fatalf("id %q: got version %d variant %v, want a canonical v7 RFC 4122 UUID", id, u.Version(), u.Variant())
		}
	}
	// Created one after another in one process, they sort in creation
	// order and never repeat.
	if !slices.IsSorted(ids) {
		t.Error("ids: got out of creation order, want sorted")
	}
	if len(slices.Compact(slices.Clone(ids))) != n {
		t.Error("ids: got duplicates, want all distinct")
	}
}

func TestNewIDConcurrent(t *testing.T) {
	g := uuidv7.New()
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				id := g.NewID()
				mu.Lock()
				if seen[id] {
					t.Errorf("duplicate id %s", id)
				}
				seen[id] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

func TestTimeOf(t *testing.T) {
	g := uuidv7.New()
	before := time.Now().Truncate(time.Millisecond)
	got, ok := g.TimeOf(g.NewID())
	after := time.Now()
	if !ok || got.Before(before) || got.After(after) {
		t.Fatalf("got %v, %v; want a time from %v to %v", got, ok, before, after)
	}
	for _, id := range []string{"", "nonsense", uuid.NewString(), "{" + g.NewID() + "}"} {
		if _, ok := g.TimeOf(id); ok {
			t.Fatalf("TimeOf(%q): got ok, want false for what is not a canonical UUIDv7", id)
		}
	}
}
