package httpgin

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wagate/wagate/ports"
)

// fakeBus is a hand-written EventBus: it delivers to every matching
// subscriber and can drop one, as a bus does with a slow consumer.
type fakeBus struct {
	mu   sync.Mutex
	subs map[*fakeSub]struct{}
	// subscribed receives each new subscription's filter, so that tests
	// publish only once the stream is listening.
	subscribed chan ports.EventFilter
}

type fakeSub struct {
	f    ports.EventFilter
	ch   chan ports.Event
	done bool
}

func newFakeBus() *fakeBus {
	return &fakeBus{subs: map[*fakeSub]struct{}{}, subscribed: make(chan ports.EventFilter, 16)}
}

func (b *fakeBus) Subscribe(ctx context.Context, f ports.EventFilter) (<-chan ports.Event, error) {
	if f.SubscriptionID == "" {
		return nil, ports.Errorf(ports.EInvalid, "no subscription")
	}
	s := &fakeSub{f: f, ch: make(chan ports.Event, 8)}
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	go func() {
		<-ctx.Done()
		b.drop(s)
	}()
	b.subscribed <- f
	return s.ch, nil
}

func (b *fakeBus) Publish(_ context.Context, e ports.Event) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		if s.f.SubscriptionID != e.SubscriptionID || (s.f.InstanceID != "" && s.f.InstanceID != e.InstanceID) {
			continue
		}
		if len(s.f.Types) > 0 && !containsType(s.f.Types, e.Type) {
			continue
		}
		s.ch <- e
	}
	return nil
}

func containsType(ts []ports.EventType, t ports.EventType) bool {
	for _, x := range ts {
		if x == t {
			return true
		}
	}
	return false
}

// drop ends a subscription by closing its channel.
func (b *fakeBus) drop(s *fakeSub) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !s.done {
		s.done = true
		delete(b.subs, s)
		close(s.ch)
	}
}

// dropAll ends every subscription, as a bus does to consumers that fell
// behind.
func (b *fakeBus) dropAll() {
	b.mu.Lock()
	subs := make([]*fakeSub, 0, len(b.subs))
	for s := range b.subs {
		subs = append(subs, s)
	}
	b.mu.Unlock()
	for _, s := range subs {
		b.drop(s)
	}
}

// streamEnv is a test env served over a real listener, as WebSockets need.
type streamEnv struct {
	*testEnv
	bus      *fakeBus
	srv      *httptest.Server
	shutdown chan struct{}
}

// newStreamEnv starts the env; edits change its Options first.
func newStreamEnv(t *testing.T, edits ...func(*Options)) *streamEnv {
	t.Helper()
	bus, shutdown := newFakeBus(), make(chan struct{})
	opt := Options{Events: bus, Shutdown: shutdown, PingInterval: 50 * time.Millisecond,
		CORSOrigins: []string{"https://app.example.com"}}
	for _, edit := range edits {
		edit(&opt)
	}
	e := newTestEnv(t, opt)
	srv := httptest.NewServer(e.engine)
	t.Cleanup(srv.Close)
	return &streamEnv{testEnv: e, bus: bus, srv: srv, shutdown: shutdown}
}

// dial opens the stream with the query and headers given.
func (s *streamEnv) dial(t *testing.T, query string, h http.Header) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/api/v1/events/ws" + query
	c, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: h})
	if c != nil {
		t.Cleanup(func() { c.CloseNow() })
	}
	return c, resp, err
}

// open dials and waits until the stream has subscribed.
func (s *streamEnv) open(t *testing.T, query, token string) (*websocket.Conn, ports.EventFilter) {
	t.Helper()
	c, resp, err := s.dial(t, query, http.Header{"Authorization": {"Bearer " + token}})
	if err != nil {
		t.Fatalf("dial %s: got %v (%v), want a stream", query, err, statusOf(resp))
	}
	select {
	case f := <-s.bus.subscribed:
		return c, f
	case <-time.After(5 * time.Second):
		t.Fatal("got no subscription, want the stream subscribed")
	}
	return nil, ports.EventFilter{}
}

func statusOf(r *http.Response) int {
	if r == nil {
		return 0
	}
	return r.StatusCode
}

// readEvent reads one frame as an envelope.
func readEvent(t *testing.T, c *websocket.Conn) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	typ, b, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if typ != websocket.MessageText {
		t.Fatalf("got a %v frame, want text", typ)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return m
}

