package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wagate/wagate/adapters/entstore"
	"github.com/wagate/wagate/adapters/exportfs"
	"github.com/wagate/wagate/adapters/uuidv7"
	"github.com/wagate/wagate/core/exports"
	"github.com/wagate/wagate/ports"
)

// The export scenario (issue 16, data export): a subscription with n
// messages (one in exportMediaEvery with a file of exportMediaBytes) is
// seeded straight into a fresh database, then the real export module
// writes its ZIP in this process, on the real store and export
// directory. It reports the time and the memory the export took: the
// heap's high-water mark, sampled, and the process's peak resident set
// (VmHWM, reset just before the export through /proc/self/clear_refs). A
// tenth of n runs first, so that the two peaks show whether memory grows
// with the messages (it should not: the export streams).

const (
	exportMediaEvery = 100
	exportMediaBytes = 32 << 10
)

// The seeded secrets, which the ZIP must not hold.
const (
	benchPasswordHash = "$argon2id$v=19$m=19456,t=2,p=1$YmVuY2hzYWx0$YmVuY2hoYXNoYmVuY2hoYXNo"
	benchWebhookSec   = "whsec_benchsecretbenchsecretbenchsecret"
)

type exportFigures struct {
	messages, media int
	took            time.Duration
	zipBytes        int64
	heapPeak        uint64
	rssPeak         int64 // bytes; -1 when /proc cannot tell
	rssBefore       int64 // VmRSS as the export starts: the process's floor
	rssReset        bool
}

