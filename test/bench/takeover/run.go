package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/wagate/wagate/adapters/entstore"
	"github.com/wagate/wagate/adapters/wasim"
	"github.com/wagate/wagate/ports"
	"github.com/wagate/wagate/test/testserver"
)

const jwtSecret = "takeover-bench-secret-0123456789abcdef"

// node is one wagate serve process.
type node struct {
	name string
	p    *testserver.Process
}

// cluster is the nodes, the database they share and the API token of the
// account that owns every instance.
type cluster struct {
	nodes  []*node
	leases ports.LeaseStore
	token  string
	http   *http.Client
}

func run(ctx context.Context, cfg config) error {
	dir, err := os.MkdirTemp("", "wagate-takeover-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fmt.Println("building wagate…")
	bin, err := testserver.Build(ctx, dir, false)
	if err != nil {
		return err
	}
	dbURL, drop, err := scratchDatabase(ctx, cfg.pgURL)
	if err != nil {
		return err
	}
	defer drop()
	prefix, clean, err := redisPrefix(ctx, cfg.redisURL)
	if err != nil {
		return err
	}
	defer clean()
	// The simulator `wagate sim` runs, in this process.
	sim := wasim.New(wasim.Options{ReceiptDelay: time.Second})
	if err := sim.Start("127.0.0.1:0"); err != nil {
		return err
	}
	defer sim.Close()

	mig := exec.CommandContext(ctx, bin, "migrate")
	mig.Env = []string{"WAGATE_DATABASE_URL=" + dbURL, "HOME=" + dir}
	if out, err := mig.CombinedOutput(); err != nil {
		return fmt.Errorf("wagate migrate: %w\n%s", err, out)
	}
	st, err := entstore.Open(ctx, entstore.Options{URL: dbURL})
	if err != nil {
		return err
	}
	defer st.Close()

	c := &cluster{leases: st.Leases(), http: &http.Client{Timeout: 30 * time.Second}}
	defer c.stop()
	for i := range cfg.nodes {
		name := fmt.Sprintf("node-%d", i)
		p, err := testserver.StartProcess(ctx, bin, map[string]string{
			"WAGATE_NODE_ID":           name,
			"WAGATE_DATA_DIR":          filepath.Join(dir, name),
			"WAGATE_DATABASE_URL":      dbURL,
			"WAGATE_REDIS_URL":         cfg.redisURL,
			"WAGATE_REDIS_PREFIX":      prefix,
			"WAGATE_JWT_SECRET":        jwtSecret,
			"WAGATE_WHATSAPP":          "sandbox",
			"WAGATE_SANDBOX_ADDR":      sim.Addr(),
			"WAGATE_LEASE_TTL":         cfg.leaseTTL,
			"WAGATE_AUTH_RATE_PER_MIN": "100000",
			"WAGATE_TIERS":             fmt.Sprintf("basic=%d:100000,pro=%d:100000,max=%d:100000", cfg.n, cfg.n, cfg.n),
			"WAGATE_LOG_LEVEL":         "info", // the "instance status" lines tell when a node connected an instance
		})
		if err != nil {
			return fmt.Errorf("start %s: %w", name, err)
		}
		c.nodes = append(c.nodes, &node{name: name, p: p})
	}
	if err := c.register(ctx); err != nil {
		return err
	}

	fmt.Printf("linking %d instances through %d nodes…\n", cfg.n, cfg.nodes)
	linkStart := time.Now()
	ids, err := c.linkAll(ctx, cfg)
	if err != nil {
		return err
	}
	holders, err := c.holders(ctx)
	if err != nil {
		return err
	}
	per := map[string][]string{}
	for _, id := range ids {
		per[holders[id]] = append(per[holders[id]], id)
	}
	victim := c.nodes[0]
	for _, n := range c.nodes {
		if len(per[n.name]) > len(per[victim.name]) {
			victim = n
		}
	}
	moved := per[victim.name]
	fmt.Printf("linked in %s; instances per node: %s\n", time.Since(linkStart).Round(100*time.Millisecond), spread(c.nodes, per))

	if err := victim.p.Kill(); err != nil {
		return err
	}
	killed := time.Now()
	claimed, connected, err := c.waitTakeover(ctx, cfg.timeout, victim, moved, killed)
	if err != nil {
		return err
	}
	holders, err = c.holders(ctx)
	if err != nil {
		return err
	}
	per = map[string][]string{}
	for _, id := range ids {
		per[holders[id]] = append(per[holders[id]], id)
	}
	fmt.Printf("\nSIGKILL of %s holding %d of %d instances (%d nodes, WAGATE_LEASE_TTL=%s):\n", victim.name, len(moved), cfg.n, cfg.nodes, cfg.leaseTTL)
	fmt.Printf("  leases all held by the survivors after  %6.1fs\n", claimed.Sub(killed).Seconds())
	fmt.Printf("  instances all connected again after     %6.1fs   (aim ≤ 30 s for 100 instances; SPEC §14: 60 s)\n", connected.Sub(killed).Seconds())
	fmt.Printf("  instances per node after the takeover:  %s\n", spread(c.nodes, per))
	return nil
}

// stop ends the nodes still running.
func (c *cluster) stop() {
	for _, n := range c.nodes {
		_ = n.p.Kill()
	}
}

// spread lists how many instances each node holds.
func spread(nodes []*node, per map[string][]string) string {
	var b bytes.Buffer
	for i, n := range nodes {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %d", n.name, len(per[n.name]))
	}
	return b.String()
}

// holders returns the live lease holder of each instance.
func (c *cluster) holders(ctx context.Context) (map[string]string, error) {
	ls, err := c.leases.Leases(ctx, time.Now())
	if err != nil {
		return nil, fmt.Errorf("leases: %w", err)
	}
	out := map[string]string{}
	for _, l := range ls {
		out[string(l.Instance)] = string(l.Node)
	}
	return out, nil
}

// waitTakeover polls every 100 ms until no live lease of moved names the
// victim, then until each of them is connected by its new holder, and
// returns when the last lease was claimed (as polled) and when the last
// instance was connected (as its holder logged it). The status alone
// would not do: the killed node left its instances connected in the
// database.
func (c *cluster) waitTakeover(ctx context.Context, timeout time.Duration, victim *node, moved []string, killed time.Time) (claimed, connected time.Time, err error) {
	deadline := time.Now().Add(timeout)
	for {
		if time.Now().After(deadline) {
			return claimed, connected, fmt.Errorf("the survivors had not taken over within %s", timeout)
		}
		h, err := c.holders(ctx)
		if err != nil {
			return claimed, connected, err
		}
		held := 0
		for _, id := range moved {
			if n, ok := h[id]; ok && n != victim.name {
				held++
			}
		}
		if held == len(moved) && claimed.IsZero() {
			claimed = time.Now()
		}
		if !claimed.IsZero() {
			up := map[string]map[string]time.Time{}
			for _, n := range c.nodes {
				if n != victim {
					up[n.name] = connectedSince(n.p.Logs(), killed)
				}
			}
			last, all := time.Time{}, true
			for _, id := range moved {
				at, ok := up[h[id]][id]
				if !ok {
					all = false
					break
				}
				if at.After(last) {
					last = at
				}
			}
			if all {
				return claimed, last, nil
			}
		}
		select {
		case <-ctx.Done():
			return claimed, connected, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// connectedSince returns when each instance became connected at or after
// since, as a node's log says.
func connectedSince(logs string, since time.Time) map[string]time.Time {
	out := map[string]time.Time{}
	for line := range strings.Lines(logs) {
		if !strings.Contains(line, `"msg":"instance status"`) {
			continue
		}
		var e struct {
			Time     time.Time `json:"time"`
			Instance string    `json:"instance"`
			Status   string    `json:"status"`
		}
		if json.Unmarshal([]byte(line), &e) == nil && e.Status == "connected" && !e.Time.Before(since) {
			out[e.Instance] = e.Time
		}
	}
	return out
}

// register creates the account that owns the instances.
func (c *cluster) register(ctx context.Context) error {
	var out struct {
		Tokens struct {
			AccessToken string `json:"accessToken"`
		} `json:"tokens"`
	}
	err := c.call(ctx, c.nodes[0], "POST", "/api/v1/auth/register", map[string]any{
		"email": "takeover@example.com", "password": "correct horse battery", "name": "Takeover Bench",
	}, http.StatusCreated, &out)
	if err != nil {
		return err
	}
	c.token = out.Tokens.AccessToken
	return nil
}

// linkAll links cfg.n instances, instance i through node i mod nodes, and
// returns their ids.
func (c *cluster) linkAll(ctx context.Context, cfg config) ([]string, error) {
	ids := make([]string, cfg.n)
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	sem := make(chan struct{}, cfg.parallel)
	for i := range cfg.n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			n := c.nodes[i%len(c.nodes)]
			id, err := c.link(ctx, n, fmt.Sprintf("bench-%04d", i))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("link %d through %s: %w", i, n.name, err))
				return
			}
			ids[i] = id
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return nil, errors.Join(errs[:min(len(errs), 5)]...)
	}
	return ids, nil
}

// link creates an instance and links it through node n, which then holds
// the pairing and the lease.
func (c *cluster) link(ctx context.Context, n *node, name string) (string, error) {
	var inst struct {
		ID string `json:"id"`
	}
	if err := c.call(ctx, n, "POST", "/api/v1/instances", map[string]any{"name": name}, http.StatusCreated, &inst); err != nil {
		return "", err
	}
	base := "/api/v1/instances/" + inst.ID
	if err := c.call(ctx, n, "POST", base+"/connect", nil, http.StatusAccepted, nil); err != nil {
		return "", err
	}
	if err := c.until(ctx, func() (bool, error) {
		code, err := c.do(ctx, n, "GET", base+"/qr", nil, nil)
		return code == http.StatusOK, err
	}); err != nil {
		return "", fmt.Errorf("no QR code: %w", err)
	}
	if err := c.call(ctx, n, "POST", "/api/v1/sandbox/instances/"+inst.ID+"/scan", nil, http.StatusAccepted, nil); err != nil {
		return "", err
	}
	if err := c.until(ctx, func() (bool, error) {
		var got struct {
			Status string `json:"status"`
		}
		err := c.call(ctx, n, "GET", base, nil, http.StatusOK, &got)
		return got.Status == "connected", err
	}); err != nil {
		return "", fmt.Errorf("not connected: %w", err)
	}
	return inst.ID, nil
}

// until calls fn every 100 ms until it reports done, fails or ctx ends.
func (c *cluster) until(ctx context.Context, fn func() (bool, error)) error {
	for {
		done, err := fn()
		if err != nil || done {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// call sends one JSON request to node n and decodes the answer into out
// (when not nil), failing unless the status is want.
func (c *cluster) call(ctx context.Context, n *node, method, path string, body any, want int, out any) error {
	code, err := c.do(ctx, n, method, path, body, out)
	if err == nil && code != want {
		err = fmt.Errorf("%s %s on %s: got status %d, want %d", method, path, n.name, code, want)
	}
	return err
}

func (c *cluster) do(ctx context.Context, n *node, method, path string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, n.p.URL+path, rd)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s %s on %s: %w", method, path, n.name, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return 0, err
	}
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s on %s: decode: %w", method, path, n.name, err)
		}
	}
	return resp.StatusCode, nil
}
