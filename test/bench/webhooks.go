package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/wagate/wagate/adapters/wasim"
)

// webhookFigures are scenario (c): webhook deliveries to a receiver in this
// process, once from a pre-filled backlog (the most deliveries per second
// the pipeline makes) and once at a paced rate of inbound messages (the
// latency from the event to its first attempt).
type webhookFigures struct {
	endpoints     int
	workers       int // the server's delivery concurrency
	backlog       phaseFigures
	paced         phaseFigures
	offeredPerSec float64 // deliveries/s the paced phase asked for
	// ceiling is a plain HTTP client's burst of as many deliveries to the
	// same receiver paths at the server's delivery concurrency
	// (webhookbase.go).
	ceiling phaseFigures
}

// phaseFigures are one phase's deliveries as the receiver saw them.
type phaseFigures struct {
	events, want, got int
	lost              int           // events the simulator or the server refused
	dups              int           // deliveries that arrived more than once
	elapsed           time.Duration // the phase's span (see webhookPhase, backlogPhase)
	latency           []time.Duration
	// eventSpan is from the first to the last event timestamp that
	// arrived: how fast the server turned inbound messages into events.
	eventSpan   time.Duration
	eventsSeen  int
	generateFor time.Duration // how long making the events took
}

func (p phaseFigures) rate() float64 { return float64(p.got) / p.elapsed.Seconds() }

// quantile is the latency below which q of the wanted deliveries arrived;
// false when fewer than that arrived at all (the rest count as later than
// any that did).
func (p phaseFigures) quantile(q float64) (time.Duration, bool) {
	i := int(float64(p.want) * q)
	if i >= len(p.latency) || p.want == 0 {
		return 0, false
	}
	return p.latency[i], true
}

// maxEndpoints is SPEC §9's limit of webhook endpoints per instance.
const maxEndpoints = 10

// webhookGrace bounds the wait for a phase's deliveries after its last
// event: a slower backend is reported as such rather than waited for.
const webhookGrace = 15 * time.Second

// benchWebhooks gives every instance cfg.endpoints message.received
// endpoints on a loopback receiver, then runs the paced phase (simulated
// contacts write to the instances at cfg.pacedEvents per second for
// cfg.dur), the backlog phase (cfg.backlog deliveries' worth of events
// appended while the server is stopped) and the ceiling (a plain client
// making as many deliveries to the same paths).
func benchWebhooks(g *gateway, sim *wasim.Server, insts []linked, cfg msgConfig) (webhookFigures, error) {
	rcv, err := startReceiver()
	if err != nil {
		return webhookFigures{}, err
	}
	defer rcv.close()
	var paths []string // the receiver's, one per endpoint
	for _, in := range insts {
		for j := range cfg.endpoints {
			paths = append(paths, fmt.Sprintf("/hook/%s/%d", in.id, j))
			body := map[string]any{"url": rcv.url + paths[len(paths)-1], "events": []string{"message.received"}}
			path := "/api/v1/instances/" + in.id + "/webhooks"
			if err := g.c.do("POST", path, g.token, body, http.StatusCreated, nil); err != nil {
				return webhookFigures{}, err
			}
		}
	}
	f := webhookFigures{endpoints: len(paths), workers: cfg.webhookWorkers}
	perEvent := cfg.endpoints // every endpoint of the instance takes every event
	event := func(i int) error {
		in := insts[i%len(insts)]
		// Contacts of their own, not the recipients of the sends.
		from := fmt.Sprintf("+1557%07d", 1_000_000+i%contacts)
		return sim.ContactSendText(context.Background(), from, in.phone, fmt.Sprintf("%s%d", rcv.tag(), i))
	}
	f.offeredPerSec = cfg.pacedEvents * float64(perEvent)
	events := max(1, int(cfg.pacedEvents*cfg.dur.Seconds()))
	if f.paced, err = webhookPhase(rcv, events, perEvent, cfg.pacedEvents, cfg.conc, event); err != nil {
		return f, fmt.Errorf("paced: %w", err)
	}
	if f.backlog, err = backlogPhase(g, rcv, insts, max(1, cfg.backlog/perEvent), perEvent); err != nil {
		return f, fmt.Errorf("backlog: %w", err)
	}
	if f.ceiling, err = benchWebhookCeiling(rcv, paths, f.backlog.want, cfg.webhookWorkers); err != nil {
		return f, fmt.Errorf("ceiling: %w", err)
	}
	return f, nil
}

