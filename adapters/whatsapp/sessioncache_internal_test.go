package whatsapp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"go.mau.fi/whatsmeow/proto/waAdv"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/store/sqlstore"
	"go.mau.fi/whatsmeow/types"

	"github.com/wagate/wagate/adapters/entstore"
	"github.com/wagate/wagate/test/testdb"
)

// The session cache on whatsmeow's real store, on both databases: what it
// answers is what the rows hold, a save of many sessions is one statement
// (or one transaction beyond the parameter limit), and a save inside a
// decryption transaction that rolls back is neither kept in the rows nor
// in the cache.
func TestSessionCacheOnSQLite(t *testing.T) {
	sessionCacheOn(t, entstore.Options{DataDir: t.TempDir()})
}

func TestSessionCacheOnPostgres(t *testing.T) {
	sessionCacheOn(t, entstore.Options{URL: testdb.Postgres(t)})
}

func sessionCacheOn(t *testing.T, opt entstore.Options) {
	ctx := t.Context()
	dev, rows := cachedDevice(t, opt)
	s := dev.Sessions.(*sessionCache)
	a, b := "1555:0", "1666:0"

	stored := func(what, addr string, want []byte) {
		t.Helper()
		got, err := rows.GetSession(ctx, addr)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: the row of %s holds %q (%v), want %q", what, addr, got, err, want)
		}
		got, err = s.GetSession(ctx, addr)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: the cache answers %q (%v) for %s, want %q", what, got, err, addr, want)
		}
	}
	cached := func(what, addr string, want bool) {
		t.Helper()
		if _, ok := s.sessions.get(addr); ok != want {
			t.Fatalf("%s: %s cached %v, want %v", what, addr, ok, want)
		}
	}

	many, err := s.GetManySessions(ctx, []string{a, b})
	if err != nil || len(many) != 2 || many[a] != nil || many[b] != nil {
		t.Fatalf("no sessions yet: %v, %v; want both addresses, nil", many, err)
	}
	if err := s.PutManySessions(ctx, map[string][]byte{a: []byte("a1"), b: []byte("b1")}); err != nil {
		t.Fatal(err)
	}
	stored("saved together", a, []byte("a1"))
	stored("saved together", b, []byte("b1"))
	cached("saved together", a, true)
	if err := s.PutManySessions(ctx, map[string][]byte{a: []byte("a2")}); err != nil {
		t.Fatal(err)
	}
	stored("saved again", a, []byte("a2"))
	if many, err = s.GetManySessions(ctx, []string{a, b, "1777:0"}); err != nil ||
		string(many[a]) != "a2" || string(many[b]) != "b1" || many["1777:0"] != nil {
		t.Fatalf("many from the cache and the rows: %q, %v", many, err)
	}

	rollback := errors.New("handler failed")
	err = dev.EventBuffer.DoDecryptionTxn(ctx, func(ctx context.Context) error {
		if err := s.PutSession(ctx, a, []byte("a-lost")); err != nil {
			return err
		}
		cached("inside the transaction", a, false)
		got, err := s.GetSession(ctx, a) // the transaction's own write
		if err != nil || string(got) != "a-lost" {
			t.Errorf("inside the transaction: %q, %v", got, err)
		}
		return rollback
	})
	if !errors.Is(err, rollback) {
		t.Fatalf("decryption transaction: %v", err)
	}
	cached("after a rollback", a, false)
	stored("after a rollback", a, []byte("a2"))

	err = dev.EventBuffer.DoDecryptionTxn(ctx, func(ctx context.Context) error {
		return s.PutManySessions(ctx, map[string][]byte{a: []byte("a3"), b: []byte("b3")})
	})
	if err != nil {
		t.Fatal(err)
	}
	cached("after a commit", a, true)
	stored("after a commit", a, []byte("a3"))
	stored("after a commit", b, []byte("b3"))

	// Beyond the parameter limit: several statements, one transaction.
	lots := map[string][]byte{}
	for i := range putManyRows + 10 {
		lots[fmt.Sprintf("1888%04d:0", i)] = fmt.Appendf(nil, "s%d", i)
	}
	if err := s.PutManySessions(ctx, lots); err != nil {
		t.Fatal(err)
	}
	stored("the last of many", fmt.Sprintf("1888%04d:0", putManyRows+9), fmt.Appendf(nil, "s%d", putManyRows+9))

	if err := s.DeleteAllSessions(ctx, "1555"); err != nil {
		t.Fatal(err)
	}
	cached("after deleting the number's sessions", a, false)
	if has, err := s.HasSession(ctx, a); err != nil || has {
		t.Fatalf("after deleting the number's sessions: has %v, %v", has, err)
	}
	stored("another number's", b, []byte("b3"))
	if err := s.DeleteSession(ctx, b); err != nil {
		t.Fatal(err)
	}
	if has, err := s.HasSession(ctx, b); err != nil || has {
		t.Fatalf("after deleting the session: has %v, %v", has, err)
	}

	// Moved to the contact's LID in SQL: both users' rows are forgotten.
	pn, lid := types.NewJID("1999", types.DefaultUserServer), types.NewJID("9999", types.HiddenUserServer)
	if err := s.PutSession(ctx, "1999:0", []byte("pn")); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSession(ctx, "9999_1:0", []byte("old")); err != nil {
		t.Fatal(err)
	}
	if err := s.MigratePNToLID(ctx, pn, lid); err != nil {
		t.Fatal(err)
	}
	cached("after the move", lid.SignalAddressUser()+":0", false)
	stored("after the move", lid.SignalAddressUser()+":0", []byte("pn"))
}

// cachedDevice saves a device in a fresh store of opt and puts the caches
// in front of it, as Connect does; it returns the device and its rows
// without the caches.
func cachedDevice(t *testing.T, opt entstore.Options) (*store.Device, *sqlstore.SQLStore) {
	t.Helper()
	ctx := t.Context()
	db, err := entstore.Open(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	container, deviceDB, err := newContainer(ctx, db.DeviceDB(), db.Dialect(), newLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	m := &Manager{container: container, deviceDB: deviceDB}
	dev := container.NewDevice()
	jid := types.NewADJID("1444", 0, 5)
	dev.ID = &jid
	dev.Account = &waAdv.ADVSignedDeviceIdentity{ // the lengths the table checks
		Details: []byte{1}, AccountSignature: make([]byte, 64), AccountSignatureKey: make([]byte, 32), DeviceSignature: make([]byte, 64)}
	if err := container.PutDevice(ctx, dev); err != nil {
		t.Fatal(err)
	}
	rows := dev.Sessions.(*sqlstore.SQLStore)
	m.cacheDevice(dev)
	if _, ok := dev.Sessions.(*sessionCache); !ok {
		t.Fatalf("the device's sessions are %T, want the cache", dev.Sessions)
	}
	return dev, rows
}
