package whatsapp

import (
	"context"
	"sync"
	"sync/atomic"

	"go.mau.fi/whatsmeow/store"
)

// rowCache is a write-through cache of one device's rows of one of
// whatsmeow's tables (identity keys, Signal sessions), keyed by Signal
// address. It holds only what a write of this process stored: a value is
// cached once its write succeeded (and committed) and no other write of
// the same key overlapped it, so the cache never holds a value the
// database does not. Reads never fill it, so a read racing a write
// cannot put an old value back.
//
// One client uses a device at a time (the instance's lease holder), and
// all its writes of these rows go through here; rows deleted behind it
// (ErasePeer) bump gen, which makes every cache start over.
//
// mu is never held across a database call: whatsmeow reads these rows
// inside its decryption transaction, which holds SQLite's one writer (or
// PostgreSQL row locks) while it waits for mu, so a write that held mu
// while it waited for the database deadlocked with it.
type rowCache[V any] struct {
	gen   *atomic.Uint64
	limit int // values kept at most; 0: no limit

	mu      sync.Mutex
	seen    uint64            // gen when vals was last emptied
	seq     uint64            // writes started
	wide    int               // writes of many keys (by prefix) in flight
	wideSeq uint64            // seq of the last of those started
	busy    map[string]int    // writes in flight per key
	lastSeq map[string]uint64 // seq of the last write started of a busy key
	vals    map[string]V
}

func newRowCache[V any](gen *atomic.Uint64, limit int) *rowCache[V] {
	return &rowCache[V]{gen: gen, limit: limit, seen: gen.Load(),
		busy: map[string]int{}, lastSeq: map[string]uint64{}, vals: map[string]V{}}
}

// sync starts over when rows were erased behind the cache. Caller holds mu.
func (c *rowCache[V]) sync() {
	if g := c.gen.Load(); g != c.seen {
		clear(c.vals)
		c.seen = g
	}
}

// get returns the value stored for key, when the cache knows it.
func (c *rowCache[V]) get(key string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sync()
	v, ok := c.vals[key]
	return v, ok
}

// write runs do, a database write of keys, and then caches keep (values
// of keys; nil for a deletion) if do succeeded, its transaction (if any)
// committed, and no other write of those keys, no write by prefix and no
// erasure overlapped it.
func (c *rowCache[V]) write(ctx context.Context, keys []string, do func() error, keep map[string]V) error {
	c.mu.Lock()
	c.sync()
	c.seq++
	n, gen, wideSeq := c.seq, c.seen, c.wideSeq
	alone := c.wide == 0
	for _, k := range keys {
		delete(c.vals, k)
		if c.busy[k] > 0 {
			alone = false
		}
		c.busy[k]++
		c.lastSeq[k] = n
	}
	c.mu.Unlock()

	err := do()
	afterCommit(ctx, err, func(committed bool) {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.sync()
		cache := committed && keep != nil && alone && c.seen == gen && c.wideSeq == wideSeq
		for _, k := range keys {
			cache = cache && c.lastSeq[k] == n
		}
		for _, k := range keys {
			if c.busy[k]--; c.busy[k] == 0 {
				delete(c.busy, k)
				delete(c.lastSeq, k)
			}
		}
		if cache {
			for k, v := range keep {
				c.put(k, v)
			}
		}
	})
	return err
}

// writeWide runs do, a database write of every key that match selects
// (a deletion or move by prefix), forgetting them first; no write that
// overlaps it is cached.
func (c *rowCache[V]) writeWide(ctx context.Context, match func(key string) bool, do func() error) error {
	c.mu.Lock()
	c.sync()
	c.seq++
	c.wideSeq = c.seq
	c.wide++
	for k := range c.vals {
		if match(k) {
			delete(c.vals, k)
		}
	}
	c.mu.Unlock()

	err := do()
	afterCommit(ctx, err, func(bool) {
		c.mu.Lock()
		c.wide--
		c.mu.Unlock()
	})
	return err
}

// put caches one value, making room first when the cache is full (any
// value goes: the next read of it asks the database). Caller holds mu.
func (c *rowCache[V]) put(key string, v V) {
	if _, ok := c.vals[key]; !ok && c.limit > 0 && len(c.vals) >= c.limit {
		for k := range c.vals {
			delete(c.vals, k)
			break
		}
	}
	c.vals[key] = v
}

// txEnds collects what runs when whatsmeow's decryption transaction ends:
// a write inside it is only done once the transaction commits, and undone
// when it rolls back.
type txEnds struct {
	mu   sync.Mutex
	fns  []func(committed bool)
	over bool // the transaction ended: a write under its context now is not known to be in it
}

type txEndsKey struct{}

// afterCommit runs end with whether the write (whose error is err)
// holds: at once outside a decryption transaction, and when the
// transaction ends inside one.
func afterCommit(ctx context.Context, err error, end func(committed bool)) {
	if t, ok := ctx.Value(txEndsKey{}).(*txEnds); ok {
		t.mu.Lock()
		over := t.over
		if !over {
			t.fns = append(t.fns, func(committed bool) { end(committed && err == nil) })
		}
		t.mu.Unlock()
		if over {
			end(false) // whether it holds is unknown: not cached
		}
		return
	}
	end(err == nil)
}

// decryptions marks whatsmeow's decryption transactions in their context,
// so that the caches' writes inside one wait for its end (rowCache).
type decryptions struct {
	store.EventBuffer
}

func (d decryptions) DoDecryptionTxn(ctx context.Context, fn func(context.Context) error) error {
	if _, nested := ctx.Value(txEndsKey{}).(*txEnds); nested {
		return d.EventBuffer.DoDecryptionTxn(ctx, fn) // the outer one's
	}
	t := &txEnds{}
	committed := false
	defer func() { // also when fn panics: the writes are then undone
		t.mu.Lock()
		fns := t.fns
		t.over = true
		t.mu.Unlock()
		for _, end := range fns {
			end(committed)
		}
	}()
	err := d.EventBuffer.DoDecryptionTxn(context.WithValue(ctx, txEndsKey{}, t), fn)
	committed = err == nil
	return err
}
