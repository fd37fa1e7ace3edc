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

// TestDrainDefersNoJob: 100 messages of one instance, a job each (as the
// relay enqueues a backlog), run by 8 workers at once, half taking the
// oldest job and half the newest, with pacing off: every message goes out
// once, in the order accepted, and no job run is deferred (before, each
// job that found the instance busy came back after 500 ms, some 25 times
// a message).
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
		e.requeue(m.ID)
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

// A send job of an instance whose queue a run of this process drains
// tells the run to look again without reading anything; its message
// goes out in the run, after the one on the wire.
func TestJobOfADrainedInstanceReadsNothing(t *testing.T) {
	e := newEnv(t, ports.StatusConnected)
	onWire, release := make(chan struct{}), make(chan struct{})
	var first sync.Once
	e.wa.SendFunc = func(out ports.WAOutbound) (ports.WASent, error) {
		first.Do(func() { close(onWire); <-release })
		return echo(out)
	}
	a, b := e.send(t, "+15550000001"), e.send(t, "+15550000002")
	// The run's look-ahead reads the store meanwhile, but never a message
	// by id: GetMessage calls are the second job's.
	var armed atomic.Bool
	var reads atomic.Int64
	e.store.Hook = func(method string) error {
		if armed.Load() && method == "GetMessage" {
			reads.Add(1)
		}
		return nil
	}
	ran := make(chan error, 1)
	go func() { ran <- e.run(t, a.ID) }()
	<-onWire
	armed.Store(true)
	e.requeue(b.ID) // b counted on a's job; the relay enqueues one all the same
	if err := e.run(t, b.ID); err != nil {
		t.Fatalf("the second job: %v", err)
	}
	armed.Store(false)
	if n := reads.Load(); n != 0 {
		t.Errorf("the second job read its message %d times, want none", n)
	}
	close(release)
	if err := <-ran; err != nil {
		t.Fatalf("the draining job: %v", err)
	}
	if d := cmp.Diff([]string{"15550000001", "15550000002"}, sentTo(e.wa)); d != "" {
		t.Errorf("sends (-want +got):\n%s", d)
	}
	if got := e.get(t, b.ID); got.Status != ports.MsgSent {
		t.Errorf("the second message: %s, want sent", got.Status)
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

// TestAcceptWhileDrainingNeedsNoJob: a message accepted while a run of
// this process drains its instance gets no job: the run is told to look
// again and sends it after the ones before, so the queue does not carry
// (and run) one job a message at a high accept rate.
func TestAcceptWhileDrainingNeedsNoJob(t *testing.T) {
	e := newEnv(t, ports.StatusConnected)
	a := e.send(t, "+15550000001")
	var b ports.Message
	jobs := -1
	e.wa.SendFunc = func(out ports.WAOutbound) (ports.WASent, error) {
		if strings.HasPrefix(out.To, "15550000001") {
			b = e.send(t, "+15550000002") // while the run holds the turn
			jobs = e.queue.Len()
		}
		return echo(out)
	}
	if err := e.run(t, a.ID); err != nil {
		t.Fatal(err)
	}
	if jobs != 0 {
		t.Errorf("jobs after the accept during the drain: %d, want none", jobs)
	}
	if got := e.get(t, b.ID); got.Status != ports.MsgSent || got.Attempts != 1 {
		t.Errorf("b: got %s after %d attempts, want sent by the run after 1", got.Status, got.Attempts)
	}
	if diff := cmp.Diff([]string{"15550000001", "15550000002"}, sentTo(e.wa)); diff != "" {
		t.Errorf("sends (-want +got):\n%s", diff)
	}
	// Once the run gave the turn back, an accept gets its job again.
	c := e.send(t, "+15550000003")
	if _, ok := e.queue.Job(string(c.ID)); !ok {
		t.Errorf("a message accepted with no run: no job")
	}
}

// A burst of messages to an idle instance makes one send job: the later
// messages count on the first one's job, whose run finds them all. A
// message accepted once that job has started and its run has given the
// turn back gets a job of its own again.
func TestABurstMakesOneJob(t *testing.T) {
	e := newEnv(t, ports.StatusConnected)
	var burst []ports.Message
	for i := range 5 {
		burst = append(burst, e.send(t, fmt.Sprintf("+155500000%02d", i)))
	}
	if n := e.queue.Len(); n != 1 {
		t.Fatalf("jobs after a burst of 5: %d, want 1", n)
	}
	if err := e.run(t, burst[0].ID); err != nil {
		t.Fatal(err)
	}
	for _, m := range burst {
		if got := e.get(t, m.ID); got.Status != ports.MsgSent || got.Attempts != 1 {
			t.Errorf("%s: got %s after %d attempts, want sent after 1", m.To, got.Status, got.Attempts)
		}
	}
	later := e.send(t, "+15550000099")
	if _, ok := e.queue.Job(string(later.ID)); !ok {
		t.Errorf("a message accepted after the burst's job ran: no job")
	}
}

// A message whose job's own message is gone still gets sent: the job
// drains its instance, since other messages counted on it.
func TestJobOfADeletedMessageStillDrains(t *testing.T) {
	e := newEnv(t, ports.StatusConnected)
	a, b := e.send(t, "+15550000001"), e.send(t, "+15550000002")
	// a's row goes (as an erasure would) while its job waits.
	e.store.DeleteMessageRow(a.ID)
	if err := e.run(t, a.ID); err != nil {
		t.Fatal(err)
	}
	if got := e.get(t, b.ID); got.Status != ports.MsgSent {
		t.Errorf("the message that counted on the job: %s, want sent", got.Status)
	}
}
