package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/wagate/wagate/test/testserver"
)

// gateway is a sandbox wagate started in-process on one store, linked to
// the bench's simulator, with one account registered.
type gateway struct {
	srv   *testserver.Server
	c     *client
	token string // the account's access token
	sub   string // its subscription id
	// st and env are the server's store and environment, for a restart
	// on the same data.
	st  store
	env map[string]string
}

// linked is an instance connected through the simulator, with an API key.
type linked struct {
	id, phone, jid, key string
}

// linkWait bounds one instance's pairing.
const linkWait = 60 * time.Second

// startGateway starts the server on st in sandbox mode against simAddr,
// with extra on top of the common settings, and registers an account.
func startGateway(st store, simAddr string, extra map[string]string, conc int) (*gateway, error) {
	env := map[string]string{
		// The benchmark measures the server, not the rate limits.
		"WAGATE_AUTH_RATE_PER_MIN": "100000000",
		"WAGATE_TIERS":             "basic=100:100000000,pro=100:100000000,max=100:100000000",
		"WAGATE_LOG_LEVEL":         "error",
		"WAGATE_JWT_SECRET":        strings.Repeat("b", 32),
		"WAGATE_ACCESS_TOKEN_TTL":  "2h",
		"WAGATE_WHATSAPP":          "sandbox",
		"WAGATE_SANDBOX_ADDR":      simAddr,
	}
	maps.Copy(env, st.env)
	maps.Copy(env, extra)
	srv, err := testserver.Start(context.Background(), env)
	if err != nil {
		return nil, err
	}
	g := &gateway{srv: srv, st: st, env: env, c: newClient(srv.URL, conc)}
	if err := g.signUp(); err != nil {
		srv.Stop()
		return nil, err
	}
	return g, nil
}

func newClient(base string, conc int) *client {
	return &client{base: base, http: &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: conc * 2},
	}}
}

// signUp registers the gateway's account and reads its subscription.
func (g *gateway) signUp() error {
	var reg struct {
		Tokens struct{ AccessToken string } `json:"tokens"`
	}
	body := map[string]string{"email": "bench-" + randHex(4) + "@example.com", "password": "correct horse battery", "name": "Bench"}
	if err := g.c.do("POST", "/api/v1/auth/register", "", body, 201, &reg); err != nil {
		return err
	}
	g.token = reg.Tokens.AccessToken
	var me struct {
		Subscription struct{ ID string } `json:"subscription"`
	}
	if err := g.c.do("GET", "/api/v1/me", g.token, nil, 200, &me); err != nil {
		return err
	}
	g.sub = me.Subscription.ID
	return nil
}

// stop shuts the server down; a failed graceful stop is worth a word, not
// the run.
func (g *gateway) stop() {
	if err := g.srv.Stop(); err != nil {
		fmt.Printf("  (server stop: %v)\n", err)
	}
}

// linkMany links n instances, parallel at a time.
func (g *gateway) linkMany(n, parallel int) ([]linked, error) {
	out := make([]linked, n)
	errs := make([]error, n)
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			out[i], errs[i] = g.link(fmt.Sprintf("bench-%d", i))
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// link creates an instance with an API key and pairs it by a simulated
// QR scan.
func (g *gateway) link(name string) (linked, error) {
	var inst struct{ ID string }
	if err := g.c.do("POST", "/api/v1/instances", g.token, map[string]string{"name": name}, 201, &inst); err != nil {
		return linked{}, err
	}
	path := "/api/v1/instances/" + inst.ID
	var key struct{ Key string }
	if err := g.c.do("POST", path+"/api-keys", g.token, map[string]string{"name": "bench"}, 201, &key); err != nil {
		return linked{}, err
	}
	if err := g.c.do("POST", path+"/connect", g.token, nil, 202, nil); err != nil {
		return linked{}, err
	}
	if err := g.waitFor(path+"/qr", func(code int, _ []byte) bool { return code == 200 }); err != nil {
		return linked{}, fmt.Errorf("instance %s: no QR code: %w", name, err)
	}
	var scan struct{ PhoneNumber string }
	if err := g.c.do("POST", "/api/v1/sandbox/instances/"+inst.ID+"/scan", g.token, nil, 202, &scan); err != nil {
		return linked{}, err
	}
	var got struct {
		Status string
		JID    *string
	}
	err := g.waitFor(path, func(code int, body []byte) bool {
		return code == 200 && json.Unmarshal(body, &got) == nil && got.Status == "connected"
	})
	if err != nil {
		return linked{}, fmt.Errorf("instance %s: not connected (%s): %w", name, got.Status, err)
	}
	l := linked{id: inst.ID, phone: scan.PhoneNumber, key: key.Key}
	if got.JID != nil {
		l.jid = *got.JID
	}
	return l, nil
}

// waitFor polls GET path until done says so, for up to linkWait.
func (g *gateway) waitFor(path string, done func(code int, body []byte) bool) error {
	deadline := time.Now().Add(linkWait)
	for {
		code, body, err := g.c.call("GET", path, g.token, nil)
		if err == nil && done(code, body) {
			return nil
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("last answer %d: %s", code, body)
			}
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}
