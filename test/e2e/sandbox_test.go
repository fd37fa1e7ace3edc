package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wagate/wagate/adapters/wasim"
	"github.com/wagate/wagate/cmd/wagate/app"
	"github.com/wagate/wagate/test/testserver"
)

// The sandbox flow of SPEC §4, §7, §10 and §15 over HTTP and WebSocket,
// with a standalone simulator (`wagate sim`) behind the server so that the
// simulated phones outlive a server restart.

// pngSignature starts every PNG file.
var pngSignature = []byte("\x89PNG\r\n\x1a\n")

// flowWait bounds each step that waits on the WhatsApp protocol.
const flowWait = 45 * time.Second

// TestSandboxFlow runs the flow on each database against one shared
// simulator, as several sandbox servers would share a `wagate sim`. (One
// simulator also keeps libsignal's lazily created global logger from being
// initialised by two goroutines at once, which the race detector reports.)
func TestSandboxFlow(t *testing.T) {
	simAddr := startSim(t)
	for _, b := range databases {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			sandboxFlow(t, b, simAddr)
		})
	}
}

func sandboxFlow(t *testing.T, b backend, simAddr string) {
	sim := wasim.NewRemote(simAddr)
	env := map[string]string{
		"WAGATE_JWT_SECRET":        jwtSecret,
		"WAGATE_LOG_LEVEL":         "info",
		"WAGATE_AUTH_RATE_PER_MIN": "100000",
		"WAGATE_WHATSAPP":          "sandbox",
		"WAGATE_SANDBOX_ADDR":      simAddr,
		"WAGATE_QR_TIMEOUT":        "3s",
		"WAGATE_QR_NEXT_TIMEOUT":   "2s",
	}
	maps.Copy(env, b.env(t))
	s := startOwned(t, b.name, env)

	a, other := s.register(t), s.register(t)
	inst := str(s.createInstance(t, a.Access, "sandbox-1"), "id")
	path := "/api/v1/instances/" + inst
	_, key := s.createKey(t, a.Access, inst, map[string]any{"name": "contacts"})
	theirs := str(s.createInstance(t, other.Access, "theirs"), "id")

	// The stream's door: JWT only, own instances only, known types only.
	wantRefused(t, s, "", nil, http.StatusUnauthorized)
	wantRefused(t, s, "", bearer(key), http.StatusForbidden)
	wantRefused(t, s, "?access_token="+key, nil, http.StatusForbidden)
	wantRefused(t, s, "?instanceId="+theirs, bearer(a.Access), http.StatusNotFound)
	wantRefused(t, s, "?types=instance.status,nope", bearer(a.Access), http.StatusUnprocessableEntity)

	streamA := openStream(t, s, "?access_token="+a.Access, nil)
	streamB := openStream(t, s, "", bearer(other.Access))

	// Connect and pair by QR.
	wantStatus(t, s.do(t, "POST", path+"/connect", a.Access, nil), http.StatusAccepted)
	qr := waitQR(t, s, a.Access, inst)
	if num(qr, "attempt") != 1 {
		t.Errorf("first QR: got attempt %v, want 1", qr["attempt"])
	}
	checkQRImage(t, s, a.Access, inst, qr)
	streamA.waitFor(t, 0, "instance.qr attempt 1", func(e event) bool {
		return e.is(inst, "instance.qr") && num(e.Data, "attempt") == 1
	})
	r := s.do(t, "POST", "/api/v1/sandbox/instances/"+inst+"/scan", a.Access, nil)
	wantStatus(t, r, http.StatusAccepted)
	phone := str(r.JSON, "phoneNumber")
	if !strings.HasPrefix(phone, "+1555") {
		t.Errorf("scan: got phone %q, want a made-up +1555 number", phone)
	}
	streamA.waitFor(t, 0, "connected", statusIs(inst, "connected"))
	got := s.do(t, "GET", path, a.Access, nil)
	wantStatus(t, got, http.StatusOK)
	if str(got.JSON, "status") != "connected" || digits(str(got.JSON, "phoneNumber")) != digits(phone) || str(got.JSON, "jid") == "" {
		t.Fatalf("%s: want connected with phone %s and a jid", got, phone)
	}

	checkContacts(t, s, a.Access, key, inst)
	mark0 := streamA.mark()
	wantStatus(t, s.do(t, "POST", "/api/v1/sandbox/instances/"+inst+"/inbound", a.Access,
		map[string]any{"from": "+15550002222", "text": "hello from the sandbox"}), http.StatusAccepted)
	// The device acks the message once it is stored; disconnecting while
	// whatsmeow writes that receipt is a data race inside whatsmeow, so
	// the test lets it finish first.
	in := streamA.waitFor(t, mark0, "message.received", func(e event) bool {
		return e.is(inst, "message.received") && str(e.Data, "text") == "hello from the sandbox"
	})
	stored := s.do(t, "GET", "/api/v1/instances/"+inst+"/messages/"+str(in.Data, "id"), a.Access, nil)
	wantStatus(t, stored, http.StatusOK)
	rctx, cancel := context.WithTimeout(t.Context(), flowWait)
	if err := sim.WaitReceipt(rctx, str(stored.JSON, "waMessageId")); err != nil {
		t.Fatalf("the device's receipt of the inbound message: %v", err)
	}
	cancel()

	// Disconnect keeps the link: the next connect needs no QR code.
	mark := streamA.mark()
	wantStatus(t, s.do(t, "POST", path+"/disconnect", a.Access, nil), http.StatusAccepted)
	streamA.waitFor(t, mark, "disconnected", statusIs(inst, "disconnected"))
	wantProblem(t, s.do(t, "POST", "/api/v1/sandbox/instances/"+inst+"/inbound", a.Access,
		map[string]any{"from": "+15550002222", "text": "anyone there?"}), http.StatusConflict, "instance_not_connected")
	mark = streamA.mark()
	wantStatus(t, s.do(t, "POST", path+"/connect", a.Access, nil), http.StatusAccepted)
	streamA.waitFor(t, mark, "connected again", statusIs(inst, "connected"))
	if n := streamA.count(mark, func(e event) bool { return e.is(inst, "instance.qr") }); n != 0 {
		t.Errorf("reconnect of a linked instance: got %d QR events, want none", n)
	}

	// A restart: open streams close with 1001, and the instance comes back
	// connected by itself.
	s.stop(t)
	if code := streamA.closeCode(t); code != websocket.StatusGoingAway {
		t.Errorf("stream at shutdown: got close code %v, want %v", code, websocket.StatusGoingAway)
	}
	s = startOwned(t, b.name, env)
	waitInstance(t, s, a.Access, inst, "connected")
	streamA2 := openStream(t, s, "", bearer(a.Access))
	streamB2 := openStream(t, s, "", bearer(other.Access))

	qrTimeout(t, s, a.Access, streamA2)

	// Logout unlinks; then link again and unlink on the phone.
	mark = streamA2.mark()
	wantStatus(t, s.do(t, "POST", path+"/logout", a.Access, nil), http.StatusAccepted)
	streamA2.waitFor(t, mark, "logged_out", statusIs(inst, "logged_out"))
	waitInstance(t, s, a.Access, inst, "logged_out")

	mark = streamA2.mark()
	wantStatus(t, s.do(t, "POST", path+"/connect", a.Access, nil), http.StatusAccepted)
	waitQR(t, s, a.Access, inst)
	wantStatus(t, s.do(t, "POST", "/api/v1/sandbox/instances/"+inst+"/scan", a.Access, nil), http.StatusAccepted)
	streamA2.waitFor(t, mark, "connected after a new scan", statusIs(inst, "connected"))
	jid := str(waitInstance(t, s, a.Access, inst, "connected"), "jid")
	mark = streamA2.mark()
	if err := sim.Unlink(t.Context(), jid); err != nil {
		t.Fatalf("unlink %s on the phone: %v", jid, err)
	}
	streamA2.waitFor(t, mark, "logged_out after unlink on the phone", statusIs(inst, "logged_out"))

	// Another tenant saw nothing of it.
	for _, st := range []*stream{streamB, streamB2} {
		if n := st.count(0, func(event) bool { return true }); n != 0 {
			t.Errorf("user B's stream: got %d events, want none of user A's", n)
		}
	}
}

