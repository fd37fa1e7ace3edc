package httpgin

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wagate/wagate/ports"
)

// fakeWA is a hand-written WhatsApp adapter: it records calls, and the
// test plays its events through the sessions core.
type fakeWA struct {
	mu    sync.Mutex
	calls []string
}

var _ ports.WhatsApp = (*fakeWA)(nil)

func (f *fakeWA) record(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, s)
}

func (f *fakeWA) Connect(_ context.Context, id ports.InstanceID, _ ports.ConnectOptions) error {
	f.record("connect " + string(id))
	return nil
}

func (f *fakeWA) PairCode(_ context.Context, id ports.InstanceID, phone string) (string, error) {
	f.record("pair-code " + string(id) + " " + phone)
	return "ABCD-EFGH", nil
}

func (f *fakeWA) Disconnect(_ context.Context, id ports.InstanceID) error {
	f.record("disconnect " + string(id))
	return nil
}

func (f *fakeWA) Logout(_ context.Context, id ports.InstanceID) error {
	f.record("logout " + string(id))
	return nil
}

// CheckNumbers: numbers starting with 999 are not on WhatsApp, as on the
// sandbox network.
func (f *fakeWA) CheckNumbers(_ context.Context, id ports.InstanceID, phones []string) ([]ports.NumberCheck, error) {
	f.record("check " + string(id))
	out := make([]ports.NumberCheck, len(phones))
	for i, p := range phones {
		out[i] = ports.NumberCheck{PhoneNumber: p}
		if d := strings.TrimPrefix(p, "+"); !strings.HasPrefix(d, "999") {
			out[i].Exists, out[i].JID = true, d+"@s.whatsapp.net"
		}
	}
	return out, nil
}

func (f *fakeWA) Send(context.Context, ports.InstanceID, ports.WAOutbound) (ports.WASent, error) {
	return ports.WASent{}, ports.Errorf(ports.EUnsupported, "the fake does not send")
}

func (f *fakeWA) called(s string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.calls {
		if c == s {
			return true
		}
	}
	return false
}

// lifecycleEnv is a sandbox-mode engine over the sessions core with fakes
// for WhatsApp and the simulator.
type lifecycleEnv struct {
	*testEnv
	wa  *fakeWA
	sim *fakeSimulator
}

func newLifecycleEnv(t *testing.T) *lifecycleEnv {
	t.Helper()
	wa, sim := &fakeWA{}, &fakeSimulator{}
	e := newTestEnvWA(t, Options{Sandbox: sim}, ports.DefaultTiers(), wa)
	return &lifecycleEnv{testEnv: e, wa: wa, sim: sim}
}

// play hands the sessions core an adapter event, stamped with its
// instance's subscription as the adapter does.
func (e *lifecycleEnv) play(ev ports.WAEvent) {
	ev.At = time.Now()
	if inst, err := e.store.Directory().LookupInstance(context.Background(), ev.Instance); err == nil {
		ev.Subscription = inst.SubscriptionID
	}
	e.sessions.HandleEvent(ev)
}

func (e *lifecycleEnv) status(id string, st ports.InstanceStatus, phone string) {
	e.play(ports.WAEvent{Instance: ports.InstanceID(id), Kind: ports.WAStatus, Status: &ports.WAStatusChange{
		Status: st, PhoneNumber: phone, JID: strings.TrimPrefix(phone, "+") + ":1@s.whatsapp.net",
	}})
}

