// Command bench is wagate's load generator (`make bench`): it starts the real
// server in-process and reports, at a fixed concurrency:
//
//   - api: requests/s and p50/p99 latency for login, GET /api/v1/me with a
//     JWT and GET /api/v1/instance with an API key, on SQLite and PostgreSQL;
//   - send, deliver, webhooks: the messaging and webhook figures of issue 4
//     (scenarios.go), and kinds: video and poll sends next to text (issue
//     13, kinds.go), and forward: contact checks through a node that does
//     not hold the instance next to its holder (issue 18, forward.go), on
//     the embedded default (SQLite and its queue) and on
//     PostgreSQL + Redis, in sandbox mode against a simulator in this process;
//   - drain: 1 and 10 instances × 100 texts to all sent, pacing off, next
//     to bare whatsmeow clients against the same simulator (ceiling.go);
//   - idle: the resident memory of the real binary with no session (idle.go);
//   - groups: a text to a group of 256 phones, until sent and until every
//     phone decrypted it, and the memory of 100 such groups' sender-key
//     state (issue 14, groups.go).
//
// -scenarios picks which run; -sqlite=false, -pg= and -redis= drop backends.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/lib/pq"

	"github.com/wagate/wagate/core/webhooks"

	"github.com/wagate/wagate/test/testserver"
)

func main() { os.Exit(bench()) }

// bench runs what the flags ask for and returns the exit code, after its
// deferred profile writes.
func bench() int {
	conc := flag.Int("c", 32, "concurrent clients")
	dur := flag.Duration("d", 5*time.Second, "duration of each timed scenario (and of the paced webhook phase)")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the whole run (server included) to this file")
	waitProfile := flag.String("waitprofile", "", "write goroutine profiles every 500 ms into this directory: where the time goes when the process waits (go tool pprof -top -cum DIR/*.pb.gz)")
	sqlite := flag.Bool("sqlite", true, "run the scenarios on SQLite (with the embedded queue)")
	pg := flag.String("pg", envOr("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"), "PostgreSQL URL to create scratch databases on; empty skips PostgreSQL")
	redisURL := flag.String("redis", envOr("TEST_REDIS_URL", "redis://127.0.0.1:6379/0"), "Redis URL of the pg+redis backend of send, deliver and webhooks; empty skips that backend")
	scenarios := flag.String("scenarios", "api,send,kinds,forward,deliver,drain,webhooks,idle,inbound,groups", "comma-separated scenarios to run: api, send, kinds, forward (contact checks through a node that does not hold the instance), deliver, drain (1 and 10 instances × 100 texts next to bare whatsmeow clients), webhooks, idle (resident memory of the real binary with no session), inbound (its resident memory around 1,000 mixed inbound messages), groups (a text to a group of -group-size phones until all decrypted it, and the memory of -groups such groups), purge (retention purge of -purge-messages old messages while sends go on; PostgreSQL; not in the default list), export (time and peak memory of a data export of -export-messages messages; not in the default list)")
	var mc msgConfig
	flag.IntVar(&mc.instances, "instances", 50, "linked instances of deliver and webhooks")
	flag.IntVar(&mc.messages, "messages", 1000, "messages deliver sends across the instances")
	flag.IntVar(&mc.endpoints, "endpoints", 2, "webhook endpoints per instance and event source (SPEC §9 allows 10 per instance in all)")
	flag.IntVar(&mc.webhookWorkers, "webhook-workers", webhooks.DefaultConcurrency, "the server's webhook delivery concurrency (WAGATE_WEBHOOK_CONCURRENCY); the ceiling's client uses as many")
	flag.Float64Var(&mc.pacedEvents, "paced-events", 25, "inbound messages/s of the paced webhook phase (each fans out to -endpoints deliveries)")
	flag.IntVar(&mc.backlog, "backlog", 10_000, "deliveries of the webhook backlog phase (events appended while the server is stopped)")
	flag.IntVar(&mc.purgeMessages, "purge-messages", 1_000_000, "old messages the purge scenario seeds and purges (PostgreSQL)")
	exportMessages := flag.Int("export-messages", 100_000, "messages the export scenario seeds and exports (a tenth of them first, for comparison)")
	var gc groupConfig
	flag.IntVar(&gc.size, "group-size", 256, "phones in each group of the groups scenario, besides the instance")
	flag.IntVar(&gc.groups, "groups", 100, "groups of the groups scenario's memory figure")
	flag.Parse()
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			return 1
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			return 1
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	if *waitProfile != "" {
		stop, err := startWaitProfile(*waitProfile, 500*time.Millisecond)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			return 1
		}
		defer stop()
	}
	chosen := map[string]bool{}
	for _, s := range strings.Split(*scenarios, ",") {
		switch s = strings.TrimSpace(s); s {
		case "api", "send", "kinds", "forward", "deliver", "drain", "webhooks", "idle", "inbound", "groups", "purge", "export":
			chosen[s] = true
		default:
			fmt.Fprintf(os.Stderr, "bench: unknown scenario %q (want api, send, kinds, forward, deliver, drain, webhooks, idle, inbound, groups, purge or export)\n", s)
			return 2
		}
	}
	if mc.endpoints < 1 || mc.endpoints > maxEndpoints {
		fmt.Fprintf(os.Stderr, "bench: -endpoints %d, want 1 to %d\n", mc.endpoints, maxEndpoints)
		return 2
	}
	if mc.pacedEvents <= 0 || mc.backlog < 1 || mc.webhookWorkers < 1 {
		fmt.Fprintln(os.Stderr, "bench: -paced-events, -backlog and -webhook-workers must be positive")
		return 2
	}
	mc.conc, mc.dur = *conc, *dur
	mc.send, mc.kinds, mc.deliver, mc.webhooks = chosen["send"], chosen["kinds"], chosen["deliver"], chosen["webhooks"]
	mc.forward = chosen["forward"]
	mc.purge = chosen["purge"]
	mc.drain = chosen["drain"]
	if err := runAll(chosen["api"], mc, *sqlite, *pg, *redisURL); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	if chosen["export"] {
		if err := measureExport(*sqlite, *pg, *exportMessages); err != nil {
			fmt.Fprintln(os.Stderr, "bench: export:", err)
			return 1
		}
	}
	if chosen["groups"] {
		if err := measureGroups(gc); err != nil {
			fmt.Fprintln(os.Stderr, "bench: groups:", err)
			return 1
		}
	}
	if chosen["inbound"] {
		if err := measureInbound(); err != nil {
			fmt.Fprintln(os.Stderr, "bench: inbound:", err)
			return 1
		}
	}
	if chosen["idle"] {
		if err := measureIdle(); err != nil {
			fmt.Fprintln(os.Stderr, "bench: idle:", err)
			return 1
		}
	}
	return 0
}