// instanceOf creates an instance for the token's user.
func (e *testEnv) instanceOf(token, name string) InstanceDTO {
	e.t.Helper()
	w := e.do(req{method: "POST", path: "/api/v1/instances", token: token, body: `{"name":"` + name + `"}`})
	if w.Code != http.StatusCreated {
		e.t.Fatalf("create instance: got %d %s, want 201", w.Code, w.Body)
	}
	var inst InstanceDTO
	decodeBody(e.t, w, &inst)
	return inst
}

func TestStreamAuth(t *testing.T) {
	s := newStreamEnv(t)
	access, _ := s.account("ws@example.com")
	other, _ := s.account("other@example.com")
	theirs := s.instanceOf(other, "theirs")
	inst := s.instanceOf(access, "mine")
	w := s.do(req{method: "POST", path: "/api/v1/instances/" + inst.ID + "/api-keys", token: access, body: `{"name":"k"}`})
	var key APIKeyDTO
	decodeBody(t, w, &key)

	tests := []struct {
		name, query string
		h           http.Header
		want        int
	}{
		{"no token", "", nil, http.StatusUnauthorized},
		{"bad token", "?access_token=nonsense", nil, http.StatusUnauthorized},
		{"api key", "", http.Header{"Authorization": {"Bearer " + key.Key}}, http.StatusForbidden},
		{"api key in query", "?access_token=" + key.Key, nil, http.StatusForbidden},
		{"foreign instance", "?instanceId=" + theirs.ID, http.Header{"Authorization": {"Bearer " + access}}, http.StatusNotFound},
		{"malformed instance", "?instanceId=abc", http.Header{"Authorization": {"Bearer " + access}}, http.StatusNotFound},
		{"unknown type", "?types=instance.status,bogus", http.Header{"Authorization": {"Bearer " + access}}, http.StatusUnprocessableEntity},
		{"foreign origin", "", http.Header{"Authorization": {"Bearer " + access}, "Origin": {"https://evil.example.com"}}, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, resp, err := s.dial(t, tt.query, tt.h)
			if err == nil || statusOf(resp) != tt.want {
				t.Fatalf("got %v, status %d, want status %d", err, statusOf(resp), tt.want)
			}
		})
	}
	// The foreign origin was refused after subscribing, so that every
	// other failure could still answer in HTTP: forget that subscription.
	for len(s.bus.subscribed) > 0 {
		<-s.bus.subscribed
	}
	if strings.Contains(s.logs.String(), access) || strings.Contains(s.logs.String(), key.Key) {
		t.Fatalf("got a token in the log, want tokens never logged")
	}

	c, f := s.open(t, "?access_token="+access, access)
	if f.SubscriptionID == "" || f.InstanceID != "" || len(f.Types) != 0 {
		t.Fatalf("got filter %+v, want the caller's subscription only", f)
	}
	c.Close(websocket.StatusNormalClosure, "")
	h := http.Header{"Authorization": {"Bearer " + access}, "Origin": {"https://app.example.com"}}
	if _, resp, err := s.dial(t, "", h); err != nil {
		t.Fatalf("dial from a CORS origin: got %v (%d), want a stream", err, statusOf(resp))
	}
}

