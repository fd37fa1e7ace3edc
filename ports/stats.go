package ports

import (
	"context"
	"time"
)

// Counters are the statistics of SPEC §11 for one instance and day, or
// their sum.
type Counters struct {
	Sent, Failed, Delivered, Read, Received, APICalls int64
}

// Add returns the sum of c and o.
func (c Counters) Add(o Counters) Counters {
	return Counters{
		Sent: c.Sent + o.Sent, Failed: c.Failed + o.Failed, Delivered: c.Delivered + o.Delivered,
		Read: c.Read + o.Read, Received: c.Received + o.Received, APICalls: c.APICalls + o.APICalls,
	}
}

// IsZero reports whether every counter is zero.
func (c Counters) IsZero() bool { return c == Counters{} }

// DayStats are the counters of one UTC day (Day is midnight UTC), summed
// over the instances a query selected.
type DayStats struct {
	Day time.Time
	Counters
}

// StatsStore keeps the daily counters of each instance. Day arguments are
// truncated to their UTC date.
type StatsStore interface {
	// AddStats adds c to the counters of (sub, inst, day) atomically: of
	// any number of concurrent calls none is lost. An empty inst is the
	// subscription's counters outside any instance.
	AddStats(ctx context.Context, sub SubscriptionID, inst InstanceID, day time.Time, c Counters) error
	// QueryStats returns the subscription's counters per day from from to
	// to (both included), summed over its instances or, when inst is not
	// empty, of that instance only. Days without a row are left out;
	// the result is in day order.
	QueryStats(ctx context.Context, sub SubscriptionID, inst InstanceID, from, to time.Time) ([]DayStats, error)
}

// StatsDay returns the UTC date of t, as midnight UTC.
func StatsDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
