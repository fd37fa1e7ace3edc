package main

import (
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wagate/wagate/adapters/wasim"
)

// deliverFigures are scenario (b): messages sent end to end through the
// simulator across many instances with pacing off.
type deliverFigures struct {
	instances, messages int
	accepted            time.Duration // first POST to the last 202
	done                time.Duration // first POST until the stats count all sent or failed
	sent, failed        int
	atContacts          int64 // what the simulated recipients decrypted meanwhile
	refused             int64 // POSTs not answered 202
}

func (f deliverFigures) rate() float64 { return float64(f.sent) / f.done.Seconds() }

// deliverWait bounds the wait for all messages to be sent: a slower
// backend is reported as such rather than waited for.
const deliverWait = time.Minute

// sentPoll is how often the tenant's counts are read until all are sent:
// the finish time is known to this much. At 50 ms it overstated a drain
// of 100 texts (200-300 ms) by 25 ms on average; a read costs the server
// about 0.1 ms.
const sentPoll = 5 * time.Millisecond

// benchDeliver sends m text messages spread round-robin over insts, from
// conc clients, and measures from the first POST until the server's
// statistics count every one of them sent (or failed). The simulated
// recipients count what they decrypt, as a cross-check.
func benchDeliver(g *gateway, sim *wasim.Server, insts []linked, m, conc int) (deliverFigures, error) {
	f := deliverFigures{instances: len(insts), messages: m}
	var got atomic.Int64
	stop := make(chan struct{})
	var drains sync.WaitGroup
	for i := range min(m, contacts) {
		inbox := sim.Contact(contactPhone(i)).Messages()
		drainNow(inbox)
		drains.Go(func() {
			for {
				select {
				case <-inbox:
					got.Add(1)
				case <-stop:
					return
				}
			}
		})
	}
	defer drains.Wait()
	defer close(stop)

	// Totals of an earlier round on the same server are not this one's.
	base, err := sentTotals(g)
	if err != nil {
		return f, err
	}
	var refused atomic.Int64
	start := time.Now()
	generate(m, 0, conc, func(i int) error {
		err := g.c.do("POST", "/api/v1/messages/text", insts[i%len(insts)].key, textBody(i), http.StatusAccepted, nil)
		if err != nil {
			refused.Add(1)
		}
		return err
	})
	f.accepted = time.Since(start)
	f.refused = refused.Load()
	want := m - int(f.refused)
	for {
		t, err := sentTotals(g)
		if err != nil {
			return f, err
		}
		f.sent, f.failed = t.Sent-base.Sent, t.Failed-base.Failed
		f.done = time.Since(start)
		if f.sent+f.failed >= want {
			break
		}
		if f.done > deliverWait {
			break
		}
		time.Sleep(sentPoll)
	}
	f.atContacts = got.Load()
	if f.sent == 0 {
		return f, errors.New("no message was sent")
	}
	return f, nil
}

// totals are the tenant's sent and failed counts.
type totals struct{ Sent, Failed int }

func sentTotals(g *gateway) (totals, error) {
	var s struct {
		Totals totals `json:"totals"`
	}
	err := g.c.do("GET", "/api/v1/stats", g.token, nil, http.StatusOK, &s)
	return s.Totals, err
}

// drainNow empties what an inbox holds from an earlier scenario.
func drainNow(inbox <-chan wasim.Received) {
	for {
		select {
		case <-inbox:
		default:
			return
		}
	}
}

// generate calls do for 0..n-1 from conc goroutines; with rate > 0 the
// calls start at that many per second (later when the goroutines are all
// busy), else as fast as they finish. It returns the calls that failed.
func generate(n int, rate float64, conc int, do func(i int) error) int {
	jobs := make(chan int)
	var failed atomic.Int64
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			for i := range jobs {
				if do(i) != nil {
					failed.Add(1)
				}
			}
		})
	}
	start := time.Now()
	for i := range n {
		if rate > 0 {
			time.Sleep(time.Until(start.Add(time.Duration(float64(i) / rate * float64(time.Second)))))
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return int(failed.Load())
}