// qrTimeout leaves a connect unscanned: exactly three QR codes, then
// disconnected with reason qr_timeout.
func qrTimeout(t *testing.T, s *ownedServer, token string, st *stream) {
	t.Helper()
	id := str(s.createInstance(t, token, "unscanned"), "id")
	wantStatus(t, s.do(t, "POST", "/api/v1/instances/"+id+"/connect", token, nil), http.StatusAccepted)
	st.waitFor(t, 0, "qr_timeout", func(e event) bool {
		return e.is(id, "instance.status") && str(e.Data, "status") == "disconnected" && str(e.Data, "reason") == "qr_timeout"
	})
	var attempts []float64
	st.count(0, func(e event) bool {
		if e.is(id, "instance.qr") {
			attempts = append(attempts, num(e.Data, "attempt"))
		}
		return false
	})
	if fmt.Sprint(attempts) != "[1 2 3]" {
		t.Errorf("unscanned connect: got QR attempts %v, want [1 2 3]", attempts)
	}
	inst := s.do(t, "GET", "/api/v1/instances/"+id, token, nil)
	if str(inst.JSON, "status") != "disconnected" || str(inst.JSON, "statusReason") != "qr_timeout" {
		t.Errorf("%s: want disconnected/qr_timeout", inst)
	}
	// An API key acts on its own instance, which is not connected.
	_, key := s.createKey(t, token, id, map[string]any{"name": "unscanned"})
	wantProblem(t, s.do(t, "POST", "/api/v1/contacts/check", key, map[string]any{"phoneNumbers": []string{"+15550001111"}}),
		http.StatusConflict, "instance_not_connected")
	wantProblem(t, s.do(t, "GET", "/api/v1/instances/"+id+"/qr", token, nil), http.StatusConflict, "not_awaiting_qr")
	wantProblem(t, s.do(t, "POST", "/api/v1/sandbox/instances/"+id+"/scan", token, nil), http.StatusConflict, "not_awaiting_qr")
}