// measureExport runs the scenario on each backend, for n/10 then n messages.
func measureExport(sqliteOn bool, pgURL string, n int) error {
	dir, err := os.MkdirTemp("", "wagate-bench-export-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var backends []backend
	if sqliteOn {
		backends = append(backends, embedded(dir))
	}
	if pgURL != "" {
		// No Redis: the job runs in this process, off any queue.
		backends = append(backends, backend{name: "postgres", fresh: func() (store, error) {
			dsn, drop, err := scratchDatabase(pgURL)
			if err != nil {
				return store{}, fmt.Errorf("postgres: %w", err)
			}
			d, err := os.MkdirTemp(dir, "pg-")
			if err != nil {
				drop()
				return store{}, err
			}
			return store{dataDir: d, dbURL: dsn, drop: drop}, nil
		}})
	}
	fmt.Printf("\ndata export: %d messages, 1 in %d with a %d KiB file\n", n, exportMediaEvery, exportMediaBytes>>10)
	var lines []string
	for _, b := range backends {
		for _, k := range []int{max(n/10, 1), n} {
			f, err := benchExport(b, k)
			if err != nil {
				return fmt.Errorf("%s: %w", b.name, err)
			}
			line := exportLine(b.name, f)
			fmt.Println(line)
			lines = append(lines, line)
		}
	}
	fmt.Println("\ndata export figures:")
	for _, l := range lines {
		fmt.Println(l)
	}
	return nil
}

func benchExport(b backend, n int) (exportFigures, error) {
	f := exportFigures{messages: n}
	st, err := b.fresh()
	if err != nil {
		return f, err
	}
	defer st.drop()
	ctx := context.Background()
	es, err := entstore.Open(ctx, entstore.Options{URL: st.dbURL, DataDir: st.dataDir})
	if err != nil {
		return f, err
	}
	defer es.Close()
	if err := es.Migrate(ctx); err != nil {
		return f, fmt.Errorf("migrate: %w", err)
	}
	t0 := time.Now()
	sub, user, err := seedExport(ctx, es.DB(), st.dbURL != "", n)
	if err != nil {
		return f, fmt.Errorf("seed: %w", err)
	}
	f.media = n / exportMediaEvery
	fmt.Printf("  (%s: seeded %d messages and %d files in %s)\n", b.name, n, f.media, time.Since(t0).Round(100*time.Millisecond))

	files, err := exportfs.New(filepath.Join(st.dataDir, "exports"))
	if err != nil {
		return f, err
	}
	q := &oneJob{}
	svc := exports.New(exports.Deps{
		Exports: es.Exports(), Source: es.ExportSource(), Files: files, Queue: q,
		Audit: es.Stores().Audit, Clock: ports.ClockFunc(func() time.Time { return time.Now().UTC() }), IDs: uuidv7.New(),
	})
	e, err := svc.Request(ctx, ports.Principal{Kind: ports.PrincipalUser, SubscriptionID: ports.SubscriptionID(sub), UserID: ports.UserID(user)})
	if err != nil {
		return f, fmt.Errorf("request: %w", err)
	}

	runtime.GC()
	f.rssReset = resetPeakRSS()
	f.rssBefore = procStatus("VmRSS:")
	stop := sampleHeap()
	start := time.Now()
	// The queue is not what is measured: the job runs here, as a
	// runner would run it.
	err = svc.HandleRun(ctx, ports.Delivery{Job: q.job, Attempt: 1})
	f.took = time.Since(start)
	f.heapPeak = stop()
	f.rssPeak = procStatus("VmHWM:")
	if err != nil {
		return f, fmt.Errorf("export: %w", err)
	}
	done, err := es.Exports().GetExport(ctx, ports.SubscriptionID(sub), e.ID)
	if err != nil {
		return f, err
	}
	if done.Status != ports.ExportCompleted {
		return f, fmt.Errorf("the export is %s, want completed", done.Status)
	}
	f.zipBytes = done.SizeBytes
	if err := checkNoSecrets(files, e.ID); err != nil {
		return f, err
	}
	return f, nil
}

// oneJob is a queue that keeps the job enqueued, for the scenario to run.
type oneJob struct{ job ports.Job }

func (q *oneJob) Enqueue(_ context.Context, j ports.Job) error { q.job = j; return nil }

// seedExport inserts a subscription, its owner, an instance, an API key, a
// webhook and n messages (1 in exportMediaEvery an image with its file),
// with set-based statements.
func seedExport(ctx context.Context, db *sql.DB, postgres bool, n int) (sub, user string, err error) {
	sub, user, inst := "bench-sub-"+randHex(4), "bench-user-"+randHex(4), "bench-inst-"+randHex(4)
	now := time.Now().UTC()
	stmts := []struct {
		q    string
		args []any
	}{
		{`INSERT INTO subscriptions (id, tier, created_at, updated_at) VALUES ($1, 'max', $2, $2)`, []any{sub, now}},
		{`INSERT INTO users (id, subscription_id, email, name, password_hash, role, created_at, updated_at) VALUES ($1, $2, $3, 'Bench Owner', $4, 'user', $5, $5)`,
			[]any{user, sub, user + "@example.com", benchPasswordHash, now}},
		{`INSERT INTO instances (id, subscription_id, name, status, created_at, updated_at) VALUES ($1, $2, 'bench', 'connected', $3, $3)`, []any{inst, sub, now}},
		{`INSERT INTO api_keys (id, subscription_id, instance_id, name, prefix, hash, scopes, created_at) VALUES ($1, $2, $3, 'bench', 'wag_bnch', $4, '["messages:send"]', $5)`,
			[]any{"bench-key-" + randHex(4), sub, inst, bytes.Repeat([]byte{0xab}, 32), now}},
		{`INSERT INTO webhook_endpoints (id, subscription_id, instance_id, url, events, secret, created_at, updated_at) VALUES ($1, $2, $3, 'https://example.com/hook', '["*"]', $4, $5, $5)`,
			[]any{"bench-hook-" + randHex(4), sub, inst, benchWebhookSec, now}},
	}
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s.q, s.args...); err != nil {
			return "", "", fmt.Errorf("%.40s: %w", s.q, err)
		}
	}
	// A recursive CTE counts on both SQLite and PostgreSQL; batches of
	// 10,000 keep each statement short.
	const step = 10_000
	for i := 0; i < n; i += step {
		k := min(step, n-i)
		_, err := db.ExecContext(ctx, `INSERT INTO messages (id, subscription_id, instance_id, direction, chat, "to", "from",
			chat_lid, from_lid, type, text, caption, location_name, location_address, raw_type, contacts, poll, status,
			error_code, error_message, wa_message_id, reply_to, attempts, created_at, updated_at, deleted_by, is_forwarded, link_preview)
			WITH RECURSIVE g(x) AS (SELECT CAST($3 AS INTEGER) UNION ALL SELECT x + 1 FROM g WHERE x < CAST($4 AS INTEGER))
			SELECT 'm-' || CAST(x AS TEXT), $1, $2, 'outbound', '15550000000@s.whatsapp.net', '15550000000@s.whatsapp.net', '',
			'', '', CASE WHEN x % `+strconv.Itoa(exportMediaEvery)+` = 0 THEN 'image' ELSE 'text' END,
			'message number ' || CAST(x AS TEXT) || ' with some words in it, as a chat message would have', '', '', '', '', '', '', 'delivered',
			'', '', 'WABENCH' || CAST(x AS TEXT), '', 1, $5, $5, '', false, true
			FROM g`, sub, inst, i+1, i+k, now)
		if err != nil {
			return "", "", fmt.Errorf("seed messages: %w", err)
		}
	}
	data := make([]byte, exportMediaBytes)
	rand.Read(data)
	sum := sha256.Sum256(data)
	if _, err := db.ExecContext(ctx, `INSERT INTO message_media (id, subscription_id, mime_type, file_name, ptt, gif, size, sha256, data, created_at)
		SELECT id, subscription_id, 'image/png', '', false, false, $2, $3, $4, created_at FROM messages WHERE subscription_id = $1 AND type = 'image'`,
		sub, len(data), sum[:], data); err != nil {
		return "", "", fmt.Errorf("seed media: %w", err)
	}
	// What autovacuum does after so many inserts, which a seed in one go
	// outruns: without statistics PostgreSQL plans each page as a bitmap
	// scan of every row after the cursor and a sort, not an index range.
	if postgres {
		if _, err := db.ExecContext(ctx, "ANALYZE"); err != nil {
			return "", "", err
		}
	}
	return sub, user, nil
}

