package whatsapp

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"go.mau.fi/util/dbutil"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/store/sqlstore"
	"go.mau.fi/whatsmeow/types"
)

// sessionsKept bounds a device's cached Signal sessions: the
// conversations it is busy with; the others are read from the database as
// before. A session is about 1 KiB (more once it holds archived states), so a
// device holds at most a few hundred KiB of them, 0 while idle.
const sessionsKept = 128

// putManyRows is how many sessions one statement saves; more go in one
// transaction of several (the parameters of a statement are bounded).
const putManyRows = 500

// sessionCache keeps the Signal sessions a device has saved, and saves
// many in one statement. A send reads the sessions of every device it
// encrypts to (the recipient's and our own phone's) and saves them all
// back: whatsmeow's store does a SELECT, then BEGIN, an upsert each and
// COMMIT, which on PostgreSQL are five round trips a message (and on
// SQLite a read and a write transaction). With the cache, a send to a
// conversation it knows reads nothing, and the save is one statement.
type sessionCache struct {
	store.SessionStore
	db       *dbutil.Database // the device store's, so that a write joins its transaction
	ourJID   string           // the device's rows
	sessions *rowCache[[]byte]
	ids      *identityCache

	mu       sync.Mutex
	seen     uint64          // gen when migrated was last emptied
	migrated map[string]bool // numbers whose rows moved to their LID (MigratePNToLID)
}

func newSessionCache(inner store.SessionStore, db *dbutil.Database, ourJID string, ids *identityCache, gen *atomic.Uint64) *sessionCache {
	return &sessionCache{SessionStore: inner, db: db, ourJID: ourJID, ids: ids,
		sessions: newRowCache[[]byte](gen, sessionsKept), seen: gen.Load(), migrated: map[string]bool{}}
}

// The values are whatsmeow's serialized sessions, fresh slices it does
// not change afterwards, so the cache keeps and returns them as they are.

func (s *sessionCache) GetSession(ctx context.Context, address string) ([]byte, error) {
	if v, ok := s.sessions.get(address); ok {
		return v, nil
	}
	return s.SessionStore.GetSession(ctx, address)
}

func (s *sessionCache) HasSession(ctx context.Context, address string) (bool, error) {
	if _, ok := s.sessions.get(address); ok {
		return true, nil
	}
	return s.SessionStore.HasSession(ctx, address)
}

// GetManySessions answers as the store does: every address is in the
// map, with nil for one without a session.
func (s *sessionCache) GetManySessions(ctx context.Context, addresses []string) (map[string][]byte, error) {
	out := make(map[string][]byte, len(addresses))
	var unknown []string
	for _, a := range addresses {
		if v, ok := s.sessions.get(a); ok {
			out[a] = v
		} else {
			unknown = append(unknown, a)
		}
	}
	if len(unknown) == 0 {
		return out, nil
	}
	read, err := s.SessionStore.GetManySessions(ctx, unknown)
	if err != nil {
		return nil, err
	}
	for _, a := range unknown {
		out[a] = read[a]
	}
	return out, nil
}

func (s *sessionCache) PutSession(ctx context.Context, address string, session []byte) error {
	return s.sessions.write(ctx, []string{address},
		func() error { return s.SessionStore.PutSession(ctx, address, session) },
		map[string][]byte{address: session})
}

func (s *sessionCache) PutManySessions(ctx context.Context, sessions map[string][]byte) error {
	if len(sessions) == 0 {
		return nil
	}
	addresses := slices.Sorted(maps.Keys(sessions)) // rows locked in one order
	return s.sessions.write(ctx, addresses, func() error { return s.putMany(ctx, addresses, sessions) }, sessions)
}

