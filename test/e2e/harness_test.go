package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wagate/wagate/adapters/wasim"
	"github.com/wagate/wagate/test/testdb"
	"github.com/wagate/wagate/test/testserver"
)

// jwtSecret signs every server's tokens; the tests know it so that they can
// craft expired and tampered tokens.
const jwtSecret = "e2e-secret-0123456789abcdefghijklmnopqrstuvwxyz"

// userAgent is sent with every request so the audit log can be checked.
const userAgent = "wagate-e2e/1.0"

// backend is one storage configuration the server runs on.
type backend struct {
	name string
	env  func(t *testing.T) map[string]string
}

var (
	sqlite = backend{"sqlite", func(t *testing.T) map[string]string {
		return map[string]string{"WAGATE_DATA_DIR": t.TempDir()}
	}}
	postgres = backend{"postgres", func(t *testing.T) map[string]string {
		return map[string]string{
			"WAGATE_DATA_DIR":         t.TempDir(),
			"WAGATE_DATABASE_URL":     testdb.Postgres(t),
			"WAGATE_MIGRATE_ON_START": "true",
		}
	}}
	postgresRedis = backend{"postgres+redis", func(t *testing.T) map[string]string {
		env := postgres.env(t)
		// Servers of different tests must not take each other's jobs
		// from a shared Redis: each gets its own prefix.
		url, prefix := testdb.Redis(t)
		env["WAGATE_REDIS_URL"] = url
		env["WAGATE_REDIS_PREFIX"] = strings.TrimSuffix(prefix, ":")
		return env
	}}
)

// databases are the backends every group runs on.
var databases = []backend{sqlite, postgres}

// server is a running wagate and an HTTP client for it.
type server struct {
	*testserver.Server
	hc *http.Client
}

// eachBackend starts one server per backend, with the common settings
// overridden by extra, and runs fn against each in a parallel subtest.
func eachBackend(t *testing.T, extra map[string]string, backends []backend, fn func(t *testing.T, s *server)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			fn(t, startServer(t, b, extra))
		})
	}
}

func startServer(t *testing.T, b backend, extra map[string]string) *server {
	t.Helper()
	env := serverEnv(t, b, extra)
	srv, err := testserver.Start(context.Background(), env)
	if err != nil {
		t.Fatalf("start server on %s: %v", b.name, err)
	}
	t.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			t.Errorf("stop server: %v", err)
		}
		if t.Failed() {
			t.Logf("server logs (%s):\n%s", b.name, tail(srv.Logs(), 60))
		}
	})
	return &server{Server: srv, hc: &http.Client{Timeout: 30 * time.Second}}
}

// serverEnv is the environment of a server on backend b: the common
// settings, overridden by extra.
func serverEnv(t *testing.T, b backend, extra map[string]string) map[string]string {
	env := map[string]string{
		"WAGATE_JWT_SECRET": jwtSecret,
		// info, not warn: testserver learns the address from the
		// "listening" line, which is logged at info.
		"WAGATE_LOG_LEVEL":         "info",
		"WAGATE_AUTH_RATE_PER_MIN": "100000",
	}
	maps.Copy(env, b.env(t))
	maps.Copy(env, extra)
	return env
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// response is what a request returned. JSON is the decoded body when it is
// a JSON object.
type response struct {
	Method, Path string
	Status       int
	Header       http.Header
	Body         []byte
	JSON         map[string]any
}

func (r *response) String() string {
	body := string(r.Body)
	if len(body) > 600 {
		body = body[:600] + "…"
	}
	return r.Method + " " + r.Path + " → " + http.StatusText(r.Status) + " " + body
}

// do sends a request with a JSON body (nil: no body; []byte or string: sent
// as is) and, when token is set, an Authorization: Bearer header.
func (s *server) do(t *testing.T, method, path, token string, body any) *response {
	t.Helper()
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	return s.doWith(t, method, path, h, body)
}

// doWith is do with full control over the headers. A JSON Content-Type is
// added to requests with a body unless h sets one.
func (s *server) doWith(t *testing.T, method, path string, h http.Header, body any) *response {
	t.Helper()
	r, err := s.send(method, path, h, body)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// send is doWith for goroutines, which must not stop the test.
func (s *server) send(method, path string, h http.Header, body any) (*response, error) {
	var rd io.Reader
	if body != nil {
		switch b := body.(type) {
		case []byte:
			rd = bytes.NewReader(b)
		case string:
			rd = strings.NewReader(b)
		default:
			raw, err := json.Marshal(b)
			if err != nil {
				return nil, fmt.Errorf("encode body: %w", err)
			}
			rd = bytes.NewReader(raw)
		}
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		return nil, fmt.Errorf("new request %s %s: %w", method, path, err)
	}
	req.Header.Set("User-Agent", userAgent)
	for k, v := range h {
		req.Header[k] = v
	}
	if body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := s.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, fmt.Errorf("read %s %s: %w", method, path, err)
	}
	r := &response{Method: method, Path: path, Status: res.StatusCode, Header: res.Header, Body: raw}
	_ = json.Unmarshal(raw, &r.JSON) // not every body is a JSON object
	return r, nil
}

// bearer returns the Authorization header of a token.
func bearer(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}}
}