// checkContacts asks about an existing and a missing number, by instance
// with the JWT and by API key, and overflows the list.
func checkContacts(t *testing.T, s *ownedServer, token, key, inst string) {
	t.Helper()
	body := map[string]any{"phoneNumbers": []string{"+15550001111", "+9991234567"}}
	for _, r := range []*response{
		s.do(t, "POST", "/api/v1/instances/"+inst+"/contacts/check", token, body),
		s.do(t, "POST", "/api/v1/contacts/check", key, body),
	} {
		wantStatus(t, r, http.StatusOK)
		res, _ := r.JSON["results"].([]any)
		if len(res) != 2 {
			t.Fatalf("%s: want two results", r)
		}
		yes, _ := res[0].(map[string]any)
		no, _ := res[1].(map[string]any)
		if yes["exists"] != true || str(yes, "jid") == "" || no["exists"] != false || no["jid"] != nil {
			t.Errorf("%s: want +15550001111 on WhatsApp with a jid, +9991234567 not, with a null jid", r)
		}
	}
	many := make([]string, 51)
	for i := range many {
		many[i] = fmt.Sprintf("+1555000%04d", i)
	}
	wantProblem(t, s.do(t, "POST", "/api/v1/instances/"+inst+"/contacts/check", token,
		map[string]any{"phoneNumbers": many}), http.StatusUnprocessableEntity, "validation_failed")
}