func TestConnectAndQR(t *testing.T) {
	e := newLifecycleEnv(t)
	access, _ := e.account("qr@example.com")
	inst := e.instanceOf(access, "one")
	base := "/api/v1/instances/" + inst.ID

	w := e.do(req{method: "POST", path: base + "/connect", token: access})
	if w.Code != http.StatusAccepted || !strings.Contains(w.Body.String(), `"status":"connecting"`) || !e.wa.called("connect "+inst.ID) {
		t.Fatalf("connect: got %d %s, want 202 connecting and the adapter asked", w.Code, w.Body)
	}
	wantProblem(t, e.do(req{method: "GET", path: base + "/qr", token: access}), http.StatusConflict, "not_awaiting_qr")
	wantProblem(t, e.do(req{method: "POST", path: "/api/v1/sandbox/instances/" + inst.ID + "/scan", token: access}), http.StatusConflict, "not_awaiting_qr")

	exp := time.Now().Add(time.Minute).UTC().Truncate(time.Second)
	e.status(inst.ID, ports.StatusQR, "")
	e.play(ports.WAEvent{Instance: ports.InstanceID(inst.ID), Kind: ports.WAQR, QR: &ports.WAQRCode{Code: "2@ref,noise,ident,adv", Attempt: 1, ExpiresAt: exp}})

	w = e.do(req{method: "GET", path: base + "/qr", token: access})
	var qr QRDTO
	decodeBody(t, w, &qr)
	png, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(qr.Image, "data:image/png;base64,"))
	if w.Code != 200 || qr.QR != "2@ref,noise,ident,adv" || qr.Attempt != 1 || !qr.ExpiresAt.Equal(exp) ||
		!strings.HasPrefix(qr.Image, "data:image/png;base64,") || err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("qr: got %d %s, want the code with a PNG data URI", w.Code, w.Body)
	}
	w = e.do(req{method: "GET", path: base + "/qr", token: access, header: map[string]string{"Accept": "image/png"}})
	if w.Code != 200 || w.Header().Get("Content-Type") != "image/png" || !bytes.Equal(w.Body.Bytes(), png) {
		t.Fatalf("qr as PNG: got %d %q, want 200 image/png with the same image", w.Code, w.Header().Get("Content-Type"))
	}

	w = e.do(req{method: "POST", path: base + "/pair-code", token: access, body: `{"phoneNumber":"+15551234567"}`})
	if w.Code != 200 || w.Body.String() != `{"code":"ABCD-EFGH"}` {
		t.Fatalf("pair-code: got %d %s, want 200 with the code", w.Code, w.Body)
	}
	wantProblem(t, e.do(req{method: "POST", path: base + "/pair-code", token: access, body: `{"phone":"1"}`}), 422, "validation_failed")

	other, _ := e.account("other@example.com")
	for _, p := range []string{"/connect", "/disconnect", "/logout"} {
		wantProblem(t, e.do(req{method: "POST", path: base + p, token: other}), http.StatusNotFound, "not_found")
	}
	wantProblem(t, e.do(req{method: "GET", path: base + "/qr", token: other}), http.StatusNotFound, "not_found")
	wantProblem(t, e.do(req{method: "POST", path: "/api/v1/sandbox/instances/" + inst.ID + "/scan", token: other}), http.StatusNotFound, "not_found")
}

func TestSandboxScanAndInbound(t *testing.T) {
	e := newLifecycleEnv(t)
	access, _ := e.account("sb@example.com")
	inst := e.instanceOf(access, "one")
	e.do(req{method: "POST", path: "/api/v1/instances/" + inst.ID + "/connect", token: access})
	e.status(inst.ID, ports.StatusQR, "")
	e.play(ports.WAEvent{Instance: ports.InstanceID(inst.ID), Kind: ports.WAQR, QR: &ports.WAQRCode{Code: "2@x", Attempt: 2, ExpiresAt: time.Now().Add(time.Minute)}})

	scan := "/api/v1/sandbox/instances/" + inst.ID + "/scan"
	w := e.do(req{method: "POST", path: scan, token: access})
	phone := sandboxPhone(ports.InstanceID(inst.ID))
	if w.Code != http.StatusAccepted || w.Body.String() != `{"phoneNumber":"`+phone+`"}` {
		t.Fatalf("scan: got %d %s, want 202 with %s", w.Code, w.Body, phone)
	}
	if len(e.sim.scans) != 1 || e.sim.scans[0] != (scanCall{"2@x", strings.TrimPrefix(phone, "+")}) {
		t.Fatalf("got scans %+v, want the current code scanned by %s", e.sim.scans, phone)
	}
	if again := sandboxPhone(ports.InstanceID(inst.ID)); again != phone || len(phone) != 12 {
		t.Fatalf("got phone %s then %s, want the same +1555 number of 11 digits", phone, again)
	}

	inbound := "/api/v1/sandbox/instances/" + inst.ID + "/inbound"
	wantProblem(t, e.do(req{method: "POST", path: inbound, token: access, body: `{"from":"+15550001111","text":"hi"}`}), http.StatusConflict, "instance_not_connected")
	e.status(inst.ID, ports.StatusConnected, phone)
	p := wantProblem(t, e.do(req{method: "POST", path: inbound, token: access, body: `{"from":"abc","text":""}`}), 422, "validation_failed")
	if len(p.Errors) != 2 {
		t.Fatalf("got errors %+v, want from and text", p.Errors)
	}
	w = e.do(req{method: "POST", path: inbound, token: access, body: `{"from":"+15550001111","text":"hi"}`})
	if w.Code != http.StatusAccepted || len(e.sim.texts) != 1 || e.sim.texts[0] != (textCall{"+15550001111", phone, "hi"}) {
		t.Fatalf("inbound: got %d %s and texts %+v, want 202 and the contact writing to %s", w.Code, w.Body, e.sim.texts, phone)
	}

	e.sim.fail = true
	e.status(inst.ID, ports.StatusQR, "")
	wantProblem(t, e.do(req{method: "POST", path: scan, token: access}), http.StatusConflict, "not_awaiting_qr")
}

