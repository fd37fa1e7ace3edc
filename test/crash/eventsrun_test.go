package crash

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/wagate/wagate/adapters/wasim"
)

// The steps of the event-log crash test (events_test.go).

// hookAll and hookReceived are the test's two webhook endpoints: every
// event type, and the inbound messages only.
const (
	hookAll      = "all"
	hookReceived = "received"
)

// setUp creates the instance and its two webhook endpoints (before the
// log's first event, the instance.status of the connection it asks for).
func (r *logRun) setUp(t *testing.T) {
	t.Helper()
	r.inst = str(r.c.must(t, http.StatusCreated, "POST", "/api/v1/instances", map[string]any{"name": "event-log"}), "id")
	for name, events := range map[string][]string{hookAll: {"*"}, hookReceived: {"message.received"}} {
		hook := r.c.must(t, http.StatusCreated, "POST", "/api/v1/instances/"+r.inst+"/webhooks", map[string]any{
			"url": r.rec.url(name), "events": events,
		})
		r.rec.setSecret(t, name, str(hook, "secret"))
	}
	r.c.must(t, http.StatusAccepted, "POST", "/api/v1/instances/"+r.inst+"/connect", nil)
}

// link plays the QR scan and waits for the connection.
func (r *logRun) link(t *testing.T) {
	t.Helper()
	waitFor(t, 30*time.Second, "a QR code", func() (bool, string) {
		status, out, _ := r.c.call("GET", "/api/v1/instances/"+r.inst+"/qr", nil)
		return status == http.StatusOK, fmt.Sprint(status, out)
	})
	r.c.must(t, http.StatusAccepted, "POST", "/api/v1/sandbox/instances/"+r.inst+"/scan", nil)
	r.phone = str(r.c.waitConnected(t, r.inst), "phoneNumber")
}

// startPeers creates the contacts that write to the instance and receive
// its sends, and counts what they receive (repeats are dropped by the
// phones before they count).
func (r *logRun) startPeers(ctx context.Context) {
	base := r.rng.IntN(9_000_000)
	peers := make([]*wasim.Contact, logPeers)
	for i := range peers {
		peers[i] = r.sim.Contact(fmt.Sprintf("+1555%07d", base+i))
		go func(ct *wasim.Contact) {
			for {
				select {
				case <-ct.Messages():
					r.served.Add(1)
					select {
					case r.newServe <- struct{}{}:
					default:
					}
				case <-ctx.Done():
					return
				}
			}
		}(peers[i])
	}
	r.peers = peers
}

// sendAll queues the sends; the kills come while the server works
// through them.
func (r *logRun) sendAll(t *testing.T) {
	t.Helper()
	r.sendIDs = sendTexts(t, r.c, r.inst, logSends, func(i int) (string, string) {
		return r.peers[i%len(r.peers)].Phone(), fmt.Sprintf("crash-send-%04d", i)
	})
}

// startInbound makes the peers write logInbound messages to the instance,
// in turn, never more than logAhead ahead of the sends' progress, so that
// inbound messages are on their way at each kill (those the server was
// receiving die with it: the simulator, unlike WhatsApp, does not send
// again what a device did not acknowledge). The channel gets the outcome.
func (r *logRun) startInbound(ctx context.Context) <-chan error {
	done := make(chan error, 1)
	go func() {
		for i := range logInbound {
			// The sends must keep moving: a stall fails the test with what
			// was served instead of waiting for the test's timeout.
			stalled := time.After(phaseWait)
			for int(r.served.Load()) < i*logSends/logInbound-logAhead {
				select {
				case <-r.newServe:
				case <-time.After(50 * time.Millisecond):
				case <-stalled:
					done <- fmt.Errorf("message %d waits for the sends, stalled at %d served for %s", i, r.served.Load(), phaseWait)
					return
				case <-ctx.Done():
					done <- ctx.Err()
					return
				}
			}
			sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			err := r.peers[i%len(r.peers)].SendText(sctx, r.phone, fmt.Sprintf("crash-event-%04d", i))
			cancel()
			if err != nil {
				done <- fmt.Errorf("message %d: %w", i, err)
				return
			}
		}
		done <- nil
	}()
	return done
}

// waitServed returns once n sends reached their phones.
func (r *logRun) waitServed(t *testing.T, n int) {
	t.Helper()
	waitFor(t, phaseWait, fmt.Sprintf("%d sends served", n), func() (bool, string) {
		got := int(r.served.Load())
		return got >= n, fmt.Sprintf("%d served", got)
	})
}

// waitRecorded waits until the server has recorded the n deliveries the
// receiver answered 2xx.
func (r *logRun) waitRecorded(t *testing.T, db *sql.DB, n int) {
	t.Helper()
	waitFor(t, time.Minute, fmt.Sprintf("%d answered deliveries recorded", n), func() (bool, string) {
		got, err := deliveredCount(t.Context(), db)
		return err == nil && got >= n, fmt.Sprintf("%d recorded (%v)", got, err)
	})
}

// killAtRandom kills the server logKills times, at random points of the
// sends' progress. Before each kill the proxy slows, then holds,
// WhatsApp's answers, so that a send has gone out unrecorded and
// inbound messages and receipts are on their way; the receiver holds the
// webhook requests, so that none is answered and left unrecorded.
func (r *logRun) killAtRandom(t *testing.T, db *sql.DB) {
	t.Helper()
	targets := make([]int, logKills)
	for i := range targets {
		targets[i] = logSends/10 + r.rng.IntN(logSends*3/4)
	}
	slices.Sort(targets)
	for i, target := range targets {
		r.waitServed(t, target-3)
		lag := time.Duration(100+r.rng.IntN(300)) * time.Millisecond
		r.px.Slow(lag)
		r.waitServed(t, target)
		r.px.Hold(true)
		r.waitRecorded(t, db, r.rec.quiesce())
		time.Sleep(time.Duration(r.rng.IntN(300)) * time.Millisecond)
		killed := time.Now()
		kill(t, r.p)
		t.Logf("kill %d: %d of %d sends served, answers slowed by %s then held", i+1, r.served.Load(), logSends, lag)
		r.px.Slow(0)
		r.px.Hold(false)
		r.rec.resume()
		restart(t, r.d, r.p)
		// The sends resume once the new process has taken the instance
		// over (its lease): the next kill waits for their progress.
		t.Logf("kill %d: the server answers again %s later", i+1, time.Since(killed).Round(100*time.Millisecond))
	}
}
