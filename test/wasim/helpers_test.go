package wasim_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/store/sqlstore"
	"go.mau.fi/whatsmeow/types/events"

	_ "modernc.org/sqlite"

	"github.com/wagate/wagate/adapters/wasim"
)

// waitTimeout bounds every wait for an event.
const waitTimeout = 15 * time.Second

func newSim(t *testing.T, opt wasim.Options) *wasim.Server {
	t.Helper()
	s := wasim.New(opt)
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatalf("start simulator: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func newContainer(t *testing.T) *sqlstore.Container {
	t.Helper()
	// _txlock=immediate as the server opens SQLite: the decryption buffer
	// (EnableDecryptedEventBuffer) writes inside a transaction.
	dsn := "file:" + filepath.Join(t.TempDir(), "wm.db") +
		"?_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate"
	c, err := sqlstore.New(t.Context(), "sqlite", dsn, nil)
	if err != nil {
		t.Fatalf("open sqlstore: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// client is a raw whatsmeow client wired to the simulator, with its events
// on a channel.
type client struct {
	*whatsmeow.Client
	events chan any
	sim    *wasim.Server
	// loggedOut is set, before the event is queued for the test, when
	// whatsmeow reports LoggedOut; it then deletes the device on its own
	// goroutine, so Store.ID must no longer be read.
	loggedOut atomic.Bool
}

func newClient(t *testing.T, sim *wasim.Server, dev *store.Device) *client {
	t.Helper()
	cli := whatsmeow.NewClient(dev, nil)
	hc := sim.HTTPClient()
	cli.SetWebsocketHTTPClient(hc)
	cli.SetPreLoginHTTPClient(hc)
	cli.SetMediaHTTPClient(hc)
	cli.EnableAutoReconnect = true // set before Connect: whatsmeow reads it unsynchronised
	// Receipts and acks are then sent by the handler goroutine, which also
	// dispatches events: see quiesce.
	cli.SynchronousAck = true
	// As the adapter does: a message resent after a crash is handled from
	// the buffered plaintext instead of failing to decrypt.
	cli.EnableDecryptedEventBuffer = true
	c := &client{Client: cli, events: make(chan any, 256), sim: sim}
	cli.AddEventHandler(func(evt any) {
		if _, ok := evt.(*events.LoggedOut); ok {
			c.loggedOut.Store(true)
		}
		select {
		case c.events <- evt:
		default:
		}
	})
	t.Cleanup(func() { c.quiesce(t); cli.Disconnect() })
	return c
}

// quiesce waits until the client has handled everything the simulator sent
// it. whatsmeow's FrameSocket reads its conn field without a lock while
// Disconnect clears it, so a receipt still being sent when Disconnect runs
// is a data race inside whatsmeow; the barrier event orders those sends
// before the test goroutine under the race detector.
func (c *client) quiesce(t *testing.T) {
	if c.loggedOut.Load() || c.Store.ID == nil || !c.IsLoggedIn() || c.sim.Barrier(c.Store.ID.String()) != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	for {
		select {
		case evt := <-c.events:
			if o, ok := evt.(*events.OfflineSyncCompleted); ok && o.Count == 0 {
				return
			}
		case <-ctx.Done():
			t.Errorf("got no barrier event within %s, want one", waitTimeout)
			return
		}
	}
}

// waitEvent returns the next event of type T, skipping others.
func waitEvent[T any](t *testing.T, c *client) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	for {
		select {
		case evt := <-c.events:
			if v, ok := evt.(T); ok {
				return v
			}
		case <-ctx.Done():
			var zero T
			t.Fatalf("got no %T within %s, want one", zero, waitTimeout)
			return zero
		}
	}
}

// pairQR links a fresh device of the container to phone by QR and waits
// until it is connected.
func pairQR(t *testing.T, sim *wasim.Server, container *sqlstore.Container, phone string) *client {
	t.Helper()
	c := newClient(t, sim, container.NewDevice())
	if err := c.Connect(); err != nil {
		t.Fatalf("connect: %v", err)
	}
	qr := waitEvent[*events.QR](t, c)
	if len(qr.Codes) == 0 {
		t.Fatalf("got 0 QR codes, want some")
	}
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	if err := sim.ScanQR(ctx, qr.Codes[0], phone); err != nil {
		t.Fatalf("scan QR: %v", err)
	}
	waitEvent[*events.PairSuccess](t, c)
	waitEvent[*events.Connected](t, c)
	return c
}

func ctxTimeout(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	t.Cleanup(cancel)
	return ctx
}

func jidOf(phone string, device int) string {
	return fmt.Sprintf("%s:%d@s.whatsapp.net", phone, device)
}

// stop disconnects the client once it is quiet (see quiesce).
func (c *client) stop(t *testing.T) {
	c.quiesce(t)
	c.Disconnect()
}
