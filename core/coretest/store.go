package coretest

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/wagate/wagate/ports"
)

// Store is an in-memory implementation of every store port and of
// ports.TxRunner, with the databases' transaction semantics: only the
// stores handed to InTx's fn work in the transaction, on a private copy of
// the state that replaces the committed state when fn succeeds, so a failed
// transaction leaves no trace and no one outside sees its writes before
// the commit. Like SQLite there is one writer at a time: a transaction, or
// a write outside one, waits for the one in progress (so a write through
// Stores() inside fn deadlocks); reads outside a transaction see the last
// committed state and never wait. Uniqueness rules and error reasons
// match the real stores.
type Store struct {
	// Hook, when set, runs at the start of every store method with the
	// method's name; a non-nil error is returned instead of running the
	// method. Tests use it to inject failures and to observe call order. It
	// runs under the store's lock and must not call the store.
	Hook func(method string) error

	writer sync.Mutex // held by a transaction, or a write outside one
	mu     sync.Mutex // guards data and runs the hook
	data   state      // the committed state
}

// state is everything the store holds. Values are copied on the way in and
// out and replaced rather than changed in place, so a shallow copy of the
// maps is a full snapshot.
type state struct {
	subs       map[ports.SubscriptionID]ports.Subscription
	users      map[ports.UserID]ports.User
	refresh    map[string]ports.RefreshToken
	denied     map[string]time.Time
	instances  map[ports.InstanceID]ports.Instance
	keys       map[ports.APIKeyID]ports.APIKey
	audit      []ports.AuditEntry
	messages   map[ports.MessageID]ports.Message
	media      map[ports.MessageID]ports.MessageMedia
	webhooks   map[ports.WebhookID]ports.WebhookEndpoint
	deliveries map[ports.DeliveryID]ports.WebhookDelivery
	stats      map[statsKey]ports.Counters
	templates  map[ports.TemplateID]ports.Template
	bulks      map[ports.BulkID]ports.Bulk
	idem       map[idemKey]ports.IdempotencyRecord
	events     []ports.Event // in append order
	cursors    map[ports.SubscriptionID]ports.EventCursor
	invites    map[string]ports.Invitation
}

// NewStore returns an empty store.
func NewStore() *Store {
	return &Store{data: state{
		subs:       map[ports.SubscriptionID]ports.Subscription{},
		users:      map[ports.UserID]ports.User{},
		refresh:    map[string]ports.RefreshToken{},
		denied:     map[string]time.Time{},
		instances:  map[ports.InstanceID]ports.Instance{},
		keys:       map[ports.APIKeyID]ports.APIKey{},
		messages:   map[ports.MessageID]ports.Message{},
		media:      map[ports.MessageID]ports.MessageMedia{},
		webhooks:   map[ports.WebhookID]ports.WebhookEndpoint{},
		deliveries: map[ports.DeliveryID]ports.WebhookDelivery{},
		stats:      map[statsKey]ports.Counters{},
		templates:  map[ports.TemplateID]ports.Template{},
		bulks:      map[ports.BulkID]ports.Bulk{},
		idem:       map[idemKey]ports.IdempotencyRecord{},
		cursors:    map[ports.SubscriptionID]ports.EventCursor{},
		invites:    map[string]ports.Invitation{},
	}}
}

func (d state) clone() state {
	return state{
		subs:       maps.Clone(d.subs),
		users:      maps.Clone(d.users),
		refresh:    maps.Clone(d.refresh),
		denied:     maps.Clone(d.denied),
		instances:  maps.Clone(d.instances),
		keys:       maps.Clone(d.keys),
		audit:      slices.Clone(d.audit),
		messages:   maps.Clone(d.messages),
		media:      maps.Clone(d.media),
		webhooks:   maps.Clone(d.webhooks),
		deliveries: maps.Clone(d.deliveries),
		stats:      maps.Clone(d.stats),
		templates:  maps.Clone(d.templates),
		bulks:      maps.Clone(d.bulks),
		idem:       maps.Clone(d.idem),
		events:     slices.Clone(d.events),
		cursors:    maps.Clone(d.cursors),
		invites:    maps.Clone(d.invites),
	}
}

// view is the store as seen from outside a transaction (each call takes
// the locks it needs) or from inside one (its working copy, tx).
type view struct {
	s  *Store
	tx *state
}

var (
	_ ports.SubscriptionStore = view{}
	_ ports.UserStore         = view{}
	_ ports.TokenStore        = view{}
	_ ports.InstanceStore     = view{}
	_ ports.APIKeyStore       = view{}
	_ ports.AuditStore        = view{}
	_ ports.TxRunner          = (*Store)(nil)
)

// Stores returns the stores for use outside transactions.
func (s *Store) Stores() ports.Stores { return view{s: s}.stores() }

func (v view) stores() ports.Stores {
	return ports.Stores{
		Subscriptions: v, Users: v, Tokens: v, Instances: v, APIKeys: v, Audit: v, Access: v,
		Messages: v, Media: v, Webhooks: v, Deliveries: v, Stats: v, Templates: v, Bulks: v,
		Idempotency: v, Events: v, Members: v, Invitations: v,
	}
}

