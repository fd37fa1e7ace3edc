package whatsapp

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
)

// identityRows is an identity store in memory that counts its calls.
type identityRows struct {
	store.SessionStore // only MigratePNToLID is called
	rows               map[string][32]byte
	reads, writes      int
	failPut            error
	// onPut, when set, runs first in PutIdentity, outside mu: a save
	// waiting for the database.
	onPut func(addr string)
	mu    sync.Mutex
}

func (r *identityRows) PutIdentity(_ context.Context, addr string, key [32]byte) error {
	if r.onPut != nil {
		r.onPut(addr)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.writes++
	if r.failPut != nil {
		return r.failPut
	}
	r.rows[addr] = key
	return nil
}

func (r *identityRows) IsTrustedIdentity(_ context.Context, addr string, key [32]byte) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reads++
	k, ok := r.rows[addr]
	return !ok || k == key, nil
}

func (r *identityRows) DeleteIdentity(_ context.Context, addr string) error {
	r.writes++
	delete(r.rows, addr)
	return nil
}

func (r *identityRows) DeleteAllIdentities(context.Context, string) error {
	r.writes++
	clear(r.rows)
	return nil
}

// MigratePNToLID copies a number's keys to its LID's addresses, as the
// SQL store does.
func (r *identityRows) MigratePNToLID(_ context.Context, pn, lid types.JID) error {
	r.writes++
	for addr, k := range r.rows {
		if dev, ok := cutUser(addr, pn.SignalAddressUser()); ok {
			r.rows[lid.SignalAddressUser()+":"+dev] = k
		}
	}
	return nil
}

func cutUser(addr, user string) (string, bool) {
	if len(addr) > len(user) && addr[:len(user)+1] == user+":" {
		return addr[len(user)+1:], true
	}
	return "", false
}

func TestIdentityCache(t *testing.T) {
	ctx := t.Context()
	rows := &identityRows{rows: map[string][32]byte{}}
	var gen atomic.Uint64
	c := newIdentityCache(rows, &gen)
	a, b := [32]byte{1}, [32]byte{2}
	check := func(what string, addr string, key [32]byte, want bool, reads int) {
		t.Helper()
		got, err := c.IsTrustedIdentity(ctx, addr, key)
		if err != nil || got != want || rows.reads != reads {
			t.Fatalf("%s: trusted %v, %v after %d store reads; want %v after %d", what, got, err, rows.reads, want, reads)
		}
	}

	check("an unknown address asks the store", "1555:0", a, true, 1)
	if err := c.PutIdentity(ctx, "1555:0", a); err != nil || rows.writes != 1 {
		t.Fatalf("first save: %v, %d writes", err, rows.writes)
	}
	if err := c.PutIdentity(ctx, "1555:0", a); err != nil || rows.writes != 1 {
		t.Fatalf("saving the stored key again: %v, %d writes; want none", err, rows.writes)
	}
	check("the stored key", "1555:0", a, true, 1)
	check("another key", "1555:0", b, false, 1)
	if err := c.PutIdentity(ctx, "1555:0", b); err != nil || rows.writes != 2 || rows.rows["1555:0"] != b {
		t.Fatalf("a changed key: %v, %d writes, stored %v", err, rows.writes, rows.rows["1555:0"])
	}

	rows.failPut = errors.New("disk full")
	if err := c.PutIdentity(ctx, "1666:0", a); err == nil {
		t.Fatal("a failed save: got no error")
	}
	rows.failPut = nil
	check("a key whose save failed is not known", "1666:0", a, true, 2)

	if err := c.DeleteIdentity(ctx, "1555:0"); err != nil {
		t.Fatal(err)
	}
	check("a deleted address asks the store", "1555:0", a, true, 3)

	// Keys deleted behind the cache (ErasePeer) are forgotten.
	if err := c.PutIdentity(ctx, "1777:0", a); err != nil {
		t.Fatal(err)
	}
	delete(rows.rows, "1777:0")
	gen.Add(1)
	check("after an erasure", "1777:0", b, true, 4)

	// A number's keys moved to its LID: the first move forgets both
	// users' keys, the later calls (every send) keep the cache.
	sessions := newSessionCache(rows, nil, "", c, &gen)
	pn := types.NewJID("1888", types.DefaultUserServer)
	lid := types.NewJID("9999", types.HiddenUserServer)
	if err := c.PutIdentity(ctx, "1888:0", a); err != nil {
		t.Fatal(err)
	}
	if err := c.PutIdentity(ctx, lid.SignalAddressUser()+":0", b); err != nil {
		t.Fatal(err)
	}
	if err := sessions.MigratePNToLID(ctx, pn, lid); err != nil {
		t.Fatal(err)
	}
	check("the LID's key after the move comes from the store", lid.SignalAddressUser()+":0", a, true, 5)
	if err := c.PutIdentity(ctx, lid.SignalAddressUser()+":0", a); err != nil {
		t.Fatal(err)
	}
	if err := sessions.MigratePNToLID(ctx, pn, lid); err != nil {
		t.Fatal(err)
	}
	check("a later move call keeps the cache", lid.SignalAddressUser()+":0", a, true, 5)
}

// A save waiting for the database does not hold the cache: whatsmeow's
// decryption transaction holds the database's writer while it checks an
// identity, so a check waiting for the save would wait for ever (on
// SQLite, until the write gate gave up after 10 s). And a key saved
// while another save overlapped it is not cached: the database's order
// of the two is unknown.
func TestIdentityCacheSaveHoldsNoLock(t *testing.T) {
	ctx := t.Context()
	rows := &identityRows{rows: map[string][32]byte{"1555:0": {1}}}
	var gen atomic.Uint64
	c := newIdentityCache(rows, &gen)
	a, b := [32]byte{1}, [32]byte{2}

	inPut, release := make(chan string, 2), make(chan struct{})
	rows.onPut = func(addr string) {
		inPut <- addr
		<-release
	}
	saved := make(chan error, 2)
	go func() { saved <- c.PutIdentity(ctx, "1666:0", a) }()
	<-inPut
	checked := make(chan bool, 1)
	go func() {
		ok, _ := c.IsTrustedIdentity(ctx, "1555:0", a)
		checked <- ok
	}()
	select {
	case ok := <-checked:
		if !ok {
			t.Error("the stored key: not trusted")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a check waited for a save in flight")
	}

	go func() { saved <- c.PutIdentity(ctx, "1666:0", b) }() // overlaps the first
	<-inPut
	close(release)
	for range 2 {
		if err := <-saved; err != nil {
			t.Fatal(err)
		}
	}
	rows.onPut = nil
	reads := rows.reads
	if _, err := c.IsTrustedIdentity(ctx, "1666:0", b); err != nil || rows.reads != reads+1 {
		t.Errorf("after two overlapping saves: %v, %d store reads; want the check to ask the store", err, rows.reads-reads)
	}
	if err := c.PutIdentity(ctx, "1666:0", b); err != nil {
		t.Fatal(err)
	}
	if err := c.PutIdentity(ctx, "1666:0", b); err != nil || rows.writes != 3 {
		t.Errorf("a save alone is cached: %v, %d writes; want 3 (the same key again is not written)", err, rows.writes)
	}
}
