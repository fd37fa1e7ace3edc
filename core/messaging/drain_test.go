package messaging_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wagate/wagate/ports"
)

// TestDrainDefersNoJob: 100 messages of one instance, their jobs run by 8
// workers at once, half taking the oldest job and half the newest, with
// pacing off: every message goes out once, in the order accepted, and no
// job run is deferred (before, each job that found the instance busy came
// back after 500 ms, some 25 times a message).
func TestDrainDefersNoJob(t *testing.T) {
	e := newEnv(t, ports.StatusConnected)
	e.wa.SendFunc = func(out ports.WAOutbound) (ports.WASent, error) {
		time.Sleep(100 * time.Microsecond) // the wire
		return echo(out)
	}
	const n = 100
	var want []string
	var ids []ports.MessageID
	for i := range n {
		m := e.send(t, fmt.Sprintf("+1555%07d", i))
		want, ids = append(want, strings.TrimSuffix(m.To, "@s.whatsapp.net")), append(ids, m.ID)
	}
	var runs, deferred atomic.Int64
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for {
				take := e.queue.TakeOldest
				if w%2 == 1 {
					take = e.queue.TakeNewest
				}
				j, ok := take()
				if !ok {
					return
				}
				runs.Add(1)
				err := e.svc.HandleSend(context.Background(), ports.Delivery{Job: j, Attempt: 1})
				switch {
				case ports.IsCode(err, ports.ERateLimited):
					deferred.Add(1)
					e.queue.Put(j)
				case err != nil:
					t.Errorf("job %s: %v", j.ID, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if d := cmp.Diff(want, sentTo(e.wa)); d != "" {
		t.Errorf("sends (-want +got):\n%s", d)
	}
	for _, id := range ids {
		if got := e.get(t, id); got.Status != ports.MsgSent || got.Attempts != 1 {
			t.Fatalf("%s: got %s after %d attempts, want sent after 1", id, got.Status, got.Attempts)
		}
	}
	t.Logf("%d job runs for %d messages, %d deferred", runs.Load(), n, deferred.Load())
	if deferred.Load() != 0 || runs.Load() != n {
		t.Errorf("got %d job runs of which %d deferred, want %d runs and none deferred", runs.Load(), deferred.Load(), n)
	}
}

// A bulk's turn sends only its own messages: a send job that finds one
// holding the instance's turn is deferred, and runs once it is given back.
func TestSendJobWaitsForABulkTurn(t *testing.T) {
	e := newEnv(t, ports.StatusConnected)
	m := e.send(t, "+15550001111")
	turn, err := e.svc.TakeTurn(t.Context(), e.p.SubscriptionID, e.inst.ID, "bulk")
	if err != nil {
		t.Fatal(err)
	}
	err = e.svc.HandleSend(t.Context(), e.job(m.ID))
	if d := ports.RetryFor(err); !ports.IsCode(err, ports.ERateLimited) || d.CountsAsFailure || !d.Retry {
		t.Errorf("a send job during a bulk's turn: got %v, want rate limited (retried, no attempt used)", err)
	}
	if _, err := e.svc.TakeTurn(t.Context(), e.p.SubscriptionID, e.inst.ID, "bulk"); !ports.IsCode(err, ports.ERateLimited) {
		t.Errorf("a second turn: got %v, want rate limited", err)
	}
	turn.Release()
	if err := e.svc.HandleSend(t.Context(), e.job(m.ID)); err != nil {
		t.Fatal(err)
	}
	if got := e.get(t, m.ID); got.Status != ports.MsgSent {
		t.Errorf("got %s, want sent", got.Status)
	}
}