// InTx runs fn with stores bound to one transaction, on a copy of the
// state that is committed when fn returns nil.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context, st ports.Stores) error) error {
	s.writer.Lock()
	defer s.writer.Unlock()
	s.mu.Lock()
	work := s.data.clone()
	s.mu.Unlock()
	if err := fn(ctx, view{s: s, tx: &work}.stores()); err != nil {
		return err
	}
	s.mu.Lock()
	s.data = work
	s.mu.Unlock()
	return nil
}

// enter runs the hook and returns the state method works on, with the
// function that releases the locks taken: none for a transaction's own
// copy, the state's lock for a read, the writer's too for a write.
func (v view) enter(method string) (*state, func(), error) {
	d, release := v.tx, func() {}
	switch {
	case v.tx != nil:
		v.s.mu.Lock()
		defer v.s.mu.Unlock() // for the hook only
	case readOnly(method):
		v.s.mu.Lock()
		d, release = &v.s.data, v.s.mu.Unlock
	default:
		v.s.writer.Lock()
		v.s.mu.Lock()
		d, release = &v.s.data, func() { v.s.mu.Unlock(); v.s.writer.Unlock() }
	}
	if v.s.Hook != nil {
		if err := v.s.Hook(method); err != nil {
			release()
			return nil, nil, err
		}
	}
	return d, release, nil
}

// readOnly tells the store methods that only read by their names.
func readOnly(method string) bool {
	for _, p := range []string{"Get", "List", "Count", "Query", "Find", "Lookup", "Next", "Following", "Due", "Leases", "LiveNodes", "Oldest"} {
		if strings.HasPrefix(method, p) {
			return true
		}
	}
	return false
}

// Audit returns a copy of every audit entry, oldest first.
func (s *Store) Audit() []ports.AuditEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.data.audit)
}

// AuditActions returns the actions of the audit log, oldest first.
func (s *Store) AuditActions() []string {
	var out []string
	for _, e := range s.Audit() {
		out = append(out, e.Action)
	}
	return out
}

// SeedAccount creates a subscription of the given tier with an owner user
// (password hash "seeded") and returns the owner's principal, for tests of
// modules that need an existing tenant.
func (s *Store) SeedAccount(ids ports.IDGen, clock ports.Clock, tier ports.Tier, email string) ports.Principal {
	s.writer.Lock()
	defer s.writer.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	now := clock.Now()
	sub := ports.Subscription{ID: ports.SubscriptionID(ids.NewID()), Tier: tier, CreatedAt: now, UpdatedAt: now}
	u := ports.User{
		ID: ports.UserID(ids.NewID()), SubscriptionID: sub.ID, Email: email, Name: "Seeded",
		PasswordHash: "seeded", Role: ports.RoleOwner, CreatedAt: now, UpdatedAt: now,
	}
	s.data.subs[sub.ID] = sub
	s.data.users[u.ID] = u
	return ports.Principal{
		Kind: ports.PrincipalUser, SubscriptionID: sub.ID, Tier: tier, UserID: u.ID, Role: u.Role,
		TokenID: ids.NewID(), TokenExpiresAt: now.Add(15 * time.Minute), TokenFamily: ids.NewID(),
		IP: "192.0.2.1", UserAgent: "coretest",
	}
}

// pageOf returns one page of items, which must be in the list's order;
// the cursor is the id of the last item of the previous page.
func pageOf[T any](items []T, id func(T) string, req ports.PageRequest) (ports.Page[T], error) {
	limit := req.Limit
	if limit <= 0 {
		limit = ports.DefaultPageLimit
	}
	limit = min(limit, ports.MaxPageLimit)
	start := 0
	if req.After != "" {
		i := slices.IndexFunc(items, func(t T) bool { return id(t) == req.After })
		if i < 0 {
			return ports.Page[T]{}, ports.InvalidFields(ports.FieldError{Field: "cursor", Message: "not a cursor of this list"})
		}
		start = i + 1
	}
	end := min(start+limit, len(items))
	page := ports.Page[T]{Items: slices.Clone(items[start:end])}
	if end < len(items) && end > start {
		page.Next = id(items[end-1])
	}
	return page, nil
}

// byAge orders oldest first, ties broken by id.
func byAge(at1, at2 time.Time, id1, id2 string) int {
	if c := at1.Compare(at2); c != 0 {
		return c
	}
	if id1 < id2 {
		return -1
	}
	if id1 > id2 {
		return 1
	}
	return 0
}

func notFound(what string) error { return ports.Errorf(ports.ENotFound, "%s not found", what) }

func timePtr(t time.Time) *time.Time { return &t }

// DeleteMessageRow deletes a message's row as an erasure or a retention
// purge would, outside the stores' API.
func (s *Store) DeleteMessageRow(id ports.MessageID) {
	s.writer.Lock()
	defer s.writer.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	msgs := maps.Clone(s.data.messages)
	delete(msgs, id)
	s.data.messages = msgs
}