// runAll runs the API scenarios, then the messaging and webhook ones.
func runAll(api bool, mc msgConfig, sqlite bool, pgURL, redisURL string) error {
	if api {
		if err := run(mc.conc, mc.dur, sqlite, pgURL); err != nil {
			return err
		}
	}
	if !mc.send && !mc.kinds && !mc.forward && !mc.deliver && !mc.webhooks && !mc.purge && !mc.drain {
		return nil
	}
	dir, err := os.MkdirTemp("", "wagate-bench-messaging-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var backends []backend
	if sqlite {
		backends = append(backends, embedded(dir))
	}
	if pgURL != "" && redisURL != "" {
		if err := pingRedis(redisURL); err != nil {
			fmt.Printf("\nskipping pg+redis: redis does not answer: %v\n", err)
		} else {
			backends = append(backends, pgRedis(dir, pgURL, redisURL))
		}
	}
	return runMessaging(backends, mc)
}

func run(conc int, dur time.Duration, sqlite bool, pgURL string) error {
	fmt.Printf("concurrency %d, %s per scenario\n\n", conc, dur)
	fmt.Printf("%-10s %-28s %10s %10s %10s %8s\n", "database", "scenario", "req/s", "p50", "p99", "errors")
	dir, err := os.MkdirTemp("", "wagate-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if sqlite {
		if err := benchBackend("sqlite", map[string]string{"WAGATE_DATA_DIR": dir}, conc, dur); err != nil {
			return err
		}
	}
	if pgURL == "" {
		return nil
	}
	dsn, drop, err := scratchDatabase(pgURL)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	defer drop()
	return benchBackend("postgres", map[string]string{
		"WAGATE_DATA_DIR": dir, "WAGATE_DATABASE_URL": dsn, "WAGATE_MIGRATE_ON_START": "true",
		// One node: its principal cache misses no revocation, though
		// auto keeps it off on PostgreSQL without Redis.
		"WAGATE_AUTH_CACHE_TTL": "2s",
	}, conc, dur)
}

// Issue 17's aim for authenticated reads on PostgreSQL.
const (
	aimReadRate = 8000.0
	aimReadP99  = 20 * time.Millisecond
)

func benchBackend(name string, env map[string]string, conc int, dur time.Duration) error {
	// The benchmark measures the server, not the rate limits.
	env["WAGATE_AUTH_RATE_PER_MIN"] = "100000000"
	env["WAGATE_TIERS"] = "basic=5:100000000,pro=20:100000000,max=40:100000000"
	env["WAGATE_LOG_LEVEL"] = "error"
	env["WAGATE_JWT_SECRET"] = strings.Repeat("b", 32)
	srv, err := testserver.Start(context.Background(), env)
	if err != nil {
		return err
	}
	defer srv.Stop()

	c := &client{base: srv.URL, http: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc * 2}}}
	email := "bench-" + randHex(4) + "@example.com"
	const password = "correct horse battery"
	var reg struct {
		Tokens struct{ AccessToken string } `json:"tokens"`
	}
	if err := c.do("POST", "/api/v1/auth/register", "", map[string]string{"email": email, "password": password, "name": "Bench"}, 201, &reg); err != nil {
		return err
	}
	var inst struct{ ID string }
	if err := c.do("POST", "/api/v1/instances", reg.Tokens.AccessToken, map[string]string{"name": "bench"}, 201, &inst); err != nil {
		return err
	}
	var key struct{ Key string }
	if err := c.do("POST", "/api/v1/instances/"+inst.ID+"/api-keys", reg.Tokens.AccessToken, map[string]string{"name": "bench"}, 201, &key); err != nil {
		return err
	}
	// Logins go round the accounts: the lockout counts attempts in flight,
	// so more than 10 logins of one account at once get 429 by design.
	logins := []string{email}
	for i := range conc / 4 {
		e := fmt.Sprintf("bench-%s-%d@example.com", randHex(4), i)
		if err := c.do("POST", "/api/v1/auth/register", "", map[string]string{"email": e, "password": password, "name": "Bench"}, 201, nil); err != nil {
			return err
		}
		logins = append(logins, e)
	}
	var nextLogin atomic.Int64
	scenarios := []struct {
		name string
		call func() error
	}{
		{"POST /auth/login", func() error {
			e := logins[int(nextLogin.Add(1))%len(logins)]
			return c.do("POST", "/api/v1/auth/login", "", map[string]string{"email": e, "password": password}, 200, nil)
		}},
		{"GET /me (JWT)", func() error { return c.do("GET", "/api/v1/me", reg.Tokens.AccessToken, nil, 200, nil) }},
		{"GET /instance (API key)", func() error { return c.do("GET", "/api/v1/instance", key.Key, nil, 200, nil) }},
	}
	for _, s := range scenarios {
		r := load(conc, dur, s.call)
		line := fmt.Sprintf("%-10s %-28s %10.0f %10s %10s %8d", name, s.name, r.rps, r.p50.Round(10*time.Microsecond), r.p99.Round(10*time.Microsecond), r.errors)
		if name == "postgres" && strings.HasPrefix(s.name, "GET") {
			// Issue 17 (c): authenticated reads on PostgreSQL.
			line += aims(aim{fmt.Sprintf("≥%.0f/s at p99≤%s", aimReadRate, ms(aimReadP99)), r.rps >= aimReadRate && r.p99 <= aimReadP99})
		}
		fmt.Println(line)
	}
	return nil
}

