package main

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"time"

	"github.com/wagate/wagate/test/testserver"
)

// forwardFigures are contact checks per second of one linked instance,
// asked of the node that holds it and of a second node, which forwards
// each check to the holder over Redis (issue 18: the forwarding cost).
type forwardFigures struct {
	holder, other result
}

// aimForwardAdded is issue 18's aim for what forwarding adds at p50.
const aimForwardAdded = 2 * time.Millisecond

// benchForward starts two nodes on one PostgreSQL and Redis, links an
// instance through the first (so that it holds it) and loads
// POST /contacts/check on each in turn.
func benchForward(b backend, simAddr string, conc int, dur time.Duration) (forwardFigures, error) {
	st, err := b.fresh()
	if err != nil {
		return forwardFigures{}, err
	}
	defer st.drop()
	// The benchmark measures the forwarding, not the contact-check limit.
	limits := map[string]string{"WAGATE_CONTACTS_RATE": "100000000/1m", "WAGATE_NODE_ID": "bench-holder"}
	g, err := startGateway(st, simAddr, limits, conc)
	if err != nil {
		return forwardFigures{}, err
	}
	defer g.stop()
	inst, err := g.link("forwarded")
	if err != nil {
		return forwardFigures{}, err
	}
	env := maps.Clone(g.env)
	delete(env, "WAGATE_ADDR")
	env["WAGATE_NODE_ID"] = "bench-other"
	other, err := testserver.Start(context.Background(), env)
	if err != nil {
		return forwardFigures{}, fmt.Errorf("second node: %w", err)
	}
	defer other.Stop()
	oc := &client{base: other.URL, http: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: conc * 2}}}
	path := "/api/v1/instances/" + inst.id + "/contacts/check"
	body := map[string]any{"phoneNumbers": []string{"+15550001111"}}
	check := func(c *client) func() error {
		return func() error { return c.do("POST", path, g.token, body, 200, nil) }
	}
	// Warm both paths (connections, the other node's auth cache).
	for range 20 {
		if err := check(g.c)(); err != nil {
			return forwardFigures{}, fmt.Errorf("holder: %w", err)
		}
		if err := check(oc)(); err != nil {
			return forwardFigures{}, fmt.Errorf("other node: %w", err)
		}
	}
	var f forwardFigures
	f.holder = load(conc, dur, check(g.c))
	f.other = load(conc, dur, check(oc))
	return f, nil
}

func forwardLine(name string, f forwardFigures) string {
	added := f.other.p50 - f.holder.p50
	verdict := "meets"
	if added > aimForwardAdded {
		verdict = "MISSES"
	}
	return fmt.Sprintf("%-9s contact checks on the holder %6.0f/s p50 %-9s p99 %-9s errors %d | through another node %6.0f/s p50 %-9s p99 %-9s errors %d | added p50 %s (%s the %s aim)",
		name, f.holder.rps, f.holder.p50.Round(10*time.Microsecond), f.holder.p99.Round(10*time.Microsecond), f.holder.errors,
		f.other.rps, f.other.p50.Round(10*time.Microsecond), f.other.p99.Round(10*time.Microsecond), f.other.errors,
		added.Round(10*time.Microsecond), verdict, aimForwardAdded)
}
