package crash

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wagate/wagate/adapters/wasim"
	"github.com/wagate/wagate/test/testdb"
	"github.com/wagate/wagate/test/testserver"
)

// wagateBin is the server binary TestMain built for every test.
var wagateBin string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

// run builds the binary (with -race when WAGATE_CRASH_RACE=true: slower,
// and it also checks the server's recovery paths for races) and runs the
// tests.
func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "wagate-crash-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	wagateBin, err = testserver.Build(ctx, dir, os.Getenv("WAGATE_CRASH_RACE") == "true")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// libsignal sets its global logger up lazily, unsynchronised: the
	// first simulator starts alone, so that the parallel tests' simulators
	// do not race on it.
	sim := wasim.New(wasim.Options{})
	if err := sim.Start("127.0.0.1:0"); err != nil {
		fmt.Fprintln(os.Stderr, "start a simulator:", err)
		return 1
	}
	sim.Close()
	return m.Run()
}

// jwtSecret signs the tokens of every run of a server, so that a token
// outlives a restart.
const jwtSecret = "crash-secret-0123456789abcdefghijklmnopqrstuvwxyz"

// backend is a storage and queue configuration.
type backend struct {
	name  string
	asynq bool // PostgreSQL and asynq on Redis; else SQLite and the embedded queue
}

var (
	embedded = backend{name: "sqlite-embedded"}
	onRedis  = backend{name: "postgres-asynq", asynq: true}
	backends = []backend{embedded, onRedis}
)

// deployment is a backend made concrete for one test: the server's
// environment and, with asynq, a Redis client to play the data loss.
type deployment struct {
	env    map[string]string
	redis  *redis.Client
	prefix string // WAGATE_REDIS_PREFIX
}

// deploy creates the test's database (and Redis prefix) and the common
// environment: sandbox mode on the simulator at simAddr, limits out of the
// way, no send pacing.
func deploy(t *testing.T, b backend, simAddr string, extra map[string]string) *deployment {
	t.Helper()
	d := &deployment{env: map[string]string{
		"WAGATE_JWT_SECRET":        jwtSecret,
		"WAGATE_LOG_LEVEL":         "info",
		"WAGATE_NODE_ID":           "crash-" + b.name,
		"WAGATE_AUTH_RATE_PER_MIN": "100000",
		"WAGATE_TIERS":             "basic=5:1000000,pro=20:1000000,max=40:1000000",
		"WAGATE_WHATSAPP":          "sandbox",
		"WAGATE_SANDBOX_ADDR":      simAddr,
		"WAGATE_SEND_DELAY":        "0",
		"WAGATE_SHUTDOWN_TIMEOUT":  "5s",
		"WAGATE_DATA_DIR":          t.TempDir(),
		// Recovery after the kill by the same mechanisms as in production,
		// sooner: the restarted process claims the instance once the
		// killed one's lease has run out (6 s, not 15), a claim left
		// sending is stale after 7.5 s, the embedded queue's jobs run
		// again 6 s after the kill, the relays take over what sat 5 s
		// untouched. Each still outlasts the work it guards (a send's
		// answer, a renewal every third of a lease, a job on its way).
		"WAGATE_LEASE_TTL":    "6s",
		"WAGATE_SEND_TIMEOUT": "5s",
		"WAGATE_QUEUE_LEASE":  "6s",
		"WAGATE_RELAY_AFTER":  "5s",
	}}
	if b.asynq {
		d.env["WAGATE_DATABASE_URL"] = testdb.Postgres(t)
		d.env["WAGATE_MIGRATE_ON_START"] = "true"
		redisURL, prefix := testdb.Redis(t)
		d.prefix = strings.TrimSuffix(prefix, ":")
		d.env["WAGATE_REDIS_URL"] = redisURL
		d.env["WAGATE_REDIS_PREFIX"] = d.prefix
		opts, err := redis.ParseURL(redisURL)
		if err != nil {
			t.Fatalf("parse TEST_REDIS_URL: %v", err)
		}
		d.redis = redis.NewClient(opts)
		// Registered after testdb's cleanup, so it runs before it; and
		// before the server starts, so it runs after the server stopped.
		t.Cleanup(func() {
			defer d.redis.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if _, err := d.flushRedis(ctx); err != nil {
				t.Errorf("delete the test's Redis keys: %v", err)
			}
			d.forgetQueues(ctx, t)
		})
	}
	maps.Copy(d.env, extra)
	return d
}