// TestSandboxRoutesOnlyInSandbox: a live server has no sandbox routes.
func TestSandboxRoutesOnlyInSandbox(t *testing.T) {
	s := startServer(t, sqlite, nil)
	a := s.register(t)
	inst := str(s.createInstance(t, a.Access, "live"), "id")
	wantProblem(t, s.do(t, "POST", "/api/v1/sandbox/instances/"+inst+"/scan", a.Access, nil), http.StatusNotFound, "not_found")
	wantProblem(t, s.do(t, "POST", "/api/v1/sandbox/instances/"+inst+"/inbound", a.Access,
		map[string]any{"from": "+15550002222", "text": "hi"}), http.StatusNotFound, "not_found")
}

// waitQR polls GET /qr until the instance shows a code.
func waitQR(t *testing.T, s *ownedServer, token, inst string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(flowWait)
	for {
		r := s.do(t, "GET", "/api/v1/instances/"+inst+"/qr", token, nil)
		if r.Status == http.StatusOK {
			return r.JSON
		}
		if r.Status != http.StatusConflict || time.Now().After(deadline) {
			t.Fatalf("%s: want 200 with a QR code", r)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkQRImage checks the inlined PNG and the one Accept: image/png gives.
func checkQRImage(t *testing.T, s *ownedServer, token, inst string, qr map[string]any) {
	t.Helper()
	if str(qr, "qr") == "" {
		t.Errorf("got QR %v, want a code", qr)
	}
	if exp, err := time.Parse(time.RFC3339, str(qr, "expiresAt")); err != nil || exp.IsZero() {
		t.Errorf("got expiresAt %q, want an RFC 3339 time", qr["expiresAt"])
	}
	b64, ok := strings.CutPrefix(str(qr, "image"), "data:image/png;base64,")
	raw, err := base64.StdEncoding.DecodeString(b64)
	if !ok || err != nil || !bytes.HasPrefix(raw, pngSignature) {
		t.Errorf("got image %.40q…, want a PNG data URI", str(qr, "image"))
	}
	h := bearer(token)
	h.Set("Accept", "image/png")
	r := s.doWith(t, "GET", "/api/v1/instances/"+inst+"/qr", h, nil)
	if r.Status != http.StatusOK || r.Header.Get("Content-Type") != "image/png" || !bytes.HasPrefix(r.Body, pngSignature) {
		t.Errorf("GET qr with Accept: image/png: got %d %q %.8q, want 200 image/png with a PNG", r.Status, r.Header.Get("Content-Type"), r.Body)
	}
}

// waitInstance polls GET until the instance has the status.
func waitInstance(t *testing.T, s *ownedServer, token, inst, status string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(flowWait)
	for {
		r := s.do(t, "GET", "/api/v1/instances/"+inst, token, nil)
		wantStatus(t, r, http.StatusOK)
		if str(r.JSON, "status") == status {
			return r.JSON
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: want status %s", r, status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// startSim runs `wagate sim` on a free loopback port until the test ends.
func startSim(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- app.Run(ctx, []string{"sim", "--addr", addr}, func(string) string { return "" }, io.Discard)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("wagate sim: %v", err)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return addr
		}
		select {
		case err := <-done:
			t.Fatalf("wagate sim exited: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("wagate sim did not listen on %s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ownedServer is a server the test stops and starts itself, on the same
// environment (database, data dir).
type ownedServer struct {
	server
	stopped bool
}

func startOwned(t *testing.T, name string, env map[string]string) *ownedServer {
	t.Helper()
	srv, err := testserver.Start(context.Background(), env)
	if err != nil {
		t.Fatalf("start server on %s: %v", name, err)
	}
	s := &ownedServer{server: server{Server: srv, hc: &http.Client{Timeout: 30 * time.Second}}}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server logs (%s):\n%s", name, tail(srv.Logs(), 80))
		}
		if !s.stopped {
			s.stop(t)
		}
	})
	return s
}

func (s *ownedServer) stop(t *testing.T) {
	t.Helper()
	s.stopped = true
	if err := s.Stop(); err != nil {
		t.Errorf("stop server: %v", err)
	}
}

// wantRefused dials the stream and expects an HTTP refusal.
func wantRefused(t *testing.T, s *ownedServer, query string, h http.Header, status int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, wsURL(s, query), &websocket.DialOptions{HTTPHeader: h})
	if c != nil {
		c.CloseNow()
	}
	if err == nil || resp == nil || resp.StatusCode != status {
		code := 0
		if resp != nil {
			code = resp.StatusCode
		}
		t.Errorf("stream %s: got %v, status %d, want status %d", query, err, code, status)
	}
}

func wsURL(s *ownedServer, query string) string {
	return "ws" + strings.TrimPrefix(s.URL, "http") + "/api/v1/events/ws" + query
}

// event is one frame of the stream.
type event struct {
	ID, Type, InstanceID string
	Data                 map[string]any
}

func (e event) is(inst, typ string) bool { return e.InstanceID == inst && e.Type == typ }

func statusIs(inst, status string) func(event) bool {
	return func(e event) bool { return e.is(inst, "instance.status") && str(e.Data, "status") == status }
}

// stream collects the frames of one WebSocket as they arrive.
type stream struct {
	mu      sync.Mutex
	events  []event
	changed chan struct{} // closed and replaced on every frame and at the end
	err     error         // why reading stopped
	done    bool
}

func openStream(t *testing.T, s *ownedServer, query string, h http.Header) *stream {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, wsURL(s, query), &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		code := 0
		if resp != nil {
			code = resp.StatusCode
		}
		t.Fatalf("open stream %s: %v (status %d)", query, err, code)
	}
	t.Cleanup(func() { c.CloseNow() })
	st := &stream{changed: make(chan struct{})}
	go st.read(c)
	return st
}

func (st *stream) read(c *websocket.Conn) {
	for {
		_, b, err := c.Read(context.Background())
		st.mu.Lock()
		if err != nil {
			st.err, st.done = err, true
		} else {
			var e struct {
				ID         string         `json:"id"`
				Type       string         `json:"type"`
				InstanceID string         `json:"instanceId"`
				Timestamp  string         `json:"timestamp"`
				Data       map[string]any `json:"data"`
			}
			if jerr := json.Unmarshal(b, &e); jerr != nil || e.ID == "" || e.Timestamp == "" {
				e.Type = "malformed: " + string(b)
			}
			st.events = append(st.events, event{ID: e.ID, Type: e.Type, InstanceID: e.InstanceID, Data: e.Data})
		}
		close(st.changed)
		st.changed = make(chan struct{})
		st.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// mark is the position of the next frame.
func (st *stream) mark() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.events)
}

// count counts the frames from position from that match.
func (st *stream) count(from int, match func(event) bool) int {
	st.mu.Lock()
	defer st.mu.Unlock()
	n := 0
	for _, e := range st.events[from:] {
		if match(e) {
			n++
		}
	}
	return n
}

// waitFor waits for a frame from position from that matches.
func (st *stream) waitFor(t *testing.T, from int, what string, match func(event) bool) event {
	t.Helper()
	deadline := time.After(flowWait)
	for {
		st.mu.Lock()
		for _, e := range st.events[from:] {
			if match(e) {
				st.mu.Unlock()
				return e
			}
		}
		changed, done, err, seen := st.changed, st.done, st.err, fmt.Sprint(st.events)
		st.mu.Unlock()
		if done {
			t.Fatalf("waiting for %s: the stream ended (%v); got %s", what, err, seen)
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("waiting for %s: got only %s", what, seen)
		}
	}
}

// closeCode waits for the stream to end and returns its close code.
func (st *stream) closeCode(t *testing.T) websocket.StatusCode {
	t.Helper()
	return websocket.CloseStatus(st.ended(t, flowWait))
}

// ended waits up to wait for the stream to end and returns why.
func (st *stream) ended(t *testing.T, wait time.Duration) error {
	t.Helper()
	deadline := time.After(wait)
	for {
		st.mu.Lock()
		changed, done, err := st.changed, st.done, st.err
		st.mu.Unlock()
		if done {
			return err
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("got the stream open after %v, want it closed", wait)
		}
	}
}