type result struct {
	rps      float64
	p50, p99 time.Duration
	errors   int64
}

// load runs call from conc goroutines for dur and summarises the latencies.
func load(conc int, dur time.Duration, call func() error) result {
	var (
		mu       sync.Mutex
		all      []time.Duration
		failures atomic.Int64
		wg       sync.WaitGroup
	)
	deadline := time.Now().Add(dur)
	start := time.Now()
	for range conc {
		wg.Go(func() {
			var mine []time.Duration
			for time.Now().Before(deadline) {
				t0 := time.Now()
				if err := call(); err != nil {
					failures.Add(1)
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(all)
	r := result{rps: float64(len(all)) / elapsed.Seconds(), errors: failures.Load()}
	if len(all) > 0 {
		r.p50 = all[len(all)/2]
		r.p99 = all[len(all)*99/100]
	}
	return r
}

type client struct {
	base string
	http *http.Client
}

func (c *client) do(method, path, token string, body any, want int, out any) error {
	code, data, err := c.call(method, path, token, body)
	if err != nil {
		return err
	}
	if code != want {
		return fmt.Errorf("%s %s: got %d, want %d: %s", method, path, code, want, data)
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// call makes one request and returns the status and body of the answer.
func (c *client) call(method, path, token string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, data, err
}

// scratchDatabase creates a database for one run and returns its URL and a
// function that drops it.
func scratchDatabase(base string) (string, func(), error) {
	admin, err := sql.Open("postgres", base)
	if err != nil {
		return "", nil, err
	}
	name := "wagate_bench_" + randHex(6)
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		admin.Close()
		return "", nil, err
	}
	u, err := url.Parse(base)
	if err != nil {
		admin.Close()
		return "", nil, err
	}
	u.Path = "/" + name
	drop := func() {
		admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		admin.Close()
	}
	return u.String(), drop, nil
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
