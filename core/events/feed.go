package events

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/wagate/wagate/ports"
)

// Bounds of a page of GET /events.
const (
	DefaultListLimit = 100
	MaxListLimit     = 500
)

// maxEventID bounds an after cursor: the log's ids are 64 characters at
// most (its schema).
const maxEventID = 64

// FeedDeps are what the feed needs.
type FeedDeps struct {
	// Stores: Instances checks the instance filter, Events gives the log's
	// end.
	Stores ports.Stores
	Reader ports.EventReader
	Clock  ports.Clock
	// IDTimes reads the time out of an event id (the log's ids are
	// "evt_" + a UUIDv7), to tell a purged cursor from an unknown one;
	// nil: only the subscription's oldest kept event can tell.
	IDTimes ports.IDTimer
	// Retention is how long the log keeps an event
	// (WAGATE_EVENT_RETENTION); 0: unknown.
	Retention time.Duration
}

// Feed reads a subscription's event log for its clients. It is safe for
// concurrent use.
type Feed struct{ d FeedDeps }

// NewFeed returns the feed.
func NewFeed(d FeedDeps) *Feed { return &Feed{d: d} }

// Filter returns what p may read of the log: its subscription, narrowed
// to inst and types when they are given. The instance must be p's
// (ENotFound otherwise, whoever owns it); an API key reads only its own
// instance's events and needs messages:read, since they carry the inbound
// messages.
func (f *Feed) Filter(ctx context.Context, p ports.Principal, inst ports.InstanceID, types []ports.EventType) (ports.EventFilter, error) {
	if err := p.RequireScope(ports.ScopeMessagesRead); err != nil {
		return ports.EventFilter{}, err
	}
	if p.Kind == ports.PrincipalAPIKey && inst == "" {
		inst = p.InstanceID
	}
	if err := p.CanActOn(inst); err != nil {
		return ports.EventFilter{}, err
	}
	if inst != "" {
		if _, err := f.d.Stores.Instances.GetInstance(ctx, p.SubscriptionID, inst); err != nil {
			return ports.EventFilter{}, fmt.Errorf("get instance: %w", err)
		}
	}
	return ports.EventFilter{SubscriptionID: p.SubscriptionID, InstanceID: inst, Types: types}, nil
}

// Position resolves an after cursor (an event id of sub) to its position;
// "" is the start of what is kept. A cursor the subscription does not
// have is 410 cursor_expired when it can be told to be older than what is
// kept (the retention, or the oldest kept event), else a 422 on after.
// Either way nothing is said of another subscription's events beyond what
// the id itself carries (its time).
func (f *Feed) Position(ctx context.Context, sub ports.SubscriptionID, after string) (int64, error) {
	if after == "" {
		return 0, nil
	}
	if !strings.HasPrefix(after, "evt_") || len(after) > maxEventID {
		return 0, unknownCursor()
	}
	e, err := f.d.Reader.GetEvent(ctx, sub, after)
	if err == nil {
		return e.Position, nil
	}
	if !ports.IsCode(err, ports.ENotFound) {
		return 0, fmt.Errorf("find the cursor: %w", err)
	}
	expired, err := f.expired(ctx, sub, after)
	switch {
	case err != nil:
		return 0, err
	case expired:
		return 0, ports.ReasonError(ports.ENotFound, "cursor_expired",
			"the events after this cursor are no longer kept; start again without after")
	}
	return 0, unknownCursor()
}

func unknownCursor() error {
	return ports.InvalidFields(ports.FieldError{Field: "after", Message: "is not an event id of this subscription"})
}

// expired tells whether an id the log does not have is older than what
// it keeps.
func (f *Feed) expired(ctx context.Context, sub ports.SubscriptionID, id string) (bool, error) {
	at, ok := f.idTime(id)
	if !ok {
		return false, nil
	}
	if f.d.Retention > 0 && at.Before(f.d.Clock.Now().Add(-f.d.Retention)) {
		return true, nil
	}
	oldest, err := f.d.Reader.OldestEvent(ctx, sub)
	if ports.IsCode(err, ports.ENotFound) {
		// Nothing kept: purged, if the subscription ever had events.
		cur, err := f.d.Stores.Events.GetEventCursor(ctx, sub)
		if err != nil {
			return false, fmt.Errorf("read the log's end: %w", err)
		}
		return cur.Appended > 0 && !at.After(f.d.Clock.Now()), nil
	}
	if err != nil {
		return false, fmt.Errorf("find the oldest event: %w", err)
	}
	first, ok := f.idTime(oldest.ID)
	// Strictly before, to the millisecond the ids keep: an id of the same
	// millisecond as the oldest kept may be newer than it.
	return ok && at.Before(first), nil
}

func (f *Feed) idTime(id string) (time.Time, bool) {
	if f.d.IDTimes == nil {
		return time.Time{}, false
	}
	return f.d.IDTimes.TimeOf(strings.TrimPrefix(id, "evt_"))
}

// Query is a client's read of the log (GET /events).
type Query struct {
	After      string // an event id; "": from the start of what is kept
	InstanceID ports.InstanceID
	Types      []ports.EventType
	Limit      int // 1…MaxListLimit
}

// Read returns up to q.Limit of p's events after q.After that pass its
// filters, in log order (Filter and Position say what p may ask).
func (f *Feed) Read(ctx context.Context, p ports.Principal, q Query) ([]ports.Event, error) {
	if q.Limit < 1 || q.Limit > MaxListLimit {
		return nil, ports.InvalidFields(ports.FieldError{Field: "limit", Message: fmt.Sprintf("must be an integer from 1 to %d", MaxListLimit)})
	}
	filter, err := f.Filter(ctx, p, q.InstanceID, q.Types)
	if err != nil {
		return nil, err
	}
	pos, err := f.Position(ctx, p.SubscriptionID, q.After)
	if err != nil {
		return nil, err
	}
	return f.page(ctx, filter, pos, 0, q.Limit)
}

func (f *Feed) page(ctx context.Context, filter ports.EventFilter, after, until int64, limit int) ([]ports.Event, error) {
	evs, err := f.d.Reader.ListEvents(ctx, filter.SubscriptionID, ports.EventQuery{
		After: after, Until: until, InstanceID: filter.InstanceID, Types: filter.Types, Limit: limit,
	})
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	return evs, nil
}

// End returns the position of sub's last committed event: every position
// up to it has committed (appends hold the subscription's counter until
// commit).
func (f *Feed) End(ctx context.Context, sub ports.SubscriptionID) (int64, error) {
	cur, err := f.d.Stores.Events.GetEventCursor(ctx, sub)
	if err != nil {
		return 0, fmt.Errorf("read the log's end: %w", err)
	}
	return cur.Appended, nil
}
