package governance

import (
	"context"
	"testing"
	"time"

	"github.com/wagate/wagate/ports"
)

func TestPhoneDigits(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"+1 555-000-1234", "15550001234", true},
		{"15550001234", "15550001234", true},
		{"+0155500012", "", false},
		{"123456", "", false},
		{"1234567890123456", "", false},
		{"1555abc1234", "", false},
		{"", "", false},
	} {
		got, ok := phoneDigits(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("phoneDigits(%q): got %q %v, want %q %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// purgeCall is one PurgeBatch call the fake saw.
type purgeCall struct {
	kind   ports.PurgeKind
	sub    ports.SubscriptionID
	before time.Time
}

// fakeRetention holds rows per (kind, sub) to purge and records calls.
type fakeRetention struct {
	overrides map[ports.SubscriptionID]ports.Retention
	rows      map[purgeCall]int // before ignored in the key
	calls     []purgeCall
	busy      bool // another node holds the lease
}

func (f *fakeRetention) GetRetention(context.Context, ports.SubscriptionID) (ports.Retention, bool, error) {
	return ports.Retention{}, false, nil
}
func (f *fakeRetention) SetRetention(context.Context, ports.SubscriptionID, ports.Retention) error {
	return nil
}
func (f *fakeRetention) RetentionOverrides(context.Context) (map[ports.SubscriptionID]ports.Retention, error) {
	return f.overrides, nil
}
func (f *fakeRetention) PurgeBatch(_ context.Context, kind ports.PurgeKind, sub ports.SubscriptionID, before time.Time, limit int) (int, error) {
	f.calls = append(f.calls, purgeCall{kind, sub, before})
	k := purgeCall{kind: kind, sub: sub}
	n := min(f.rows[k], limit)
	f.rows[k] -= n
	return n, nil
}
func (f *fakeRetention) TryPurgeLease(context.Context) (func(), bool, error) {
	return func() {}, !f.busy, nil
}

// TestPurge: the default applies to "" (the subscriptions without their
// own), each override to its subscription; 0 days purges nothing; batches
// repeat while full; another node's lease means no pass.
func TestPurge(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	f := &fakeRetention{
		overrides: map[ports.SubscriptionID]ports.Retention{"s1": {MessagesDays: 0, AuditDays: 10}},
		rows: map[purgeCall]int{
			{kind: ports.PurgeMessages, sub: ""}: 2*PurgeBatchSize + 5,
			{kind: ports.PurgeAudit, sub: "s1"}:  3,
		},
	}
	s := New(Deps{Retention: f, Clock: ports.ClockFunc(func() time.Time { return now })}, ports.Retention{MessagesDays: 30})
	n, err := s.Purge(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n != 2*PurgeBatchSize+5+3 {
		t.Errorf("got %d rows purged, want %d", n, 2*PurgeBatchSize+8)
	}
	var msgCalls, auditCalls int
	for _, c := range f.calls {
		switch {
		case c.kind == ports.PurgeMessages && c.sub == "":
			msgCalls++
			if want := now.AddDate(0, 0, -30); !c.before.Equal(want) {
				t.Errorf("messages purged before %s, want %s", c.before, want)
			}
		case c.kind == ports.PurgeAudit && c.sub == "s1":
			auditCalls++
		default:
			t.Errorf("unexpected purge of %s for %q (0 days keeps forever)", c.kind, c.sub)
		}
	}
	if msgCalls != 3 || auditCalls != 1 {
		t.Errorf("got %d message and %d audit batches, want 3 and 1", msgCalls, auditCalls)
	}

	f.busy, f.calls = true, nil
	if n, err := s.Purge(context.Background()); n != 0 || err != nil || len(f.calls) != 0 {
		t.Errorf("with the lease held elsewhere: got %d rows, %v, %d calls; want nothing", n, err, len(f.calls))
	}
}

// oneSubscription is a SubscriptionStore holding one subscription; the
// methods the module does not use are left to the nil interface.
type oneSubscription struct {
	ports.SubscriptionStore
	sub ports.Subscription
}

func (o oneSubscription) GetSubscription(_ context.Context, id ports.SubscriptionID) (ports.Subscription, error) {
	if id != o.sub.ID {
		return ports.Subscription{}, ports.Errorf(ports.ENotFound, "subscription not found")
	}
	return o.sub, nil
}

// auditLog keeps the entries appended.
type auditLog struct {
	ports.AuditStore
	entries []ports.AuditEntry
}

func (a *auditLog) AppendAudit(_ context.Context, e ports.AuditEntry) error {
	a.entries = append(a.entries, e)
	return nil
}

type idSeq struct{}

func (idSeq) NewID() string { return "id" }

// storedRetention records what SetRetention stored.
type storedRetention struct {
	fakeRetention
	stored []ports.Retention
}

func (s *storedRetention) SetRetention(_ context.Context, _ ports.SubscriptionID, r ports.Retention) error {
	s.stored = append(s.stored, r)
	return nil
}

// TestSetRetention: out-of-range fields are all named and nothing is
// stored; API keys are refused; a patch keeps the fields it leaves out at
// their effective (default) value.
func TestSetRetention(t *testing.T) {
	neg, big, keep := -1, ports.MaxRetentionDays+1, 7
	st := &storedRetention{}
	audit := &auditLog{}
	s := New(Deps{
		Stores:    ports.Stores{Subscriptions: oneSubscription{sub: ports.Subscription{ID: "s1", Tier: ports.TierBasic}}, Audit: audit},
		Retention: st, IDs: idSeq{}, Clock: ports.ClockFunc(time.Now),
	}, ports.Retention{MessagesDays: 30, AuditDays: 365})
	user := ports.Principal{Kind: ports.PrincipalUser, SubscriptionID: "s1"}

	_, err := s.SetRetention(context.Background(), user, RetentionPatch{MessagesDays: &neg, AuditDays: &big})
	e := ports.AsError(err)
	if e == nil || e.Code != ports.EInvalid || len(e.Fields) != 2 ||
		e.Fields[0].Field != "retention.messagesDays" || e.Fields[1].Field != "retention.auditDays" {
		t.Errorf("got %v, want invalid retention.messagesDays and retention.auditDays", err)
	}
	key := ports.Principal{Kind: ports.PrincipalAPIKey, SubscriptionID: "s1"}
	if _, err := s.SetRetention(context.Background(), key, RetentionPatch{MediaDays: &keep}); !ports.IsCode(err, ports.EForbidden) {
		t.Errorf("an API key: got %v, want forbidden", err)
	}
	if len(st.stored) != 0 {
		t.Fatalf("stored %v after refusals", st.stored)
	}
	v, err := s.SetRetention(context.Background(), user, RetentionPatch{MediaDays: &keep})
	if err != nil || v.Default || v.Retention.MediaDays != 7 {
		t.Errorf("got %+v, %v; want media 7 days, not the default", v, err)
	}
	if len(audit.entries) != 1 || audit.entries[0].Action != "subscription.retention_changed" {
		t.Errorf("audited %+v, want one subscription.retention_changed", audit.entries)
	}
	if len(st.stored) != 1 || st.stored[0] != (ports.Retention{MessagesDays: 30, MediaDays: 7, AuditDays: 365}) {
		t.Errorf("stored %v, want the default with media 7 days", st.stored)
	}
}
