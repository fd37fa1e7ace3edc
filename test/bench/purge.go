package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"time"

	"github.com/wagate/wagate/adapters/entstore"
	"github.com/wagate/wagate/adapters/uuidv7"
	"github.com/wagate/wagate/core/governance"
	"github.com/wagate/wagate/ports"
)

// The purge scenario (issue 16, retention): n messages older than the
// retention are seeded in the database, then POST /messages/text runs for
// dur twice: alone, and while a second process's retention purge (the
// real core module on its own store, as another node would run it)
// deletes the n messages in batches. The sends' p99 with the purge should
// stay within aimPurgeX of the p99 without it.

const aimPurgeX = 2.0

type purgeFigures struct {
	alone, during result
	purged        int
	took          time.Duration
	seeded        int
}

func benchPurge(b backend, simAddr string, conc int, dur time.Duration, n int) (purgeFigures, error) {
	var f purgeFigures
	st, err := b.fresh()
	if err != nil {
		return f, err
	}
	defer st.drop()
	g, err := startGateway(st, simAddr, nil, conc)
	if err != nil {
		return f, err
	}
	defer g.stop()
	inst, err := g.link("bench-purge")
	if err != nil {
		return f, err
	}
	ctx := context.Background()
	es, err := entstore.Open(ctx, entstore.Options{URL: st.dbURL, DataDir: st.dataDir})
	if err != nil {
		return f, err
	}
	defer es.Close()
	t0 := time.Now()
	if f.seeded, err = seedOldMessages(ctx, es.DB(), es.Dialect(), g.sub, inst.id, n); err != nil {
		return f, fmt.Errorf("seed: %w", err)
	}
	fmt.Printf("  (%s: seeded %d messages 60 days old in %s)\n", b.name, f.seeded, time.Since(t0).Round(100*time.Millisecond))

	next := counter()
	send := func() error {
		return g.c.do("POST", "/api/v1/messages/text", inst.key, textBody(next()), http.StatusAccepted, nil)
	}
	f.alone = load(conc, dur, send)

	gov := governance.New(governance.Deps{
		Retention: es.Retention(), Clock: ports.ClockFunc(time.Now), IDs: uuidv7.New(),
	}, ports.Retention{MessagesDays: 30})
	type outcome struct {
		n   int
		err error
		at  time.Duration
	}
	done := make(chan outcome, 1)
	start := time.Now()
	go func() {
		n, err := gov.Purge(ctx)
		done <- outcome{n, err, time.Since(start)}
	}()
	f.during = load(conc, dur, send)
	o := <-done
	if o.err != nil {
		return f, fmt.Errorf("purge: %w", o.err)
	}
	f.purged, f.took = o.n, o.at
	if o.at < dur {
		fmt.Printf("  (%s: the purge ended after %s, before the %s of sends: rerun with more -purge-messages)\n", b.name, o.at.Round(time.Millisecond), dur)
	}
	return f, nil
}

// seedOldMessages inserts n delivered text messages 60 days old, in
// statements of 10,000 rows.
func seedOldMessages(ctx context.Context, db *sql.DB, dialect, sub, inst string, n int) (int, error) {
	if dialect != "postgres" {
		return 0, fmt.Errorf("the purge scenario seeds with generate_series: PostgreSQL only")
	}
	const step = 10_000
	at := time.Now().UTC().Add(-60 * 24 * time.Hour)
	for i := 0; i < n; i += step {
		k := min(step, n-i)
		_, err := db.ExecContext(ctx, `INSERT INTO messages (id, subscription_id, instance_id, direction, chat, "to", "from",
			chat_lid, from_lid, type, text, caption, location_name, location_address, raw_type, contacts, poll, status,
			error_code, error_message, wa_message_id, reply_to, attempts, created_at, updated_at, deleted_by, is_forwarded, link_preview)
			SELECT 'old-' || $3::text || '-' || g, $1, $2, 'outbound', '15550000000@s.whatsapp.net', '15550000000@s.whatsapp.net', '',
			'', '', 'text', 'an old message', '', '', '', '', '', '', 'delivered',
			'', '', 'WAOLD' || $3::text || g, '', 1, $4, $4, '', false, true
			FROM generate_series(1, $5::int) AS g`, sub, inst, i, at, k)
		if err != nil {
			return i, err
		}
	}
	// What autovacuum would do after a million inserts: the planner then
	// knows the old rows are there.
	if _, err := db.ExecContext(ctx, "ANALYZE messages"); err != nil {
		return n, err
	}
	return n, nil
}

func purgeLine(name string, f purgeFigures) string {
	x := float64(f.during.p99) / float64(max(f.alone.p99, time.Microsecond))
	verdict := "ok"
	if x > aimPurgeX {
		verdict = "OVER"
	}
	return fmt.Sprintf("%-8s retention purge: %d of %d old messages in %s (%.0f rows/s); sends alone p99 %s (%.0f/s), during the purge p99 %s (%.0f/s): %.2f× (aim ≤ %.0f×) %s",
		name, f.purged, f.seeded, f.took.Round(time.Millisecond), float64(f.purged)/f.took.Seconds(),
		ms(f.alone.p99), f.alone.rps, ms(f.during.p99), f.during.rps, x, aimPurgeX, verdict)
}