// wantStatus stops the test unless the response has the status.
func wantStatus(t *testing.T, r *response, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: got status %d, want %d", r, r.Status, status)
	}
	if status != http.StatusNoContent && status < 300 && !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") && r.JSON != nil {
		t.Errorf("%s %s: got Content-Type %q, want application/json", r.Method, r.Path, r.Header.Get("Content-Type"))
	}
}

// wantProblem checks an RFC 9457 error: status, media type, code and the
// documented members.
func wantProblem(t *testing.T, r *response, status int, code string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: got status %d, want %d (%s)", r, r.Status, status, code)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Errorf("%s %s: got Content-Type %q, want application/problem+json", r.Method, r.Path, ct)
	}
	if r.JSON == nil {
		t.Fatalf("%s: body is not a JSON object", r)
	}
	if got := str(r.JSON, "code"); got != code {
		t.Errorf("%s: got code %q, want %q", r, got, code)
	}
	if got := num(r.JSON, "status"); int(got) != status {
		t.Errorf("%s %s: got status member %v, want %d", r.Method, r.Path, r.JSON["status"], status)
	}
	for _, k := range []string{"type", "title", "requestId"} {
		if _, ok := r.JSON[k]; !ok {
			t.Errorf("%s: problem lacks %q", r, k)
		}
	}
	if rid := str(r.JSON, "requestId"); rid != "" && rid != r.Header.Get("X-Request-Id") {
		t.Errorf("%s %s: got requestId %q, want the X-Request-Id header %q", r.Method, r.Path, rid, r.Header.Get("X-Request-Id"))
	}
}

// wantFieldError checks a 422 validation_failed naming field in errors[].
func wantFieldError(t *testing.T, r *response, field string) {
	t.Helper()
	wantProblem(t, r, http.StatusUnprocessableEntity, "validation_failed")
	errs, _ := r.JSON["errors"].([]any)
	var fields []string
	for _, e := range errs {
		m, _ := e.(map[string]any)
		fields = append(fields, str(m, "field"))
		if str(m, "field") == field && str(m, "message") != "" {
			return
		}
	}
	t.Errorf("%s: got errors for fields %q, want one for %q with a message", r, fields, field)
}

// wantKeys checks that m has every key (a null value counts).
func wantKeys(t *testing.T, what string, m map[string]any, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Errorf("%s: got keys %v, want %q among them", what, sortedKeys(m), k)
		}
	}
}

func sortedKeys(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }

// obj returns m[k] as an object, stopping the test if it is not one.
func obj(t *testing.T, m map[string]any, k string) map[string]any {
	t.Helper()
	v, ok := m[k].(map[string]any)
	if !ok {
		t.Fatalf("got %s = %#v, want an object", k, m[k])
	}
	return v
}

// list returns the data array of a list response and its nextCursor.
func list(t *testing.T, r *response) (data []map[string]any, next string) {
	t.Helper()
	wantStatus(t, r, http.StatusOK)
	raw, ok := r.JSON["data"].([]any)
	if !ok {
		t.Fatalf("%s: got data = %#v, want an array", r, r.JSON["data"])
	}
	nc, present := r.JSON["nextCursor"]
	if !present {
		t.Errorf("%s: nextCursor is missing; want a string or null", r)
	}
	if nc != nil {
		if next, ok = nc.(string); !ok || next == "" {
			t.Errorf("%s: got nextCursor %#v, want a non-empty string or null", r, nc)
		}
	}
	for _, e := range raw {
		m, ok := e.(map[string]any)
		if !ok {
			t.Fatalf("%s: got element %#v, want an object", r, e)
		}
		data = append(data, m)
	}
	return data, next
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func num(m map[string]any, k string) float64 {
	n, _ := m[k].(float64)
	return n
}

var seq atomic.Int64

// unique returns a name no other call returns, also across test runs
// (rate-limit counters in Redis outlive a run).
func unique(prefix string) string {
	b := make([]byte, 4)
	rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b) + "-" + strconv.FormatInt(seq.Add(1), 10)
}

