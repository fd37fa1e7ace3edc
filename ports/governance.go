package ports

import (
	"context"
	"time"
)

// The data governance of SPEC §18: erasing a person, retention, closing an
// account.

// Person names someone to erase: the user JIDs they are known by in
// messages (…@s.whatsapp.net and, when WhatsApp made it known, …@lid) and
// the bare numbers (phone digits, LID digits) that payloads may hold them
// by.
type Person struct {
	JIDs    []string
	Numbers []string
}

// ErasureCounts are what an erasure removed.
type ErasureCounts struct {
	Messages        int // bulk recipients included
	BulkRecipients  int // of Messages, those that were part of a bulk send
	Media           int
	Deliveries      int // webhook deliveries whose payload named the person
	Events          int // event-log entries whose payload named the person
	IdempotencyKeys int // kept responses of sends that named the person
	Contacts        int // WhatsApp store rows (contacts, sessions, keys)
	Exports         int // data exports of the subscription, which held the person's data
}

// PersonEraser deletes what a subscription's tables hold about a person.
type PersonEraser interface {
	// ErasePerson deletes the subscription's messages to or from any of
	// p.JIDs (their media with them), and its webhook deliveries, events
	// and kept idempotent responses whose payload holds one of p.Numbers
	// as a whole number. Batches commit one by one: a failure leaves what
	// went gone, and a second call finishes the job.
	ErasePerson(ctx context.Context, sub SubscriptionID, p Person) (ErasureCounts, error)
}

// WAPeerEraser is the port, implemented by the WhatsApp adapter, that
// forgets a person in the WhatsApp device store of the given devices
// (instance JIDs): contact entries, Signal sessions and identity keys,
// message secrets, privacy tokens, chat settings, and the LID mapping of
// the number. It is wired on its own, like WALIDResolver.
type WAPeerEraser interface {
	// LIDForPhone returns the LID JID (…@lid) WhatsApp made known for a
	// phone-number JID, or "".
	LIDForPhone(ctx context.Context, phone string) (string, error)
	// ErasePeer deletes the rows of devices naming any of jids; it returns
	// how many went.
	ErasePeer(ctx context.Context, devices []string, jids []string) (int, error)
}

// Retention is how long a subscription's data is kept, in days; 0 keeps
// it forever.
type Retention struct {
	MessagesDays   int
	MediaDays      int
	DeliveriesDays int
	AuditDays      int
}

// MaxRetentionDays bounds each retention setting (about 100 years).
const MaxRetentionDays = 36500

// RetentionStore keeps the per-subscription retention settings and purges
// by them.
type RetentionStore interface {
	// GetRetention returns the subscription's own settings; set is false
	// when it has none (the platform default applies). ENotFound if the
	// subscription is missing.
	GetRetention(ctx context.Context, sub SubscriptionID) (r Retention, set bool, err error)
	// SetRetention stores the settings; ENotFound if the subscription is
	// missing.
	SetRetention(ctx context.Context, sub SubscriptionID, r Retention) error
	// RetentionOverrides lists the subscriptions with their own settings.
	RetentionOverrides(ctx context.Context) (map[SubscriptionID]Retention, error)
	// PurgeBatch deletes at most limit rows of one kind created before
	// before, in one short statement: of subscription sub or, when sub is
	// "", of every subscription without its own settings. It returns how
	// many went.
	PurgeBatch(ctx context.Context, kind PurgeKind, sub SubscriptionID, before time.Time, limit int) (int, error)
	// TryPurgeLease takes the purge's lease, held until release is called
	// or the process ends, so that one node purges at a time; ok is false
	// when another node holds it.
	TryPurgeLease(ctx context.Context) (release func(), ok bool, err error)
}

// PurgeKind is what a retention purge deletes.
type PurgeKind string

// The purge kinds.
const (
	PurgeMessages   PurgeKind = "messages"   // messages (and their media)
	PurgeMedia      PurgeKind = "media"      // media only; the messages stay
	PurgeDeliveries PurgeKind = "deliveries" // finished webhook deliveries
	PurgeAudit      PurgeKind = "audit"      // audit-log entries
)

// SubscriptionEraser deletes every row of a subscription.
type SubscriptionEraser interface {
	// DeleteSubscriptionData deletes the subscription and all its rows,
	// batch by batch, the subscription row last. Not an error if it is
	// gone already.
	DeleteSubscriptionData(ctx context.Context, sub SubscriptionID) error
}
