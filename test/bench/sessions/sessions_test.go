package main

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wagate/wagate/ports"
)

func TestVmRSS(t *testing.T) {
	rss, err := vmRSS()
	if err != nil {
		t.Skipf("no /proc/self/status here: %v", err)
	}
	if rss < 1<<20 {
		t.Errorf("got RSS %d bytes, want at least 1 MiB for a Go test binary", rss)
	}
}

func status(id ports.InstanceID, st ports.InstanceStatus, jid string) ports.WAEvent {
	return ports.WAEvent{Instance: id, Kind: ports.WAStatus, Status: &ports.WAStatusChange{Status: st, JID: jid}}
}

func TestTrackerWaitsForAllConnectedAtOnce(t *testing.T) {
	tr := newTracker(2)
	a, b := ports.InstanceID("a"), ports.InstanceID("b")
	tr.add(ports.WAEvent{Instance: a, Kind: ports.WAQR, QR: &ports.WAQRCode{Code: "qr-1", Attempt: 1}})
	tr.add(ports.WAEvent{Instance: a, Kind: ports.WAQR, QR: &ports.WAQRCode{Code: "qr-2", Attempt: 2}})
	if got := <-tr.watch(a).qr; got != "qr-1" {
		t.Errorf("got QR %q, want qr-1 (the first attempt)", got)
	}
	tr.add(status(a, ports.StatusConnected, "1@s"))
	tr.add(status(a, ports.StatusConnecting, ""))
	tr.add(status(b, ports.StatusConnected, "2@s"))
	if err := tr.waitAll(context.Background(), 10*time.Millisecond); err == nil {
		t.Fatal("got all connected, want 1 of 2: a dropped before b connected")
	}
	tr.add(status(a, ports.StatusConnected, "1@s"))
	if err := tr.waitAll(context.Background(), time.Second); err != nil {
		t.Fatalf("got %v, want all connected", err)
	}
	if got := <-tr.watch(b).up; got != "2@s" {
		t.Errorf("got JID %q, want 2@s", got)
	}
}

func TestInParallelBoundsAndStopsOnError(t *testing.T) {
	var inFlight, peak, calls atomic.Int32
	boom := errors.New("boom")
	err := inParallel(3, 100, func(i int) error {
		calls.Add(1)
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(time.Millisecond)
		if i == 10 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) {
		t.Errorf("got error %v, want %v", err, boom)
	}
	if p := peak.Load(); p > 3 {
		t.Errorf("got %d calls in flight, want at most 3", p)
	}
	if c := calls.Load(); c == 100 {
		t.Errorf("got %d calls, want fewer than 100 after an error", c)
	}
}
