package httpgin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wagate/wagate/adapters/ratelimit"
	"github.com/wagate/wagate/core/coretest"
	"github.com/wagate/wagate/core/events"
	"github.com/wagate/wagate/core/keys"
	"github.com/wagate/wagate/core/sessions"
	"github.com/wagate/wagate/core/tenancy"
	"github.com/wagate/wagate/ports"
)

// uuidIDs makes the canonical UUIDv7 ids of production, so that the path
// id check lets them through.
type uuidIDs struct{}

func (uuidIDs) NewID() string { return uuid.Must(uuid.NewV7()).String() }

// testEnv is the real engine over the real core services, backed by the
// in-memory fakes of core/coretest.
type testEnv struct {
	t        *testing.T
	engine   *gin.Engine
	store    *coretest.Store
	tenancy  *tenancy.Service
	sessions *sessions.Service
	reg      *prometheus.Registry
	logs     *lockedWriter
}

func newTestEnv(t *testing.T, opt Options) *testEnv {
	t.Helper()
	return newTestEnvTiers(t, opt, ports.DefaultTiers())
}

// newTestEnvTiers is newTestEnv with the given tier limits.
func newTestEnvTiers(t *testing.T, opt Options, tiers ports.TierTable) *testEnv {
	t.Helper()
	return newTestEnvWA(t, opt, tiers, nil)
}

// newTestEnvWA is newTestEnvTiers with a WhatsApp adapter (a fake) behind
// the sessions core, whose events go to opt.Events.
func newTestEnvWA(t *testing.T, opt Options, tiers ports.TierTable, wa ports.WhatsApp) *testEnv {
	t.Helper()
	return newTestEnvWith(t, opt, tiers, wa, nil)
}

// newTestEnvWith is newTestEnvWA whose services more may complete (nil:
// tenancy, keys and sessions only) over the same store and clock.
func newTestEnvWith(t *testing.T, opt Options, tiers ports.TierTable, wa ports.WhatsApp,
	more func(*Services, *coretest.Store, ports.Clock)) *testEnv {
	t.Helper()
	clock := ports.ClockFunc(time.Now)
	store := coretest.NewStore()
	logs := &lockedWriter{w: &bytes.Buffer{}}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	ten := tenancy.New(tenancy.Deps{
		Tx: store, Stores: store.Stores(), Clock: clock, IDs: uuidIDs{},
		Hasher: &coretest.Hasher{}, Tokens: coretest.NewTokenIssuer(clock),
		Limiter: coretest.NewLimiter(clock), Log: log,
	}, tenancy.Config{
		AccessTTL: 15 * time.Minute, RefreshTTL: 30 * 24 * time.Hour,
		Tiers: tiers, LoginFailures: ports.Limit{Count: 10, Period: 15 * time.Minute},
	})
	svc := Services{
		Tenancy: ten,
		Keys:    keys.New(keys.Deps{Tx: store, Stores: store.Stores(), Clock: clock, IDs: uuidIDs{}, Log: log}),
		Sessions: sessions.New(sessions.Deps{Tx: store, Stores: store.Stores(), Clock: clock, IDs: uuidIDs{}, Tiers: tiers, Log: log,
			WhatsApp: wa, Events: coretest.NewEventLog(clock, nil), Limiter: coretest.NewLimiter(clock), ContactsLimit: ports.Limit{Count: 2, Period: time.Minute},
			Directory: store.Directory()}),
		EventLog: events.NewFeed(events.FeedDeps{Stores: store.Stores(), Reader: store.EventReader(), Clock: clock}),
	}
	if more != nil {
		more(&svc, store, clock)
	}
	if opt.Log == nil {
		opt.Log = log
	}
	if opt.Limiter == nil {
		opt.Limiter = ratelimit.NewMemory()
	}
	if opt.Metrics == nil {
		opt.Metrics = prometheus.NewRegistry()
	}
	return &testEnv{t: t, engine: New(svc, opt), store: store, tenancy: ten, sessions: svc.Sessions, reg: opt.Metrics, logs: logs}
}

// lockedWriter serialises log writes from concurrent requests.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

// String returns what was written.
func (w *lockedWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return fmt.Sprint(w.w)
}

// req describes one test request.
type req struct {
	method, path string
	body         string
	token        string
	header       map[string]string
}

func (e *testEnv) do(r req) *httptest.ResponseRecorder {
	return serve(e.engine, r)
}

func serve(h http.Handler, r req) *httptest.ResponseRecorder {
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	hr := httptest.NewRequestWithContext(context.Background(), r.method, r.path, body)
	if r.body != "" {
		hr.Header.Set("Content-Type", "application/json")
	}
	if r.token != "" {
		hr.Header.Set("Authorization", "Bearer "+r.token)
	}
	for k, v := range r.header {
		if v == "" {
			hr.Header.Del(k)
			continue
		}
		hr.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, hr)
	return w
}

// account registers a user and returns their access token.
func (e *testEnv) account(email string) (access, refresh string) {
	e.t.Helper()
	w := e.do(req{method: "POST", path: "/api/v1/auth/register",
		body: `{"email":"` + email + `","password":"correct horse","name":"Ada"}`})
	if w.Code != http.StatusCreated {
		e.t.Fatalf("register %s: got %d %s, want 201", email, w.Code, w.Body)
	}
	var out struct {
		Tokens TokensDTO `json:"tokens"`
	}
	decodeBody(e.t, w, &out)
	return out.Tokens.AccessToken, out.Tokens.RefreshToken
}

func decodeBody(t *testing.T, w *httptest.ResponseRecorder, dst any) {
	t.Helper()
	if err := json.Unmarshal(w.Body.Bytes(), dst); err != nil {
		t.Fatalf("decode %q: %v", w.Body.String(), err)
	}
}

// wantProblem checks a problem+json response and returns it.
func wantProblem(t *testing.T, w *httptest.ResponseRecorder, status int, code string) Problem {
	t.Helper()
	if w.Code != status {
		t.Fatalf("got status %d (%s), want %d", w.Code, w.Body, status)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("got Content-Type %q, want application/problem+json", ct)
	}
	var p Problem
	decodeBody(t, w, &p)
	if p.Code != code {
		t.Fatalf("got code %q (%s), want %q", p.Code, w.Body, code)
	}
	if p.Status != status || p.Type != problemBase+code || p.Title != http.StatusText(status) {
		t.Fatalf("got problem %+v, want status %d, type %s, title %q", p, status, problemBase+code, http.StatusText(status))
	}
	if p.RequestID == "" || p.RequestID != w.Header().Get(HeaderRequestID) {
		t.Fatalf("got requestId %q and header %q, want the same non-empty id", p.RequestID, w.Header().Get(HeaderRequestID))
	}
	if p.Detail == "" {
		t.Fatalf("got an empty detail, want a message")
	}
	return p
}