// checkNoSecrets reads the whole ZIP for the seeded secrets. The JSON
// files are deflated; the secrets would be too, so the check is on the
// file's stored bytes only as far as a sanity check goes: the e2e test
// (test/e2e TestExport) opens every entry.
func checkNoSecrets(files *exportfs.Dir, id ports.ExportID) error {
	f, err := files.Open(id)
	if err != nil {
		return err
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	var tail []byte
	for {
		n, err := f.Read(buf)
		chunk := append(tail, buf[:n]...)
		for _, s := range []string{benchPasswordHash, benchWebhookSec} {
			if strings.Contains(string(chunk), s) {
				return fmt.Errorf("the ZIP holds a seeded secret")
			}
		}
		tail = append([]byte(nil), chunk[max(0, len(chunk)-64):]...)
		if err != nil {
			return nil
		}
	}
}

// resetPeakRSS resets the kernel's VmHWM of this process (Linux 4.0+):
// writing 5 to clear_refs.
func resetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// procStatus reads a size line of /proc/self/status (VmHWM: the peak
// resident set; VmRSS: the current one), in bytes; -1 without it.
func procStatus(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return -1
			}
			return kb << 10
		}
	}
	return -1
}

// sampleHeap samples the live heap every 2 ms (runtime/metrics does not
// stop the world) until the returned function is called, which returns
// the highest sample.
func sampleHeap() func() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var mu sync.Mutex
	var peak uint64
	done := make(chan struct{})
	stopped := make(chan struct{})
	read := func() {
		metrics.Read(s)
		mu.Lock()
		peak = max(peak, s[0].Value.Uint64())
		mu.Unlock()
	}
	go func() {
		defer close(stopped)
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				read()
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-stopped
		read()
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}

func exportLine(name string, f exportFigures) string {
	rss := "n/a"
	if f.rssPeak >= 0 {
		rss = fmt.Sprintf("%.1f MiB (%.1f MiB as it started)", float64(f.rssPeak)/(1<<20), float64(f.rssBefore)/(1<<20))
		if !f.rssReset {
			rss += " (not reset: the whole run's)"
		}
	}
	return fmt.Sprintf("%-8s export of %7d messages + %5d files: %s (%.0f messages/s), ZIP %.1f MiB; heap peak %.1f MiB, peak RSS (VmHWM) %s",
		name, f.messages, f.media, f.took.Round(time.Millisecond), float64(f.messages)/f.took.Seconds(),
		float64(f.zipBytes)/(1<<20), float64(f.heapPeak)/(1<<20), rss)
}
