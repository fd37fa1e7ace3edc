package whatsapp_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wagate/wagate/adapters/whatsapp"
	"github.com/wagate/wagate/ports"
)

// A pairing and a message each way at debug level: the libraries' logs
// keep neither the phone numbers nor the keys of the QR code (the
// device's identity and noise keys, the pairing secret). SPEC §11.
func TestDebugLogsHoldNoNumbersOrKeys(t *testing.T) {
	// A file, not a buffer: whatsmeow's goroutines may still be writing
	// when the test reads it.
	out, err := os.Create(filepath.Join(t.TempDir(), "log.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	log := slog.New(slog.NewJSONHandler(out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := newEnv(t, func(o *whatsapp.Options) { o.Log = log })
	ctx := context.Background()
	if err := e.m.Connect(ctx, "inst1", ports.ConnectOptions{}); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	qr := e.events.next(t, "inst1", isKind(ports.WAQR)).QR.Code
	if err := e.sim.ScanQR(ctx, qr, ownPhone); err != nil {
		t.Fatalf("ScanQR: %v", err)
	}
	e.events.next(t, "inst1", isStatus(ports.StatusConnected, ""))
	exchangeMessages(t, e)

	raw, err := os.ReadFile(out.Name())
	if err != nil {
		t.Fatal(err)
	}
	logs := string(raw)
	for _, secret := range append(qrKeys(t, qr), ownPhone, contactPhone) {
		if strings.Contains(logs, secret) {
			t.Errorf("got %q in the logs, want it masked:\n%s", secret, lineWith(logs, secret))
		}
	}
	// The libraries did log, at debug and about the numbers.
	for _, want := range []string{`"level":"DEBUG"`, "Successfully paired 1555***"} {
		if !strings.Contains(logs, want) {
			t.Errorf("got no line with %q, want one", want)
		}
	}
}

// exchangeMessages sends a text to the contact and one back.
func exchangeMessages(t *testing.T, e *env) {
	t.Helper()
	contact := e.sim.Contact(contactPhone)
	if _, err := e.m.Send(context.Background(), "inst1", ports.WAOutbound{To: contactJID, Text: "hello"}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	received(t, contact)
	if err := contact.SendText(context.Background(), ownPhone, "hi"); err != nil {
		t.Fatalf("SendText: %v", err)
	}
	e.waitReceipt(t, e.events.next(t, "inst1", isKind(ports.WAMessage)).Message.WAMessageID)
}

// qrKeys returns the keys in a QR code (ref,noise,identity,secret), in
// base64 and in hex, the two ways the libraries print bytes.
func qrKeys(t *testing.T, qr string) []string {
	t.Helper()
	parts := strings.Split(qr, ",")
	if len(parts) != 4 {
		t.Fatalf("got QR code %q, want 4 fields", qr)
	}
	var keys []string
	for _, p := range parts[1:] {
		raw, err := base64.StdEncoding.DecodeString(p)
		if err != nil {
			t.Fatalf("QR field %q: %v", p, err)
		}
		keys = append(keys, p, hex.EncodeToString(raw))
	}
	return keys
}

func lineWith(logs, s string) string {
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}
