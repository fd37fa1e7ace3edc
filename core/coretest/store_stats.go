package coretest

import (
	"context"
	"slices"
	"time"

	"github.com/wagate/wagate/ports"
)

var _ ports.StatsStore = view{}

// statsKey is the identity of one counters row.
type statsKey struct {
	sub  ports.SubscriptionID
	inst ports.InstanceID
	day  time.Time
}

// AddStats adds c to the row of (sub, inst, day).
func (v view) AddStats(_ context.Context, sub ports.SubscriptionID, inst ports.InstanceID, day time.Time, c ports.Counters) error {
	d, done, err := v.enter("AddStats")
	if err != nil {
		return err
	}
	defer done()
	// Like the real stores: no row for a subscription that does not exist.
	if _, ok := d.subs[sub]; c.IsZero() || !ok {
		return nil
	}
	k := statsKey{sub, inst, ports.StatsDay(day)}
	d.stats[k] = d.stats[k].Add(c)
	return nil
}

// QueryStats sums the subscription's rows per day within [from, to].
func (v view) QueryStats(_ context.Context, sub ports.SubscriptionID, inst ports.InstanceID, from, to time.Time) ([]ports.DayStats, error) {
	d, done, err := v.enter("QueryStats")
	if err != nil {
		return nil, err
	}
	defer done()
	from, to = ports.StatsDay(from), ports.StatsDay(to)
	sums := map[time.Time]ports.Counters{}
	for k, c := range d.stats {
		if k.sub == sub && (inst == "" || k.inst == inst) && !k.day.Before(from) && !k.day.After(to) {
			sums[k.day] = sums[k.day].Add(c)
		}
	}
	out := make([]ports.DayStats, 0, len(sums))
	for day, c := range sums {
		out = append(out, ports.DayStats{Day: day, Counters: c})
	}
	slices.SortFunc(out, func(a, b ports.DayStats) int { return a.Day.Compare(b.Day) })
	return out, nil
}