// account is a registered user with a fresh token pair.
type account struct {
	Email, Password string
	UserID, SubID   string
	Access, Refresh string
}

const defaultPassword = "correct horse battery"

// register creates a fresh account and checks the 201.
func (s *server) register(t *testing.T) account {
	t.Helper()
	a := account{Email: unique("user") + "@example.com", Password: defaultPassword}
	r := s.do(t, "POST", "/api/v1/auth/register", "", map[string]any{
		"email": a.Email, "password": a.Password, "name": "Test User",
	})
	wantStatus(t, r, http.StatusCreated)
	a.UserID = str(obj(t, r.JSON, "user"), "id")
	a.SubID = str(obj(t, r.JSON, "subscription"), "id")
	tok := obj(t, r.JSON, "tokens")
	a.Access, a.Refresh = str(tok, "accessToken"), str(tok, "refreshToken")
	if a.Access == "" || a.Refresh == "" || a.UserID == "" || a.SubID == "" {
		t.Fatalf("%s: got an incomplete registration", r)
	}
	return a
}

// login logs in and returns the token pair.
func (s *server) login(t *testing.T, email, password string) (access, refresh string) {
	t.Helper()
	r := s.do(t, "POST", "/api/v1/auth/login", "", map[string]any{"email": email, "password": password})
	wantStatus(t, r, http.StatusOK)
	tok := obj(t, r.JSON, "tokens")
	return str(tok, "accessToken"), str(tok, "refreshToken")
}

// createInstance creates an instance and returns it.
func (s *server) createInstance(t *testing.T, token, name string) map[string]any {
	t.Helper()
	r := s.do(t, "POST", "/api/v1/instances", token, map[string]any{"name": name})
	wantStatus(t, r, http.StatusCreated)
	if str(r.JSON, "id") == "" {
		t.Fatalf("%s: instance has no id", r)
	}
	return r.JSON
}

// createKey creates an API key on an instance and returns its id and value.
func (s *server) createKey(t *testing.T, token, instanceID string, body map[string]any) (id, key string) {
	t.Helper()
	r := s.do(t, "POST", "/api/v1/instances/"+instanceID+"/api-keys", token, body)
	wantStatus(t, r, http.StatusCreated)
	id, key = str(r.JSON, "id"), str(r.JSON, "key")
	if id == "" || key == "" {
		t.Fatalf("%s: key has no id or value", r)
	}
	return id, key
}

// subscription returns the caller's subscription from /me.
func (s *server) subscription(t *testing.T, token string) map[string]any {
	t.Helper()
	r := s.do(t, "GET", "/api/v1/me", token, nil)
	wantStatus(t, r, http.StatusOK)
	return obj(t, r.JSON, "subscription")
}

// simulator starts an in-process WhatsApp simulator for the test, so that
// it can read what the simulated contacts received.
func simulator(t *testing.T, opt wasim.Options) *wasim.Server {
	t.Helper()
	sim := wasim.New(opt)
	if err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatalf("start simulator: %v", err)
	}
	t.Cleanup(func() { sim.Close() })
	return sim
}

// sandboxEnv is the environment of a sandbox server on b behind sim, with
// pacing off and the auth rate limit out of the way.
func sandboxEnv(t *testing.T, b backend, sim *wasim.Server) map[string]string {
	env := map[string]string{
		"WAGATE_JWT_SECRET":        jwtSecret,
		"WAGATE_LOG_LEVEL":         "info",
		"WAGATE_AUTH_RATE_PER_MIN": "100000",
		"WAGATE_WHATSAPP":          "sandbox",
		"WAGATE_SANDBOX_ADDR":      sim.Addr(),
		"WAGATE_SEND_DELAY":        "0",
	}
	maps.Copy(env, b.env(t))
	return env
}