// flushRedis deletes every Redis key of this deployment, as a Redis that
// lost its data would: asynq's queues ("asynq:{<prefix>:<type>}:…", asynq
// cannot prefix its keys otherwise) and wagate's own keys ("<prefix>:…").
// Other tests' keys on the same Redis are left alone. It returns how many
// keys it deleted.
func (d *deployment) flushRedis(ctx context.Context) (int, error) {
	n := 0
	for _, pattern := range []string{"asynq:{" + d.prefix + ":*", d.prefix + ":*"} {
		iter := d.redis.Scan(ctx, 0, pattern, 500).Iterator()
		var batch []string
		del := func() error {
			if len(batch) == 0 {
				return nil
			}
			deleted, err := d.redis.Del(ctx, batch...).Result()
			n += int(deleted)
			batch = batch[:0]
			return err
		}
		for iter.Next(ctx) {
			if batch = append(batch, iter.Val()); len(batch) == 500 {
				if err := del(); err != nil {
					return n, err
				}
			}
		}
		if err := iter.Err(); err != nil {
			return n, err
		}
		if err := del(); err != nil {
			return n, err
		}
	}
	return n, nil
}

// expireLeases dates the leases of the deployment's active asynq tasks
// back past the cutoff of asynq's recoverer (a lease that ended more than
// 30 s ago), as if the minute or two it waits after a crash had passed:
// asynq v0.26 hard-codes both the lease and the recoverer's minute. The
// restarted server's recoverers run once at their start and send those
// tasks to retry, asynq's own recovery path. Only for a killed server: a
// live one would have its running tasks retried under it. It returns how
// many leases it aged.
func (d *deployment) expireLeases(ctx context.Context) (int, error) {
	long := float64(time.Now().Add(-time.Hour).Unix())
	n := 0
	iter := d.redis.Scan(ctx, 0, "asynq:{"+d.prefix+":*}:lease", 100).Iterator()
	for iter.Next(ctx) {
		ids, err := d.redis.ZRange(ctx, iter.Val(), 0, -1).Result()
		if err != nil {
			return n, err
		}
		for _, id := range ids {
			// XX: a task finished meanwhile is not given a lease again.
			if err := d.redis.ZAddXX(ctx, iter.Val(), redis.Z{Score: long, Member: id}).Err(); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, iter.Err()
}

// forgetQueues removes the deployment's queues from asynq's registry of
// queue names, which every deployment on the Redis shares.
func (d *deployment) forgetQueues(ctx context.Context, t *testing.T) {
	names, err := d.redis.SMembers(ctx, "asynq:queues").Result()
	if err != nil {
		t.Errorf("list asynq queues: %v", err)
		return
	}
	for _, q := range names {
		if strings.HasPrefix(q, d.prefix+":") {
			if err := d.redis.SRem(ctx, "asynq:queues", q).Err(); err != nil {
				t.Errorf("forget asynq queue %s: %v", q, err)
			}
		}
	}
}

// startProcess runs the server as a process of its own until the test
// ends, and prints the tail of its output if the test failed.
func startProcess(t *testing.T, d *deployment) *testserver.Process {
	t.Helper()
	p, err := testserver.StartProcess(context.Background(), wagateBin, d.env)
	if err != nil {
		t.Fatalf("start wagate: %v", err)
	}
	t.Cleanup(func() {
		if err := p.Stop(); err != nil {
			t.Errorf("stop wagate: %v", err)
		}
		if t.Failed() {
			t.Logf("server output (tail):\n%s", tail(p.Logs(), 120))
		}
	})
	return p
}

// restart starts the killed process again on the same environment. With
// asynq, the killed process's task leases are aged first, so that the new
// process's recoverers take its tasks back at their start rather than one
// to two minutes later (see expireLeases).
func restart(t *testing.T, d *deployment, p *testserver.Process) {
	t.Helper()
	if d.redis != nil {
		n, err := d.expireLeases(t.Context())
		if err != nil {
			t.Fatalf("age the killed process's asynq leases: %v", err)
		}
		t.Logf("aged %d asynq leases of the killed process", n)
	}
	if err := p.Start(context.Background()); err != nil {
		t.Fatalf("restart wagate: %v", err)
	}
}

func kill(t *testing.T, p *testserver.Process) {
	t.Helper()
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// startSim runs a simulated WhatsApp network in the test process, so that
// it outlives the server and the test can read what its contacts received.
func startSim(t *testing.T, receiptDelay time.Duration) *wasim.Server {
	t.Helper()
	sim := wasim.New(wasim.Options{ReceiptDelay: receiptDelay})
	if err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatalf("start simulator: %v", err)
	}
	t.Cleanup(func() { sim.Close() })
	return sim
}

// client calls the API with one account's access token.
type client struct {
	base, token string
	hc          *http.Client
}

func newClient(p *testserver.Process) *client {
	return &client{base: p.URL, hc: &http.Client{Timeout: 30 * time.Second}}
}

// call sends a JSON request and decodes a JSON object answer (nil when the
// body is not one). It never stops the test, so goroutines may use it.
func (c *client) call(method, path string, body any) (int, map[string]any, error) {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 8<<20))
	if err != nil {
		return res.StatusCode, nil, fmt.Errorf("%s %s: read: %w", method, path, err)
	}
	var out map[string]any
	_ = json.Unmarshal(raw, &out) // not every body is an object
	if res.StatusCode >= 300 {
		return res.StatusCode, out, fmt.Errorf("%s %s: got %d %.400s", method, path, res.StatusCode, raw)
	}
	return res.StatusCode, out, nil
}

