package whatsapp_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	wa "go.mau.fi/whatsmeow"

	"github.com/wagate/wagate/adapters/entstore"
	"github.com/wagate/wagate/adapters/wasim"
	"github.com/wagate/wagate/adapters/whatsapp"
	"github.com/wagate/wagate/ports"
)

// TestMain sets whatsmeow's process-global knobs once: the simulator's
// root certificate and keepalives fast enough for the watchdog test.
func TestMain(m *testing.M) {
	wasim.InstallCert()
	wa.KeepAliveIntervalMin = 150 * time.Millisecond
	wa.KeepAliveIntervalMax = 250 * time.Millisecond
	wa.KeepAliveResponseDeadline = 300 * time.Millisecond
	os.Exit(m.Run())
}

// waitFor bounds every wait on an event: long enough for a loaded CI
// machine, short enough to fail fast.
const waitFor = 15 * time.Second

// env is a simulator, a database and a manager on them.
type env struct {
	t      *testing.T
	sim    *wasim.Server
	db     *entstore.Store
	opt    whatsapp.Options
	m      *whatsapp.Manager
	events *recorder
}

type envOption func(*whatsapp.Options)

// newEnv starts a simulator and a manager on a fresh SQLite database.
func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	sim := wasim.New(wasim.Options{})
	if err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatalf("start simulator: %v", err)
	}
	t.Cleanup(func() { sim.Close() })
	return newEnvOn(t, sim, entstore.Options{DataDir: t.TempDir()}, opts...)
}

// newEnvOn opens the database of dbOpt and a manager on it, talking to sim.
func newEnvOn(t *testing.T, sim *wasim.Server, dbOpt entstore.Options, opts ...envOption) *env {
	t.Helper()
	ctx := context.Background()
	db, err := entstore.Open(ctx, dbOpt)
	if err != nil {
		t.Fatalf("open database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	e := &env{t: t, sim: sim, db: db}
	e.opt = whatsapp.Options{
		DB:         db.DeviceDB(),
		Dialect:    db.Dialect(),
		HTTPClient: sim.HTTPClient(),
		Watchdog:   time.Second,
	}
	for _, o := range opts {
		o(&e.opt)
	}
	e.start()
	return e
}

// start opens a manager (again: a restart) with a fresh event recorder.
func (e *env) start() {
	e.t.Helper()
	e.events = newRecorder()
	opt := e.opt
	opt.OnEvent = e.events.add
	m, err := whatsapp.New(context.Background(), opt)
	if err != nil {
		e.t.Fatalf("New: %v", err)
	}
	e.m = m
	e.t.Cleanup(func() { m.Close() })
}

// restart closes the manager and opens a new one on the same database.
func (e *env) restart() {
	e.t.Helper()
	if err := e.m.Close(); err != nil {
		e.t.Fatalf("Close: %v", err)
	}
	e.start()
}

// link connects instance id as a new device and scans its first QR code
// with phone; it returns the device JID once connected.
func (e *env) link(id ports.InstanceID, phone string) string {
	e.t.Helper()
	ctx := context.Background()
	if err := e.m.Connect(ctx, id, ports.ConnectOptions{}); err != nil {
		e.t.Fatalf("Connect: %v", err)
	}
	qr := e.events.next(e.t, id, isKind(ports.WAQR))
	if err := e.sim.ScanQR(ctx, qr.QR.Code, phone); err != nil {
		e.t.Fatalf("ScanQR: %v", err)
	}
	ev := e.events.next(e.t, id, isStatus(ports.StatusConnected, ""))
	return ev.Status.JID
}

// recorder keeps every event and lets tests wait for the next matching one.
type recorder struct {
	mu     sync.Mutex
	events []ports.WAEvent
	seen   map[ports.InstanceID]int // per instance: how many were consumed
	wake   chan struct{}
	hold   chan struct{} // if set, add returns for a message once it is closed
	fail   int           // add fails this many message events (not stored)
}

func newRecorder() *recorder {
	return &recorder{seen: map[ports.InstanceID]int{}, wake: make(chan struct{}, 1)}
}

func (r *recorder) add(ev ports.WAEvent) error {
	r.mu.Lock()
	r.events = append(r.events, ev)
	hold := r.hold
	fail := r.fail > 0 && ev.Kind == ports.WAMessage
	if fail {
		r.fail--
	}
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
	if hold != nil && ev.Kind == ports.WAMessage {
		<-hold // a slow handler: storing the message takes until hold closes
	}
	if fail {
		return ports.Errorf(ports.EUnavailable, "the database is down (test)")
	}
	return nil
}

// failMessages makes add fail the next n message events.
func (r *recorder) failMessages(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail = n
}

// holdMessages makes add block on message events until release is closed.
func (r *recorder) holdMessages(release chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hold = release
}

// next consumes id's events up to and including the first that matches;
// it fails the test after waitFor.
func (r *recorder) next(t *testing.T, id ports.InstanceID, match func(ports.WAEvent) bool) ports.WAEvent {
	t.Helper()
	deadline := time.After(waitFor)
	for {
		if ev, ok := r.scan(id, match); ok {
			return ev
		}
		select {
		case <-r.wake:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("instance %s: no matching event within %v; got %s", id, waitFor, r.dump(id))
		}
	}
}

func (r *recorder) scan(id ports.InstanceID, match func(ports.WAEvent) bool) (ports.WAEvent, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, ev := range r.events {
		if ev.Instance != id {
			continue
		}
		n++
		if n <= r.seen[id] {
			continue
		}
		r.seen[id] = n
		if match(ev) {
			return ev, true
		}
	}
	return ports.WAEvent{}, false
}

// all returns id's events so far, consumed or not.
func (r *recorder) all(id ports.InstanceID) []ports.WAEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []ports.WAEvent
	for _, ev := range r.events {
		if ev.Instance == id {
			out = append(out, ev)
		}
	}
	return out
}

func (r *recorder) dump(id ports.InstanceID) string {
	s := ""
	for _, ev := range r.all(id) {
		s += "\n\t" + describe(ev)
	}
	return s
}

func describe(ev ports.WAEvent) string {
	switch ev.Kind {
	case ports.WAStatus:
		return fmt.Sprintf("status %s/%s degraded=%v jid=%s", ev.Status.Status, ev.Status.Reason, ev.Status.Degraded, ev.Status.JID)
	case ports.WAQR:
		return fmt.Sprintf("qr attempt %d", ev.QR.Attempt)
	case ports.WAMessage:
		return fmt.Sprintf("message %s from %s: %q", ev.Message.WAMessageID, ev.Message.From, ev.Message.Text)
	case ports.WAReceipt:
		return fmt.Sprintf("receipt %s %v", ev.Receipt.Type, ev.Receipt.WAMessageID)
	}
	return string(ev.Kind)
}

func isKind(k ports.WAEventKind) func(ports.WAEvent) bool {
	return func(ev ports.WAEvent) bool { return ev.Kind == k }
}

// isStatus matches a status (and its reason, unless reason is "*").
func isStatus(st ports.InstanceStatus, reason string) func(ports.WAEvent) bool {
	return func(ev ports.WAEvent) bool {
		return ev.Kind == ports.WAStatus && ev.Status.Status == st && (reason == "*" || ev.Status.Reason == reason)
	}
}

// waitReceipt waits until the client has acknowledged an inbound message:
// whatsmeow sends that receipt after handing us the event, and closing the
// client while it is being written is a data race inside whatsmeow.
func (e *env) waitReceipt(t *testing.T, msgID string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.sim.WaitReceipt(ctx, msgID); err != nil {
		t.Fatal(err)
	}
}