// webhookPhase makes n events at eventRate per second (0: as fast as
// possible) and waits for their n*perEvent deliveries, for up to
// webhookGrace after the last event.
func webhookPhase(rcv *receiver, n, perEvent int, eventRate float64, conc int, event func(i int) error) (phaseFigures, error) {
	rcv.next()
	p := phaseFigures{events: n}
	start := time.Now()
	p.lost = generate(n, eventRate, conc, event)
	p.want = (n - p.lost) * perEvent
	generated := time.Now()
	p.generateFor = generated.Sub(start)
	for rcv.progress() < p.want && time.Since(generated) <= webhookGrace {
		time.Sleep(20 * time.Millisecond)
	}
	s := rcv.snapshot()
	p.got, p.latency, p.elapsed, p.dups = len(s.latency), s.latency, s.last.Sub(start), s.dups
	p.eventsSeen, p.eventSpan = s.events, s.lastEvent.Sub(s.firstEvent)
	if p.got < p.want {
		p.elapsed = time.Since(start)
	}
	slices.Sort(p.latency)
	if p.lost > 0 {
		return p, fmt.Errorf("%d of %d events were refused", p.lost, n)
	}
	return p, nil
}

// receiver is the webhook receiver: it answers 204 at once and keeps, for
// the first attempt of each (endpoint, event) of the current phase, how
// long after the event's timestamp it arrived. Server and receiver share
// the clock. An event belongs to the phase when its inbound text starts
// with the phase's tag, or, without a text (webhook.test), when it
// happened after the phase began; what an earlier phase left behind does
// not count in the next.
type receiver struct {
	url string
	hs  *http.Server

	mu                    sync.Mutex
	phase                 int
	began                 time.Time
	seen                  map[string]bool // endpoint path + webhook-id
	events                map[string]bool // webhook-id
	latency               []time.Duration
	last                  time.Time // the latest first attempt, or the phase's start
	first                 time.Time // the earliest first attempt
	dups                  int       // attempts of an (endpoint, event) seen before
	firstEvent, lastEvent time.Time
}

func startReceiver() (*receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("webhook receiver: %w", err)
	}
	r := &receiver{url: "http://" + ln.Addr().String()}
	r.next()
	r.hs = &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := r.hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Println("  (webhook receiver:", err, ")")
		}
	}()
	return r, nil
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	at := time.Now()
	var ev struct {
		Timestamp time.Time `json:"timestamp"`
		Data      struct {
			Text string `json:"text"`
		} `json:"data"`
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	if err != nil || json.Unmarshal(body, &ev) != nil || ev.Timestamp.IsZero() {
		http.Error(w, "want an event with a timestamp", http.StatusBadRequest)
		return
	}
	id := req.Header.Get("webhook-id")
	key := req.URL.Path + " " + id
	r.mu.Lock()
	switch {
	case !r.ours(ev.Data.Text, ev.Timestamp):
	case r.seen[key]:
		r.dups++
	default:
		r.seen[key] = true
		r.latency = append(r.latency, at.Sub(ev.Timestamp))
		r.last = at
		if r.first.IsZero() {
			r.first = at
		}
		if !r.events[id] {
			r.events[id] = true
			if r.firstEvent.IsZero() || ev.Timestamp.Before(r.firstEvent) {
				r.firstEvent = ev.Timestamp
			}
			if ev.Timestamp.After(r.lastEvent) {
				r.lastEvent = ev.Timestamp
			}
		}
	}
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// ours tells whether an event belongs to the current phase; r.mu is held.
func (r *receiver) ours(text string, at time.Time) bool {
	if strings.HasPrefix(text, "bench phase ") {
		return strings.HasPrefix(text, r.tagLocked())
	}
	return !at.Before(r.began)
}

// next starts a phase.
func (r *receiver) next() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.phase++
	r.began = time.Now()
	r.seen, r.events, r.latency, r.last = map[string]bool{}, map[string]bool{}, nil, r.began
	r.first, r.dups = time.Time{}, 0
	r.firstEvent, r.lastEvent = time.Time{}, time.Time{}
}

// tag is the prefix of the current phase's inbound texts.
func (r *receiver) tag() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tagLocked()
}

func (r *receiver) tagLocked() string { return fmt.Sprintf("bench phase %d: ", r.phase) }

// progress is how many first attempts of the phase arrived.
func (r *receiver) progress() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.latency)
}

// receiverSnapshot is what a phase received.
type receiverSnapshot struct {
	latency               []time.Duration
	first, last           time.Time
	dups                  int
	events                int
	firstEvent, lastEvent time.Time
}

func (r *receiver) snapshot() receiverSnapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	return receiverSnapshot{latency: slices.Clone(r.latency), first: r.first, last: r.last, dups: r.dups, events: len(r.events), firstEvent: r.firstEvent, lastEvent: r.lastEvent}
}

func (r *receiver) close() { r.hs.Close() }