// must is call for the test goroutine: any error or another status stops
// the test.
func (c *client) must(t *testing.T, want int, method, path string, body any) map[string]any {
	t.Helper()
	status, out, err := c.call(method, path, body)
	if status != want {
		t.Fatalf("%s %s: got status %d, want %d (%v)", method, path, status, want, err)
	}
	return out
}

// register signs a fresh account up and keeps its access token.
func (c *client) register(t *testing.T) {
	t.Helper()
	out := c.must(t, http.StatusCreated, "POST", "/api/v1/auth/register", map[string]any{
		"email": fmt.Sprintf("crash-%d@example.com", time.Now().UnixNano()), "password": "correct horse battery", "name": "Crash Test",
	})
	tok, _ := out["tokens"].(map[string]any)
	c.token = str(tok, "accessToken")
	if c.token == "" {
		t.Fatalf("register: got %v, want an access token", out)
	}
}

// linkInstance creates an instance and links it by a simulated QR scan;
// it returns the instance id and its phone number.
func (c *client) linkInstance(t *testing.T, name string) (id, phone string) {
	t.Helper()
	id = str(c.must(t, http.StatusCreated, "POST", "/api/v1/instances", map[string]any{"name": name}), "id")
	c.must(t, http.StatusAccepted, "POST", "/api/v1/instances/"+id+"/connect", nil)
	waitFor(t, 30*time.Second, "a QR code", func() (bool, string) {
		status, out, _ := c.call("GET", "/api/v1/instances/"+id+"/qr", nil)
		return status == http.StatusOK, fmt.Sprint(status, out)
	})
	c.must(t, http.StatusAccepted, "POST", "/api/v1/sandbox/instances/"+id+"/scan", nil)
	inst := c.waitConnected(t, id)
	return id, str(inst, "phoneNumber")
}

// waitConnected waits until the instance is connected and returns it.
func (c *client) waitConnected(t *testing.T, id string) map[string]any {
	t.Helper()
	var inst map[string]any
	waitFor(t, 60*time.Second, "instance "+id+" connected", func() (bool, string) {
		_, out, err := c.call("GET", "/api/v1/instances/"+id, nil)
		inst = out
		return err == nil && str(out, "status") == "connected", fmt.Sprint(out, err)
	})
	return inst
}

// pages returns every item of a list endpoint (path without limit and
// cursor), following nextCursor.
func (c *client) pages(path string) ([]map[string]any, error) {
	var all []map[string]any
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	cursor := ""
	for range 1000 {
		p := path + sep + "limit=200"
		if cursor != "" {
			p += "&cursor=" + url.QueryEscape(cursor)
		}
		_, out, err := c.call("GET", p, nil)
		if err != nil {
			return nil, err
		}
		data, _ := out["data"].([]any)
		for _, e := range data {
			if m, ok := e.(map[string]any); ok {
				all = append(all, m)
			}
		}
		next, _ := out["nextCursor"].(string)
		if next == "" {
			return all, nil
		}
		cursor = next
	}
	return nil, fmt.Errorf("GET %s: more than 1000 pages", path)
}

// waitFor polls cond every 100 ms until it holds, stopping the test after
// timeout with what cond last reported.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, progress := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s; last: %s", timeout, what, progress)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func num(m map[string]any, k string) int {
	n, _ := m[k].(float64)
	return int(n)
}
