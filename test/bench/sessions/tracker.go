package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/wagate/wagate/ports"
)

// tracker follows the events of a manager's instances: their first QR
// code, their device JID once connected, and how many are connected now.
type tracker struct {
	want  int
	allUp chan struct{} // closed the first time want instances are connected

	mu        sync.Mutex
	instances map[ports.InstanceID]*watch
	connected int
}

// watch is one instance's state; qr and up hold at most one value each, so
// that OnEvent never blocks.
type watch struct {
	qr        chan string // the first QR code's content
	up        chan string // the device JID, the first time it connects
	connected bool
	seenUp    bool
	last      string // the latest status and reason, for error messages
}

func newTracker(want int) *tracker {
	return &tracker{want: want, allUp: make(chan struct{}), instances: map[ports.InstanceID]*watch{}}
}

// watch returns id's state, creating it on first use.
func (t *tracker) watch(id ports.InstanceID) *watch {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.watchLocked(id)
}

func (t *tracker) watchLocked(id ports.InstanceID) *watch {
	w, ok := t.instances[id]
	if !ok {
		w = &watch{qr: make(chan string, 1), up: make(chan string, 1), last: "none"}
		t.instances[id] = w
	}
	return w
}

// add is the manager's OnEvent.
func (t *tracker) add(ev ports.WAEvent) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	w := t.watchLocked(ev.Instance)
	switch ev.Kind {
	case ports.WAQR:
		if ev.QR.Attempt == 1 {
			offer(w.qr, ev.QR.Code)
		}
	case ports.WAStatus:
		t.status(w, ev.Status)
	}
	return nil
}

// status counts the instances connected now. Caller holds mu.
func (t *tracker) status(w *watch, st *ports.WAStatusChange) {
	w.last = fmt.Sprintf("%s/%s", st.Status, st.Reason)
	up := st.Status == ports.StatusConnected
	switch {
	case up && !w.connected:
		t.connected++
	case !up && w.connected:
		t.connected--
	}
	w.connected = up
	if up && !w.seenUp {
		w.seenUp = true
		offer(w.up, st.JID)
	}
	if t.connected == t.want && up {
		select {
		case <-t.allUp:
		default:
			close(t.allUp)
		}
	}
}

func offer(ch chan string, v string) {
	select {
	case ch <- v:
	default:
	}
}

func (t *tracker) last(id ports.InstanceID) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.watchLocked(id).last
}

// waitAll waits until all instances are connected at once.
func (t *tracker) waitAll(ctx context.Context, timeout time.Duration) error {
	select {
	case <-t.allUp:
		return nil
	case <-time.After(timeout):
		t.mu.Lock()
		defer t.mu.Unlock()
		return fmt.Errorf("%d of %d instances connected after %v", t.connected, t.want, timeout)
	case <-ctx.Done():
		return ctx.Err()
	}
}
