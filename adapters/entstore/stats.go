package entstore

import (
	"context"
	"fmt"
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
// other, on both dialects and without a lock taken by us. The row is
// written only while its subscription exists: counts flushed after an
// account was closed (the closing request's own API call, counted a few
// seconds later) would otherwise bring a row of the closed subscription
// back.
func (st *statsStore) AddStats(ctx context.Context, sub ports.SubscriptionID, inst ports.InstanceID, day time.Time, c ports.Counters) error {
	if c.IsZero() {
		return nil
	}
	q := addStatsSQLite
	if st.s.postgres() {
		q = addStatsPostgres
	}
	_, err := st.s.client.ExecContext(ctx, q, string(sub), string(inst), ports.StatsDay(day),
		c.Sent, c.Failed, c.Delivered, c.Read, c.Received, c.APICalls)
	return dbError("add stats", "stats", err)
}

// The upsert of AddStats. INSERT … SELECT … WHERE EXISTS, since VALUES
// cannot be conditional; PostgreSQL types a SELECT list's parameters as
// text unless they are cast.
const (
	addStatsTail = ` WHERE EXISTS (SELECT 1 FROM subscriptions WHERE id = %[1]s)
ON CONFLICT (subscription_id, instance_id, day) DO UPDATE SET
  sent = daily_stats.sent + excluded.sent, failed = daily_stats.failed + excluded.failed,
  delivered = daily_stats.delivered + excluded.delivered, read = daily_stats.read + excluded.read,
  received = daily_stats.received + excluded.received, api_calls = daily_stats.api_calls + excluded.api_calls`
	addStatsHead = `INSERT INTO daily_stats (subscription_id, instance_id, day, sent, failed, delivered, read, received, api_calls) `
)

var (
	addStatsPostgres = addStatsHead +
		`SELECT $1::text, $2::text, $3::date, $4::bigint, $5::bigint, $6::bigint, $7::bigint, $8::bigint, $9::bigint` +
		fmt.Sprintf(addStatsTail, "$1")
	addStatsSQLite = addStatsHead + `SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9` + fmt.Sprintf(addStatsTail, "?1")
)

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