func TestContactsCheck(t *testing.T) {
	e := newLifecycleEnv(t)
	access, _ := e.account("cc@example.com")
	inst := e.instanceOf(access, "one")
	second := e.instanceOf(access, "two")
	w := e.do(req{method: "POST", path: "/api/v1/instances/" + inst.ID + "/api-keys", token: access, body: `{"name":"k"}`})
	var key APIKeyDTO
	decodeBody(t, w, &key)
	byID := "/api/v1/instances/" + inst.ID + "/contacts/check"
	body := `{"phoneNumbers":["+15550001111","+9991234567"]}`

	wantProblem(t, e.do(req{method: "POST", path: byID, token: access, body: body}), http.StatusConflict, "instance_not_connected")
	e.status(inst.ID, ports.StatusConnected, "+15557654321")

	want := `{"results":[{"phoneNumber":"+15550001111","exists":true,"jid":"15550001111@s.whatsapp.net"},` +
		`{"phoneNumber":"+9991234567","exists":false,"jid":null}]}`
	if w := e.do(req{method: "POST", path: byID, token: access, body: body}); w.Code != 200 || w.Body.String() != want {
		t.Fatalf("check by instance: got %d %s, want %s", w.Code, w.Body, want)
	}
	if w := e.do(req{method: "POST", path: "/api/v1/contacts/check", token: key.Key, body: body}); w.Code != 200 || w.Body.String() != want {
		t.Fatalf("check by key: got %d %s, want %s", w.Code, w.Body, want)
	}
	wantProblem(t, e.do(req{method: "POST", path: "/api/v1/contacts/check", token: access, body: body}), http.StatusForbidden, "forbidden")
	wantProblem(t, e.do(req{method: "POST", path: "/api/v1/instances/" + second.ID + "/contacts/check", token: key.Key, body: body}), http.StatusNotFound, "not_found")

	many := make([]string, 51)
	for i := range many {
		many[i] = fmt.Sprintf(`"+1555000%04d"`, i)
	}
	wantProblem(t, e.do(req{method: "POST", path: byID, token: access, body: `{"phoneNumbers":[` + strings.Join(many, ",") + `]}`}), 422, "validation_failed")
	// The per-instance allowance of the test env is two checks a minute.
	w = e.do(req{method: "POST", path: byID, token: access, body: body})
	wantProblem(t, w, http.StatusTooManyRequests, "rate_limited")
	if w.Header().Get("Retry-After") == "" {
		t.Fatalf("got no Retry-After on a 429, want one")
	}
}

func TestDisconnectAndLogout(t *testing.T) {
	e := newLifecycleEnv(t)
	access, _ := e.account("dl@example.com")
	inst := e.instanceOf(access, "one")
	base := "/api/v1/instances/" + inst.ID
	e.do(req{method: "POST", path: base + "/connect", token: access})
	e.status(inst.ID, ports.StatusConnected, "+15557654321")

	for _, tc := range []struct{ path, status, call string }{
		{"/disconnect", "disconnected", "disconnect "},
		{"/logout", "logged_out", "logout "},
	} {
		w := e.do(req{method: "POST", path: base + tc.path, token: access})
		if w.Code != http.StatusAccepted || w.Body.String() != `{"status":"`+tc.status+`"}` || !e.wa.called(tc.call+inst.ID) {
			t.Fatalf("%s: got %d %s, want 202 %s and the adapter asked", tc.path, w.Code, w.Body, tc.status)
		}
	}
}
