package messaging

import (
	"context"
	"testing"
	"time"

	"github.com/wagate/wagate/ports"
)

const inst = ports.InstanceID("inst-1")

// A message needs a send job unless a run drains its instance or a job of
// the instance enqueued here has not started; that job's start, its
// failed enqueue, queuedFor passing or an instance this node does not own
// make the next message need one again.
func TestNeedsJob(t *testing.T) {
	p := newPacer(0, 0)
	if !p.needsJob(inst, true) {
		t.Fatal("the first message of an idle instance: no job, want one")
	}
	if p.needsJob(inst, true) {
		t.Error("a message behind a job not yet started: a job, want none")
	}
	if !p.needsJob(inst, false) {
		t.Error("a message of an instance another node owns: no job, want one")
	}
	p.joinDraining(inst) // the job starts
	if !p.needsJob(inst, true) {
		t.Error("a message after the job started: no job, want one")
	}
	p.unqueued(inst) // its enqueue failed
	if !p.needsJob(inst, true) {
		t.Error("a message after a failed enqueue: no job, want one")
	}
	p.queued[inst] = time.Now().Add(-queuedFor) // it never started here
	if !p.needsJob(inst, true) {
		t.Errorf("a message %v after a job that did not start: no job, want one", queuedFor)
	}
	s, err := p.join(inst)
	if err != nil || s == nil {
		t.Fatalf("join: %v, %v", s, err)
	}
	if p.needsJob(inst, true) || !s.more {
		t.Error("a message while a run drains: a job, or the run not told to look again")
	}
}

// A run that lingers keeps the turn until a send job of its instance
// comes, then looks again; with none it gives the turn back.
func TestLingerWaitsForTheNextMessage(t *testing.T) {
	p := newPacer(0, 0)
	s, _ := p.join(inst)
	done := make(chan bool, 1)
	go func() { done <- s.done(context.Background(), time.Hour) }()
	time.Sleep(10 * time.Millisecond) // the run lingers (should it not yet, it finds more set)
	if p.needsJob(inst, true) {
		t.Error("a message while the run lingers: a job, want none")
	}
	if <-done {
		t.Fatal("the run gave the turn back, want it to look again")
	}
	if s.done(context.Background(), time.Millisecond) != true {
		t.Error("with nothing more: the turn kept, want it given back")
	}
	if !p.needsJob(inst, true) {
		t.Error("after the turn was given back: no job, want one")
	}
}

// A job that came while the run was sending is looked for at once, not
// waited for; a stale wake-up does not cut the next linger short.
func TestLingerAfterAJobThatCame(t *testing.T) {
	p := newPacer(0, 0)
	s, _ := p.join(inst)
	p.joinDraining(inst) // while the run sends
	if s.done(context.Background(), time.Hour) {
		t.Fatal("with a job that came: the turn given back, want a look again")
	}
	began := time.Now()
	if !s.done(context.Background(), 20*time.Millisecond) {
		t.Fatal("with nothing more: the turn kept")
	}
	if d := time.Since(began); d < 20*time.Millisecond {
		t.Errorf("the linger ended after %v, want 20ms (a stale wake-up cut it short)", d)
	}
}