// putMany upserts the sessions in as few statements as the parameter
// limit allows, all in one transaction (the caller's, if it has one).
func (s *sessionCache) putMany(ctx context.Context, addresses []string, sessions map[string][]byte) error {
	put := func(ctx context.Context) error {
		for chunk := range slices.Chunk(addresses, putManyRows) {
			var q strings.Builder
			q.WriteString("INSERT INTO whatsmeow_sessions (our_jid, their_id, session) VALUES ")
			args := make([]any, 1, 1+2*len(chunk))
			args[0] = s.ourJID
			for i, a := range chunk {
				if i > 0 {
					q.WriteString(", ")
				}
				fmt.Fprintf(&q, "($1, $%d, $%d)", len(args)+1, len(args)+2)
				args = append(args, a, sessions[a])
			}
			q.WriteString(" ON CONFLICT (our_jid, their_id) DO UPDATE SET session=excluded.session")
			if _, err := s.db.Exec(ctx, q.String(), args...); err != nil {
				return fmt.Errorf("save sessions: %w", err)
			}
		}
		return nil
	}
	if len(addresses) <= putManyRows {
		return put(ctx) // one statement is atomic on its own
	}
	return s.db.DoTxn(ctx, nil, put)
}

func (s *sessionCache) DeleteSession(ctx context.Context, address string) error {
	return s.sessions.write(ctx, []string{address},
		func() error { return s.SessionStore.DeleteSession(ctx, address) }, nil)
}

func (s *sessionCache) DeleteAllSessions(ctx context.Context, phone string) error {
	return s.sessions.writeWide(ctx, ofUser(phone),
		func() error { return s.SessionStore.DeleteAllSessions(ctx, phone) })
}

// MigratePNToLID moves a contact's sessions and identity keys from its
// phone number's Signal addresses to its LID's, which the store does in
// SQL, behind the caches: they forget both users' rows. whatsmeow asks on
// every send to a number with a LID; the store moves the rows the first
// time and then does nothing, so the caches forget the first time only.
func (s *sessionCache) MigratePNToLID(ctx context.Context, pn, lid types.JID) error {
	from, to := pn.SignalAddressUser(), lid.SignalAddressUser()
	s.mu.Lock()
	if g := s.sessions.gen.Load(); g != s.seen {
		clear(s.migrated) // an erased number's rows may come back under it
		s.seen = g
	}
	done := s.migrated[from]
	s.mu.Unlock()
	move := func() error { return s.SessionStore.MigratePNToLID(ctx, pn, lid) }
	if done {
		return move()
	}
	both := ofUser(from, to)
	err := s.sessions.writeWide(ctx, both, func() error { return s.ids.keys.writeWide(ctx, both, move) })
	if err == nil {
		s.mu.Lock()
		s.migrated[from] = true
		s.mu.Unlock()
	}
	return err
}

// cacheDevice puts the caches in front of dev's identity and session
// stores: at once for a device loaded from the store, and for a new one
// when the pairing first saves it (the store only exists from then on:
// cachingContainer). No client may use dev yet.
func (m *Manager) cacheDevice(dev *store.Device) {
	if !dev.Initialized {
		dev.Container = &cachingContainer{Container: m.container, m: m}
		return
	}
	if _, done := dev.Identities.(*identityCache); done {
		return
	}
	rows, ok := dev.Sessions.(*sqlstore.SQLStore)
	if !ok {
		return // not whatsmeow's SQL store: nothing to put in front of
	}
	ids := newIdentityCache(dev.Identities, &m.cacheGen)
	dev.Identities = ids
	dev.Sessions = newSessionCache(dev.Sessions, m.deviceDB, rows.JID, ids, &m.cacheGen)
	dev.EventBuffer = decryptions{EventBuffer: dev.EventBuffer}
}

// cachingContainer is the container of a device being paired: whatsmeow
// saves the device once it has its JID, and the store then sets up the
// device's stores, which get the caches before the pairing goes on. The
// store then makes itself the device's container again.
type cachingContainer struct {
	*sqlstore.Container
	m *Manager
}

func (c *cachingContainer) PutDevice(ctx context.Context, dev *store.Device) error {
	err := c.Container.PutDevice(ctx, dev)
	if dev.Initialized {
		c.m.cacheDevice(dev)
	}
	return err
}
