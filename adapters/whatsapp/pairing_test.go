package whatsapp_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/wagate/wagate/adapters/entstore"
	"github.com/wagate/wagate/adapters/whatsapp"
	"github.com/wagate/wagate/ports"
	"github.com/wagate/wagate/test/testdb"
)

func TestQRPairingThenConnected(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// With the simulator's HTTP client the proxy is not used.
	if err := e.m.Connect(ctx, "inst1", ports.ConnectOptions{ProxyURL: "socks5://127.0.0.1:1"}); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	e.events.next(t, "inst1", isStatus(ports.StatusConnecting, ""))
	e.events.next(t, "inst1", isStatus(ports.StatusQR, ""))
	qr := e.events.next(t, "inst1", isKind(ports.WAQR))
	if qr.QR.Attempt != 1 {
		t.Errorf("got attempt %d, want 1", qr.QR.Attempt)
	}
	if life := qr.QR.ExpiresAt.Sub(qr.At); life < 59*time.Second || life > 61*time.Second {
		t.Errorf("got a first QR code living %v, want 60s", life)
	}
	if err := e.sim.ScanQR(ctx, qr.QR.Code, "15550001111"); err != nil {
		t.Fatalf("ScanQR: %v", err)
	}
	ev := e.events.next(t, "inst1", isStatus(ports.StatusConnected, ""))
	st := ev.Status
	if !strings.HasPrefix(st.JID, "15550001111:") || !strings.HasSuffix(st.JID, "@s.whatsapp.net") {
		t.Errorf("got JID %q, want 15550001111:N@s.whatsapp.net", st.JID)
	}
	if st.PhoneNumber != "15550001111" {
		t.Errorf("got phone number %q, want 15550001111", st.PhoneNumber)
	}
	if !e.m.Connected("inst1") {
		t.Error("got Connected false after the connected event, want true")
	}
	// Connecting a connected instance changes nothing.
	if err := e.m.Connect(ctx, "inst1", ports.ConnectOptions{JID: st.JID}); err != nil {
		t.Errorf("second Connect: got %v, want nil", err)
	}
}

func TestLoginWithStoredCredentialsAfterRestart(t *testing.T) {
	e := newEnv(t)
	loginAfterRestart(t, e)
}

func TestLoginWithStoredCredentialsAfterRestartPostgres(t *testing.T) {
	url := testdb.Postgres(t)
	e := newEnv(t) // the simulator; its SQLite manager stays unused
	e2 := newEnvOn(t, e.sim, entstore.Options{URL: url})
	loginAfterRestart(t, e2)
}

// loginAfterRestart links a device, restarts the manager on the same
// database and connects with the JID: no QR code this time.
func loginAfterRestart(t *testing.T, e *env) {
	jid := e.link("inst1", "15550002222")
	e.restart()
	if err := e.m.Connect(context.Background(), "inst1", ports.ConnectOptions{JID: jid}); err != nil {
		t.Fatalf("Connect after restart: %v", err)
	}
	ev := e.events.next(t, "inst1", isStatus(ports.StatusConnected, ""))
	if ev.Status.JID != jid {
		t.Errorf("got JID %q, want %q", ev.Status.JID, jid)
	}
	for _, ev := range e.events.all("inst1") {
		if ev.Kind == ports.WAQR || (ev.Kind == ports.WAStatus && ev.Status.Status == ports.StatusQR) {
			t.Errorf("got %s on a stored-credential login, want no QR", describe(ev))
		}
	}
}

func TestThreeQRCodesThenTimeout(t *testing.T) {
	e := newEnv(t, func(o *whatsapp.Options) {
		o.QRFirstTimeout = 300 * time.Millisecond
		o.QRTimeout = 200 * time.Millisecond
	})
	if err := e.m.Connect(context.Background(), "inst1", ports.ConnectOptions{}); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	e.events.next(t, "inst1", isStatus(ports.StatusDisconnected, "qr_timeout"))
	var codes []string
	for _, ev := range e.events.all("inst1") {
		if ev.Kind == ports.WAQR {
			if ev.QR.Attempt != len(codes)+1 {
				t.Errorf("got attempt %d, want %d", ev.QR.Attempt, len(codes)+1)
			}
			codes = append(codes, ev.QR.Code)
		}
	}
	if len(codes) != 3 {
		t.Fatalf("got %d QR codes, want 3", len(codes))
	}
	if codes[0] == codes[1] || codes[1] == codes[2] {
		t.Errorf("got repeated QR codes %q, want distinct ones", codes)
	}
	// No loop: nothing more after the timeout.
	time.Sleep(500 * time.Millisecond)
	if got := e.events.all("inst1"); !isStatus(ports.StatusDisconnected, "qr_timeout")(got[len(got)-1]) {
		t.Errorf("got %s after the QR timeout, want nothing", describe(got[len(got)-1]))
	}
	if _, err := e.m.PairCode(context.Background(), "inst1", "15550003333"); ports.ErrorCodeOf(err) != ports.EConflict {
		t.Errorf("PairCode after the timeout: got %v, want EConflict", err)
	}
}

func TestPairCode(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.m.PairCode(ctx, "inst1", "15550004444"); ports.ErrorCodeOf(err) != ports.EConflict {
		t.Errorf("PairCode before Connect: got %v, want EConflict", err)
	}
	if err := e.m.Connect(ctx, "inst1", ports.ConnectOptions{}); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	e.events.next(t, "inst1", isKind(ports.WAQR))
	if _, err := e.m.PairCode(ctx, "inst1", "12ab"); ports.ErrorCodeOf(err) != ports.EInvalid {
		t.Errorf("PairCode with a bad number: got %v, want EInvalid", err)
	}
	code, err := e.m.PairCode(ctx, "inst1", "+1 555 000 4444")
	if err != nil {
		t.Fatalf("PairCode: %v", err)
	}
	if err := e.sim.EnterPairCode(ctx, "15550004444", code); err != nil {
		t.Fatalf("EnterPairCode: %v", err)
	}
	ev := e.events.next(t, "inst1", isStatus(ports.StatusConnected, ""))
	if ev.Status.PhoneNumber != "15550004444" {
		t.Errorf("got phone number %q, want 15550004444", ev.Status.PhoneNumber)
	}
}

func TestConnectRejectsBadProxy(t *testing.T) {
	e := newEnv(t)
	err := e.m.Connect(context.Background(), "inst1", ports.ConnectOptions{ProxyURL: "ftp://proxy:21"})
	if ports.ErrorCodeOf(err) != ports.EInvalid {
		t.Errorf("got %v, want EInvalid", err)
	}
}

func TestConnectWithDeletedDeviceIsLoggedOut(t *testing.T) {
	e := newEnv(t)
	err := e.m.Connect(context.Background(), "inst1", ports.ConnectOptions{JID: "15550005555:3@s.whatsapp.net"})
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	e.events.next(t, "inst1", isStatus(ports.StatusLoggedOut, "unlinked"))
}

// Handlers find the tenant on the event itself: every event of a
// connection carries the subscription its Connect named.
func TestEventsCarryTheSubscription(t *testing.T) {
	e := newEnv(t)
	if err := e.m.Connect(context.Background(), "inst1", ports.ConnectOptions{Subscription: "sub-1"}); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	e.events.next(t, "inst1", isKind(ports.WAQR))
	for _, ev := range e.events.all("inst1") {
		if ev.Subscription != "sub-1" {
			t.Errorf("%s: got subscription %q, want sub-1", describe(ev), ev.Subscription)
		}
	}
}
