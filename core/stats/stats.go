// Package stats is the statistics of SPEC §11: per instance and UTC day,
// the messages sent, failed, delivered, read and received, and the API
// calls made. The messaging module counts messages in the transaction of
// each status move (so each message counts once); this module counts API
// calls, in memory and flushed in batches so that a request does not write
// to the database, and answers the stats queries.
package stats

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/wagate/wagate/ports"
)

// Deps are the ports the service uses.
type Deps struct {
	Stats     ports.StatsStore
	Instances ports.InstanceStore
	Clock     ports.Clock
	Log       *slog.Logger
}

// Service is the statistics module.
type Service struct {
	d Deps

	mu    sync.Mutex
	calls map[callKey]int64 // API calls not yet written
}

// New returns a Service. Its counts reach the database when Flush runs:
// the composition root calls it every few seconds (what a crash loses is
// at most that much of the counts) and once at shutdown.
func New(d Deps) *Service {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	return &Service{d: d, calls: map[callKey]int64{}}
}

// Range limits of a query.
const (
	DefaultDays = 30  // the days of a query without from
	MaxDays     = 366 // the longest range, both ends included
)

// dateLayout is the form of from and to: a UTC date.
const dateLayout = time.DateOnly

// Query selects statistics. From and To are dates (YYYY-MM-DD, UTC, both
// included); empty To is today, empty From DefaultDays days up to To.
type Query struct {
	InstanceID ports.InstanceID // empty: every instance of the subscription
	From, To   string
}

// Report is the answer to a query: one entry per day of the range, days
// without activity included with zeros so that charts are continuous.
type Report struct {
	From, To time.Time
	Totals   ports.Counters
	Days     []ports.DayStats
}

// Query returns the statistics the caller may see. Users see their
// subscription's, of all instances or of one of theirs (another tenant's
// or a missing instance is ENotFound). An API key sees its own instance
// only (naming another is ENotFound) and needs messages:read. EInvalid
// for a malformed date, from after to, or a range over MaxDays days.
func (s *Service) Query(ctx context.Context, p ports.Principal, q Query) (Report, error) {
	inst, err := s.instanceFor(ctx, p, q.InstanceID)
	if err != nil {
		return Report{}, err
	}
	from, to, err := s.dateRange(q.From, q.To)
	if err != nil {
		return Report{}, err
	}
	rows, err := s.d.Stats.QueryStats(ctx, p.SubscriptionID, inst, from, to)
	if err != nil {
		return Report{}, fmt.Errorf("query stats: %w", err)
	}
	return report(from, to, rows), nil
}

// instanceFor checks the caller may see the instance filter and returns
// it; an API key's filter is its own instance.
func (s *Service) instanceFor(ctx context.Context, p ports.Principal, inst ports.InstanceID) (ports.InstanceID, error) {
	if p.Kind == ports.PrincipalAPIKey {
		if err := p.RequireScope(ports.ScopeMessagesRead); err != nil {
			return "", err
		}
		if inst == "" {
			inst = p.InstanceID
		}
		if err := p.CanActOn(inst); err != nil {
			return "", err
		}
	}
	if inst == "" {
		return "", nil
	}
	if _, err := s.d.Instances.GetInstance(ctx, p.SubscriptionID, inst); err != nil {
		return "", fmt.Errorf("get instance: %w", err)
	}
	return inst, nil
}

// dateRange parses and checks from and to, filling in the defaults.
func (s *Service) dateRange(fromS, toS string) (time.Time, time.Time, error) {
	var errs []ports.FieldError
	parse := func(field, v string, def time.Time) time.Time {
		if v == "" {
			return def
		}
		t, err := time.Parse(dateLayout, v)
		if err != nil {
			errs = append(errs, ports.FieldError{Field: field, Message: "must be a date as YYYY-MM-DD"})
		}
		return t
	}
	to := parse("to", toS, ports.StatsDay(s.d.Clock.Now()))
	from := parse("from", fromS, to.AddDate(0, 0, 1-DefaultDays))
	if len(errs) > 0 {
		return time.Time{}, time.Time{}, ports.InvalidFields(errs...)
	}
	switch {
	case from.After(to):
		return time.Time{}, time.Time{}, ports.InvalidFields(ports.FieldError{Field: "from", Message: "must not be after to"})
	case days(from, to) > MaxDays:
		return time.Time{}, time.Time{}, ports.InvalidFields(ports.FieldError{Field: "from",
			Message: fmt.Sprintf("the range is at most %d days", MaxDays)})
	}
	return from, to, nil
}

// days counts the days from from to to, both included.
func days(from, to time.Time) int {
	return int(to.Sub(from)/(24*time.Hour)) + 1
}

// report fills the days of [from, to] the store had no row for.
func report(from, to time.Time, rows []ports.DayStats) Report {
	byDay := make(map[time.Time]ports.Counters, len(rows))
	for _, r := range rows {
		byDay[ports.StatsDay(r.Day)] = r.Counters
	}
	out := Report{From: from, To: to, Days: make([]ports.DayStats, 0, days(from, to))}
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		c := byDay[d]
		out.Days = append(out.Days, ports.DayStats{Day: d, Counters: c})
		out.Totals = out.Totals.Add(c)
	}
	return out
}