func TestStreamDeliversOwnEvents(t *testing.T) {
	s := newStreamEnv(t)
	access, _ := s.account("a@example.com")
	inst := s.instanceOf(access, "one")
	c, f := s.open(t, "?instanceId="+inst.ID+"&types=instance.status,instance.qr", access)
	if f.InstanceID != ports.InstanceID(inst.ID) || len(f.Types) != 2 {
		t.Fatalf("got filter %+v, want instance %s and two types", f, inst.ID)
	}
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))
	publish := func(e ports.Event) {
		e.SubscriptionID, e.InstanceID, e.At = f.SubscriptionID, ports.InstanceID(inst.ID), at
		if err := s.bus.Publish(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	publish(ports.Event{ID: "evt_1", Type: ports.EventInstanceStatus,
		Data: eventData(t, ports.InstanceStatusData{Status: ports.StatusDisconnected, PreviousStatus: ports.StatusQR, Reason: "qr_timeout"})})
	publish(ports.Event{ID: "evt_2", Type: ports.EventInstanceQR,
		Data: eventData(t, ports.InstanceQRData{QR: "2@abc", Attempt: 2, ExpiresAt: at.Add(time.Minute)})})
	publish(ports.Event{ID: "evt_3", Type: ports.EventInstanceStatus, Data: eventData(t, ports.InstanceStatusData{Status: ports.StatusConnecting})})

	want := []string{
		`{"id":"evt_1","type":"instance.status","instanceId":"` + inst.ID + `","timestamp":"2025-01-02T02:04:05Z","data":{"status":"disconnected","previousStatus":"qr","reason":"qr_timeout"}}`,
		`{"id":"evt_2","type":"instance.qr","instanceId":"` + inst.ID + `","timestamp":"2025-01-02T02:04:05Z","data":{"qr":"2@abc","attempt":2,"expiresAt":"2025-01-02T02:05:05Z"}}`,
		`{"id":"evt_3","type":"instance.status","instanceId":"` + inst.ID + `","timestamp":"2025-01-02T02:04:05Z","data":{"status":"connecting","previousStatus":null,"reason":null}}`,
	}
	for _, w := range want {
		got, err := json.Marshal(readEvent(t, c))
		if err != nil {
			t.Fatal(err)
		}
		var norm map[string]any
		_ = json.Unmarshal([]byte(w), &norm)
		wantJSON, _ := json.Marshal(norm)
		if string(got) != string(wantJSON) {
			t.Fatalf("got frame %s, want %s", got, wantJSON)
		}
	}
}

// TestStreamPings: an idle stream is pinged, and a client that answers
// pings stays connected.
func TestStreamPings(t *testing.T) {
	s := newStreamEnv(t)
	access, _ := s.account("p@example.com")
	c, f := s.open(t, "", access)
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	// Reading answers the server's pings; nothing else arrives.
	if _, _, err := c.Read(ctx); ctx.Err() == nil {
		t.Fatalf("got %v while idle, want the read to wait", err)
	}
	c2, _ := s.open(t, "", access)
	if err := s.bus.Publish(t.Context(), ports.Event{ID: "evt_after", Type: ports.EventInstanceStatus, SubscriptionID: f.SubscriptionID,
		InstanceID: "i", Data: eventData(t, ports.InstanceStatusData{Status: ports.StatusConnected})}); err != nil {
		t.Fatal(err)
	}
	if got := readEvent(t, c2); got["id"] != "evt_after" {
		t.Fatalf("got %v after several pings, want evt_after", got)
	}
}

func TestStreamCloses(t *testing.T) {
	s := newStreamEnv(t)
	access, _ := s.account("c@example.com")

	slow, _ := s.open(t, "", access)
	s.bus.dropAll()
	if got := closeStatus(t, slow); got != websocket.StatusTryAgainLater {
		t.Fatalf("dropped by the bus: got close status %v, want %v", got, websocket.StatusTryAgainLater)
	}

	c, _ := s.open(t, "", access)
	close(s.shutdown)
	if got := closeStatus(t, c); got != websocket.StatusGoingAway {
		t.Fatalf("server shutdown: got close status %v, want %v", got, websocket.StatusGoingAway)
	}
}

// closeStatus reads until the stream closes and returns how.
func closeStatus(t *testing.T, c *websocket.Conn) websocket.StatusCode {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	for {
		if _, _, err := c.Read(ctx); err != nil {
			return websocket.CloseStatus(err)
		}
	}
}

// TestStreamOutlivesServerTimeouts: the server's read and write timeouts
// end requests, not streams.
func TestStreamOutlivesServerTimeouts(t *testing.T) {
	bus := newFakeBus()
	e := newTestEnv(t, Options{Events: bus})
	srv := httptest.NewUnstartedServer(e.engine)
	srv.Config.ReadTimeout, srv.Config.WriteTimeout = 100*time.Millisecond, 100*time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)
	s := &streamEnv{testEnv: e, bus: bus, srv: srv}
	access, _ := s.account("t@example.com")
	c, f := s.open(t, "", access)
	time.Sleep(300 * time.Millisecond)
	if err := bus.Publish(t.Context(), ports.Event{ID: "evt_late", Type: ports.EventInstanceStatus, SubscriptionID: f.SubscriptionID,
		InstanceID: "i", Data: eventData(t, ports.InstanceStatusData{Status: ports.StatusConnected})}); err != nil {
		t.Fatal(err)
	}
	if got := readEvent(t, c); got["id"] != "evt_late" {
		t.Fatalf("got %v, want evt_late after the server timeouts passed", got)
	}
}

// eventData is v's wire form, as the event log stores it.
func eventData(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := EncodeEventData(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
