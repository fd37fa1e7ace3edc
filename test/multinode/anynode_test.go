package multinode

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wagate/wagate/adapters/entstore"
	"github.com/wagate/wagate/adapters/wasim"
	"github.com/wagate/wagate/test/testserver"
)

// roundRobin is a TCP load balancer without sticky sessions: each new
// connection goes to the next live node, as a Kubernetes Service or a
// cloud load balancer spreads them.
type roundRobin struct {
	ln    net.Listener
	mu    sync.Mutex
	nodes []*proc
	dead  map[string]bool
	next  int
	last  string // the node the last connection went to
}

func startRoundRobin(t *testing.T, nodes []*proc) *roundRobin {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rr := &roundRobin{ln: ln, nodes: nodes, dead: map[string]bool{}}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go rr.relay(c)
		}
	}()
	return rr
}

// pick returns the next live node and records it.
func (rr *roundRobin) pick() *proc {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	for range rr.nodes {
		p := rr.nodes[rr.next%len(rr.nodes)]
		rr.next++
		if !rr.dead[p.name] {
			rr.last = p.name
			return p
		}
	}
	return nil
}

func (rr *roundRobin) kill(p *proc) {
	rr.mu.Lock()
	rr.dead[p.name] = true
	rr.mu.Unlock()
}

func (rr *roundRobin) live() int {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	return len(rr.nodes) - len(rr.dead)
}

func (rr *roundRobin) lastNode() string {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	return rr.last
}

func (rr *roundRobin) relay(c net.Conn) {
	defer c.Close()
	p := rr.pick()
	if p == nil {
		return
	}
	up, err := net.Dial("tcp", p.addr)
	if err != nil {
		return
	}
	defer up.Close()
	go func() {
		io.Copy(up, c)
		up.(*net.TCPConn).CloseWrite()
	}()
	io.Copy(c, up)
}

// lb is a client of the cluster through the balancer: one connection per
// request, so that each request lands on another node than the last.
type lb struct {
	t      *testing.T
	rr     *roundRobin
	client *http.Client
	token  string
	prev   string
}

type answer struct {
	code   int
	header http.Header
	raw    []byte
	body   map[string]any
	node   string
}

