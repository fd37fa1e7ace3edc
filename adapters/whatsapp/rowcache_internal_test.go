package whatsapp

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"go.mau.fi/whatsmeow/store"
)

// plainTxns runs a "decryption transaction" as a plain call: the rows
// are in memory, what counts is whether it ends in an error.
type plainTxns struct{ store.EventBuffer }

func (plainTxns) DoDecryptionTxn(ctx context.Context, fn func(context.Context) error) error {
	return fn(ctx)
}

// A write inside whatsmeow's decryption transaction is cached only once
// the transaction commits, and a write of the same key overlapping it
// (a send while a message is decrypted) is not cached either: which of
// the two the database kept is unknown.
func TestRowCacheWaitsForTheTransaction(t *testing.T) {
	var gen atomic.Uint64
	c := newRowCache[int](&gen, 0)
	txns := decryptions{EventBuffer: plainTxns{}}
	done := func() error { return nil }
	known := func(what, key string, want int) {
		t.Helper()
		v, ok := c.get(key)
		if (want == 0 && ok) || (want != 0 && v != want) {
			t.Fatalf("%s: %s cached %v (%d), want %d", what, key, ok, v, want)
		}
	}

	failed := errors.New("handler failed")
	_ = txns.DoDecryptionTxn(t.Context(), func(ctx context.Context) error {
		if err := c.write(ctx, []string{"a"}, done, map[string]int{"a": 1}); err != nil {
			t.Fatal(err)
		}
		known("before the commit", "a", 0)
		return failed
	})
	known("after a rollback", "a", 0)

	_ = txns.DoDecryptionTxn(t.Context(), func(ctx context.Context) error {
		return c.write(ctx, []string{"a"}, done, map[string]int{"a": 2})
	})
	known("after a commit", "a", 2)

	_ = txns.DoDecryptionTxn(t.Context(), func(ctx context.Context) error {
		if err := c.write(ctx, []string{"a"}, done, map[string]int{"a": 3}); err != nil {
			t.Fatal(err)
		}
		// A send saves the same key while the transaction is open.
		if err := c.write(context.Background(), []string{"a", "b"}, done, map[string]int{"a": 4, "b": 4}); err != nil {
			t.Fatal(err)
		}
		known("a write overlapping the transaction's", "a", 0)
		return nil
	})
	known("after two overlapping writes", "a", 0)
	known("after two overlapping writes", "b", 0)

	// A write under the context of a transaction that is over (a
	// goroutine that outlived it) is not known to be in it: not cached,
	// and nothing is left waiting for an end that already came.
	var stale context.Context
	_ = txns.DoDecryptionTxn(t.Context(), func(ctx context.Context) error { stale = ctx; return nil })
	if err := c.write(stale, []string{"c:1"}, done, map[string]int{"c:1": 6}); err != nil {
		t.Fatal(err)
	}
	known("written after its transaction", "c:1", 0)
	if len(c.busy) != 0 {
		t.Errorf("writes left in flight: %v", c.busy)
	}

	if err := c.writeWide(t.Context(), ofUser("c"), done); err != nil {
		t.Fatal(err)
	}
	if err := c.write(t.Context(), []string{"a", "b"}, done, map[string]int{"a": 5, "b": 5}); err != nil {
		t.Fatal(err)
	}
	known("a write alone", "b", 5)
	gen.Add(1)
	known("after an erasure", "b", 0)

	small := newRowCache[int](&gen, 2)
	for i, k := range []string{"x", "y", "z"} {
		if err := small.write(t.Context(), []string{k}, done, map[string]int{k: i + 1}); err != nil {
			t.Fatal(err)
		}
	}
	if len(small.vals) != 2 {
		t.Errorf("a cache of 2 holds %d values", len(small.vals))
	}
	if v, ok := small.get("z"); !ok || v != 3 {
		t.Errorf("the last value written: %d, %v", v, ok)
	}
}
