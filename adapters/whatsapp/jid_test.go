package whatsapp_test

import (
	"context"
	"testing"
	"time"

	"github.com/wagate/wagate/ports"
)

// whatsmeow writes the device JID (Store.ID) on its own goroutines when it
// pairs and when it logs out. The adapter keeps its own copy, so API calls
// that look at the JID meanwhile are not a data race (run with -race).
func TestJIDReadWhilePairingAndLoggingOut(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
			// Compares with the instance's own JID first, then rejects it.
			if err := e.m.RemoveDevice(ctx, "inst1", "not-a-jid"); ports.ErrorCodeOf(err) != ports.EInvalid {
				t.Errorf("RemoveDevice with a bad JID: got %v, want EInvalid", err)
			}
		}
	}()
	jid := e.link("inst1", ownPhone)
	if err := e.m.Logout(ctx, "inst1"); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	e.events.next(t, "inst1", isStatus(ports.StatusLoggedOut, "manual"))
	close(stop)
	<-done
	// The credentials are gone: removing the device again has nothing to do.
	if err := e.m.RemoveDevice(ctx, "inst1", jid); err != nil {
		t.Errorf("RemoveDevice after Logout: got %v, want nil", err)
	}
}