func (l *lb) do(method, path string, body any, header ...string) answer {
	l.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(l.t.Context(), method, "http://"+l.rr.ln.Addr().String()+path, rd)
	if err != nil {
		l.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if l.token != "" {
		req.Header.Set("Authorization", "Bearer "+l.token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := l.client.Do(req)
	if err != nil {
		l.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	a := answer{code: resp.StatusCode, header: resp.Header, node: l.rr.lastNode()}
	a.raw, _ = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	_ = json.Unmarshal(a.raw, &a.body)
	if a.node == l.prev && l.rr.live() > 1 {
		l.t.Fatalf("%s %s: served by %s again, want another node than the last request's", method, path, a.node)
	}
	l.prev = a.node
	return a
}

// want checks the status of an answer.
func (l *lb) want(a answer, code int, what string) answer {
	l.t.Helper()
	if a.code != code {
		l.t.Fatalf("%s on %s: got %d %s, want %d", what, a.node, a.code, a.raw, code)
	}
	return a
}

// until repeats a request (each on the next node) until it answers code.
func (l *lb) until(within time.Duration, code int, what, method, path string, body any, header ...string) answer {
	l.t.Helper()
	deadline := time.Now().Add(within)
	for {
		a := l.do(method, path, body, header...)
		if a.code == code {
			return a
		}
		if time.Now().After(deadline) {
			l.t.Fatalf("%s: last %d %s on %s, want %d within %v", what, a.code, a.raw, a.node, code, within)
		}
		time.Sleep(150 * time.Millisecond)
	}
}

// status waits until the instance's status, read on every node in turn,
// is want.
func (l *lb) status(id, want string, within time.Duration) {
	l.t.Helper()
	deadline := time.Now().Add(within)
	for {
		a := l.want(l.do("GET", "/api/v1/instances/"+id, nil), http.StatusOK, "get instance")
		if str(a.body, "status") == want {
			return
		}
		if time.Now().After(deadline) {
			l.t.Fatalf("instance %s: status %q (%v), want %q within %v", id, str(a.body, "status"), a.body["statusReason"], want, within)
		}
		time.Sleep(150 * time.Millisecond)
	}
}

// pairAndScan reads the QR code on two nodes (JSON, then PNG), checks that
// they agree, and scans it through a third.
func (l *lb) pairAndScan(id string) {
	l.t.Helper()
	a := l.until(linkWait, http.StatusOK, "QR code", "GET", "/api/v1/instances/"+id+"/qr", nil)
	b := l.want(l.do("GET", "/api/v1/instances/"+id+"/qr", nil), http.StatusOK, "QR code on the next node")
	// The same code on both nodes, unless the next one replaced it in
	// between.
	same := str(a.body, "qr") == str(b.body, "qr") && str(a.body, "expiresAt") == str(b.body, "expiresAt")
	if str(a.body, "qr") == "" || (num(a.body, "attempt") == num(b.body, "attempt")) != same {
		l.t.Fatalf("QR code on %s and %s: got %v and %v, want the same", a.node, b.node, a.body, b.body)
	}
	png := l.want(l.do("GET", "/api/v1/instances/"+id+"/qr", nil, "Accept", "image/png"), http.StatusOK, "QR code as PNG")
	if ct := png.header.Get("Content-Type"); ct != "image/png" || !bytes.HasPrefix(png.raw, []byte("\x89PNG")) {
		l.t.Fatalf("QR PNG on %s: got %s, %d bytes, want a PNG", png.node, ct, len(png.raw))
	}
	l.want(l.do("POST", "/api/v1/sandbox/instances/"+id+"/scan", nil), http.StatusAccepted, "scan")
	l.status(id, "connected", linkWait)
}

// checkContacts checks one number on the next node.
func (l *lb) checkContacts(id string) answer {
	l.t.Helper()
	return l.do("POST", "/api/v1/instances/"+id+"/contacts/check", map[string]any{"phoneNumbers": []string{"+15550001111", "+9995550000"}})
}

func wantChecked(t *testing.T, a answer) {
	t.Helper()
	data, _ := a.body["results"].([]any)
	if a.code != http.StatusOK || len(data) != 2 {
		t.Fatalf("contact check on %s: got %d %s, want 200 with 2 answers", a.node, a.code, a.raw)
	}
	first, _ := data[0].(map[string]any)
	second, _ := data[1].(map[string]any)
	if first["exists"] != true || second["exists"] != false {
		t.Fatalf("contact check on %s: got %s, want the first on WhatsApp, the +999 one not", a.node, a.raw)
	}
}

// wantUnavailable checks a clear 503 with Retry-After.
func wantUnavailable(t *testing.T, a answer, what string) {
	t.Helper()
	if a.code != http.StatusServiceUnavailable || str(a.body, "code") != "unavailable" || a.header.Get("Retry-After") == "" {
		t.Fatalf("%s on %s: got %d %s (Retry-After %q), want 503 unavailable with Retry-After", what, a.node, a.code, a.raw, a.header.Get("Retry-After"))
	}
}

// TestAnyRequestOnAnyNode runs an instance's whole life through a
// round-robin balancer over three nodes, each request on another node
// than the last (issue 18, SPEC §14), then kills the holder during a
// pairing and during a contact check.
func TestAnyRequestOnAnyNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three servers")
	}
	dir, bin, dbURL, redisURL, prefix := setUp(t)
	sim := wasim.New(wasim.Options{})
	if err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	mig := exec.Command(bin, "migrate")
	mig.Env = []string{"WAGATE_DATABASE_URL=" + dbURL, "HOME=" + dir}
	if out, err := mig.CombinedOutput(); err != nil {
		t.Fatalf("wagate migrate: %v\n%s", err, out)
	}
	st, err := entstore.Open(t.Context(), entstore.Options{URL: dbURL})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c := &cluster{t: t, leases: st.Leases()}
	// Each node reaches the simulator through its own proxy, so that
	// WhatsApp's answers to the holder can be held.
	proxies := map[string]*testserver.Proxy{}
	for i := range 3 {
		name := fmt.Sprintf("node-%d", i)
		px := testserver.StartProxy(t, sim.Addr())
		proxies[name] = px
		env := map[string]string{
			"WAGATE_ADDR":              freeAddr(t),
			"WAGATE_NODE_ID":           name,
			"WAGATE_DATA_DIR":          filepath.Join(dir, name),
			"WAGATE_DATABASE_URL":      dbURL,
			"WAGATE_REDIS_URL":         redisURL,
			"WAGATE_REDIS_PREFIX":      strings.TrimSuffix(prefix, ":"),
			"WAGATE_JWT_SECRET":        jwtSecret,
			"WAGATE_WHATSAPP":          "sandbox",
			"WAGATE_SANDBOX_ADDR":      px.Addr(),
			"WAGATE_LEASE_TTL":         *leaseTTLFlag,
			"WAGATE_SEND_DELAY":        "0",
			"WAGATE_AUTH_RATE_PER_MIN": "100000",
			"WAGATE_CONTACTS_RATE":     "1000/1m",
			"WAGATE_LOG_LEVEL":         "info",
		}
		c.nodes = append(c.nodes, start(t, bin, dir, name, []string{"serve"}, env))
	}
	for _, p := range c.nodes {
		p.waitUp(t, "/healthz")
	}
	byName := map[string]*proc{}
	for _, p := range c.nodes {
		byName[p.name] = p
	}
	rr := startRoundRobin(t, c.nodes)
	l := &lb{t: t, rr: rr, client: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 90 * time.Second}}

	reg := l.want(l.do("POST", "/api/v1/auth/register", map[string]any{
		"email": "anynode@example.com", "password": password, "name": "Any Node",
	}), http.StatusCreated, "register")
	tokens, _ := reg.body["tokens"].(map[string]any)
	l.token = str(tokens, "accessToken")

	// The whole life of an instance, each request on the next node.
	inst := l.want(l.do("POST", "/api/v1/instances", map[string]any{"name": "roaming"}), http.StatusCreated, "create")
	id := str(inst.body, "id")
	l.want(l.do("POST", "/api/v1/instances/"+id+"/connect", nil), http.StatusAccepted, "connect")
	l.pairAndScan(id)
	for range 3 { // the holder and both others
		wantChecked(t, l.checkContacts(id))
	}
	// Presence, with the instance's API key, on each node in turn.
	key := l.want(l.do("POST", "/api/v1/instances/"+id+"/api-keys", map[string]any{"name": "roaming"}), http.StatusCreated, "API key")
	user := l.token
	l.token = str(key.body, "key")
	for range 3 {
		l.want(l.do("POST", "/api/v1/chats/15550001111/presence", map[string]any{"state": "typing"}), http.StatusOK, "presence")
	}
	l.token = user
	sent := l.want(l.do("POST", "/api/v1/instances/"+id+"/messages/text", map[string]any{"to": "+15550002222", "text": "from any node"}),
		http.StatusAccepted, "send")
	msg := str(sent.body, "id")
	poll(t, takeover, "message sent", func() bool {
		a := l.want(l.do("GET", "/api/v1/instances/"+id+"/messages/"+msg, nil), http.StatusOK, "get message")
		switch str(a.body, "status") {
		case "sent", "delivered", "read":
			return true
		case "failed":
			t.Fatalf("message failed: %s", a.raw)
		}
		return false
	})
	l.want(l.do("POST", "/api/v1/instances/"+id+"/disconnect", nil), http.StatusAccepted, "disconnect")
	l.status(id, "disconnected", 30*time.Second)
	// Connect again, maybe on a node other than the one still holding the
	// lease until its next tick: the link survives.
	l.until(takeover, http.StatusAccepted, "connect again", "POST", "/api/v1/instances/"+id+"/connect", nil)
	l.status(id, "connected", linkWait)
	wantChecked(t, l.checkContacts(id))
	l.want(l.do("POST", "/api/v1/instances/"+id+"/logout", nil), http.StatusAccepted, "logout")
	l.status(id, "logged_out", 30*time.Second)

	// A pair code asked of a node that does not hold the pairing: the
	// holder hands it out, and the QR codes stop on every node. Deleting
	// the instance through any node stops the pairing.
	inst = l.want(l.do("POST", "/api/v1/instances", map[string]any{"name": "by-code"}), http.StatusCreated, "create")
	id3 := str(inst.body, "id")
	l.want(l.do("POST", "/api/v1/instances/"+id3+"/connect", nil), http.StatusAccepted, "connect")
	l.until(linkWait, http.StatusOK, "QR code", "GET", "/api/v1/instances/"+id3+"/qr", nil)
	for _, p := range c.nodes {
		if p.name == c.holders()[id3] {
			continue
		}
		code, body := call(t, p, "POST", "/api/v1/instances/"+id3+"/pair-code", l.token, map[string]any{"phoneNumber": "+15550003333"})
		if code != http.StatusOK || str(body, "code") == "" {
			t.Fatalf("pair code on %s, which does not hold the pairing: got %d %v, want 200 with a code", p.name, code, body)
		}
		break
	}
	for range 2 {
		a := l.do("GET", "/api/v1/instances/"+id3+"/qr", nil)
		if a.code != http.StatusConflict || str(a.body, "code") != "not_awaiting_qr" {
			t.Fatalf("QR code after a pair code, on %s: got %d %s, want 409 not_awaiting_qr", a.node, a.code, a.raw)
		}
	}
	l.want(l.do("DELETE", "/api/v1/instances/"+id3, nil), http.StatusNoContent, "delete")

	// The holder of a pairing dies: a connect is a clear 503 until the
	// takeover, then pairing again works.
	inst = l.want(l.do("POST", "/api/v1/instances", map[string]any{"name": "orphan"}), http.StatusCreated, "create")
	id2 := str(inst.body, "id")
	l.want(l.do("POST", "/api/v1/instances/"+id2+"/connect", nil), http.StatusAccepted, "connect")
	l.until(linkWait, http.StatusOK, "QR code", "GET", "/api/v1/instances/"+id2+"/qr", nil)
	holder := byName[c.holders()[id2]]
	if holder == nil {
		t.Fatalf("pairing %s: no holder among %v", id2, c.holders())
	}
	rr.kill(holder)
	holder.stop(t, syscall.SIGKILL)
	killed := time.Now()
	wantUnavailable(t, l.do("POST", "/api/v1/instances/"+id2+"/connect", nil), "connect with its holder dead")
	if d := time.Since(killed); d > 5*time.Second {
		t.Errorf("connect with its holder dead: answered after %v", d)
	}
	l.status(id2, "disconnected", takeover) // "interrupted", by the node that took it over
	t.Logf("pairing taken over %v after the kill", time.Since(killed).Round(time.Millisecond))
	l.want(l.do("POST", "/api/v1/instances/"+id2+"/connect", nil), http.StatusAccepted, "connect after the takeover")
	l.pairAndScan(id2)
	wantChecked(t, l.checkContacts(id2))

	// The holder dies during a contact check: WhatsApp's answer is held
	// on its way to it, the check asked of the other node.
	holder = byName[c.holders()[id2]]
	var other *proc
	for _, p := range c.nodes {
		if p != holder && !rr.dead[p.name] {
			other = p
		}
	}
	if holder == nil || other == nil {
		t.Fatalf("no holder and other node for %s: %v", id2, c.holders())
	}
	proxies[holder.name].Hold(true)
	done := make(chan answer, 1)
	go func() {
		code, body := call(t, other, "POST", "/api/v1/instances/"+id2+"/contacts/check", l.token,
			map[string]any{"phoneNumbers": []string{"+15550001111"}})
		done <- answer{code: code, body: body, node: other.name}
	}()
	time.Sleep(time.Second)
	rr.kill(holder)
	holder.stop(t, syscall.SIGKILL)
	killed = time.Now()
	select {
	case a := <-done:
		if a.code != http.StatusServiceUnavailable || str(a.body, "code") != "unavailable" {
			t.Fatalf("contact check whose holder died: got %d %v, want 503 unavailable", a.code, a.body)
		}
		t.Logf("contact check answered 503 %v after the kill", time.Since(killed).Round(time.Millisecond))
	case <-time.After(20 * time.Second):
		t.Fatal("contact check whose holder died: no answer within 20 s")
	}
	// The Retry-After of the same situation, asked before the takeover.
	if a := l.checkContacts(id2); a.code != http.StatusOK {
		wantUnavailable(t, a, "contact check before the takeover")
	}
	deadline := time.Now().Add(takeover)
	for {
		a := l.checkContacts(id2)
		if a.code == http.StatusOK {
			wantChecked(t, a)
			break
		}
		if a.code != http.StatusServiceUnavailable && a.code != http.StatusConflict {
			t.Fatalf("contact check during the takeover: got %d %s, want 503 or 409 instance_not_connected", a.code, a.raw)
		}
		if time.Now().After(deadline) {
			t.Fatalf("contact check: not answered within %v of the kill", takeover)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("contact checks answered again %v after the kill", time.Since(killed).Round(time.Millisecond))
}
