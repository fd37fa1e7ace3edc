package entstore

import (
	"context"
	"time"

	"github.com/wagate/wagate/ent"
	"github.com/wagate/wagate/ent/dailystat"
	"github.com/wagate/wagate/ent/predicate"
	"github.com/wagate/wagate/ports"
)

type statsStore struct{ s *conn }

var _ ports.StatsStore = (*statsStore)(nil)

// AddStats is one INSERT … ON CONFLICT DO UPDATE SET x = x + n: the
// database adds, so that concurrent increments of one row never lose each
// other, on both dialects and without a lock taken by us.
func (st *statsStore) AddStats(ctx context.Context, sub ports.SubscriptionID, inst ports.InstanceID, day time.Time, c ports.Counters) error {
	if c.IsZero() {
		return nil
	}
	err := st.s.client.DailyStat.Create().
		SetSubscriptionID(string(sub)).
		SetInstanceID(string(inst)).
		SetDay(ports.StatsDay(day)).
		SetSent(c.Sent).
		SetFailed(c.Failed).
		SetDelivered(c.Delivered).
		SetRead(c.Read).
		SetReceived(c.Received).
		SetAPICalls(c.APICalls).
		OnConflictColumns(dailystat.FieldSubscriptionID, dailystat.FieldInstanceID, dailystat.FieldDay).
		Update(func(u *ent.DailyStatUpsert) {
			u.AddSent(c.Sent).AddFailed(c.Failed).AddDelivered(c.Delivered).
				AddRead(c.Read).AddReceived(c.Received).AddAPICalls(c.APICalls)
		}).
		Exec(ctx)
	return dbError("add stats", "stats", err)
}

// dayRow is one row of the per-day sums.
type dayRow struct {
	Day       time.Time `json:"day"`
	Sent      int64     `json:"sent"`
	Failed    int64     `json:"failed"`
	Delivered int64     `json:"delivered"`
	Read      int64     `json:"read"`
	Received  int64     `json:"received"`
	APICalls  int64     `json:"api_calls"`
}

func (st *statsStore) QueryStats(ctx context.Context, sub ports.SubscriptionID, inst ports.InstanceID, from, to time.Time) ([]ports.DayStats, error) {
	where := []predicate.DailyStat{
		dailystat.SubscriptionID(string(sub)),
		dailystat.DayGTE(ports.StatsDay(from)),
		dailystat.DayLTE(ports.StatsDay(to)),
	}
	if inst != "" {
		where = append(where, dailystat.InstanceID(string(inst)))
	}
	var rows []dayRow
	err := st.s.client.DailyStat.Query().Where(where...).
		Order(ent.Asc(dailystat.FieldDay)).
		GroupBy(dailystat.FieldDay).
		Aggregate(
			ent.As(ent.Sum(dailystat.FieldSent), "sent"),
			ent.As(ent.Sum(dailystat.FieldFailed), "failed"),
			ent.As(ent.Sum(dailystat.FieldDelivered), "delivered"),
			ent.As(ent.Sum(dailystat.FieldRead), "read"),
			ent.As(ent.Sum(dailystat.FieldReceived), "received"),
			ent.As(ent.Sum(dailystat.FieldAPICalls), "api_calls"),
		).
		Scan(ctx, &rows)
	if err != nil {
		return nil, dbError("query stats", "stats", err)
	}
	out := make([]ports.DayStats, 0, len(rows))
	for _, r := range rows {
		out = append(out, ports.DayStats{Day: ports.StatsDay(r.Day), Counters: ports.Counters{
			Sent: r.Sent, Failed: r.Failed, Delivered: r.Delivered, Read: r.Read, Received: r.Received, APICalls: r.APICalls,
		}})
	}
	return out, nil
}
