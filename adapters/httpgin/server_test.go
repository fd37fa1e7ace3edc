package httpgin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/wagate/wagate/core/tenancy"
	"github.com/wagate/wagate/ports"
)

func TestUnauthorized(t *testing.T) {
	e := newTestEnv(t, Options{})
	tests := []struct {
		name, header string
	}{
		{"missing", ""},
		{"basic scheme", "Basic YWxhZGRpbjpvcGVuc2VzYW1l"},
		{"no token", "Bearer "},
		{"two words", "Bearer a b"},
		{"unknown jwt", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig"},
		{"unknown api key", "Bearer wag_0123456789abcdefghijklmnopqrstuvwxyzAB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.do(req{method: "GET", path: "/api/v1/me", header: map[string]string{"Authorization": tt.header}})
			p := wantProblem(t, w, http.StatusUnauthorized, "unauthorized")
			if got := w.Header().Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
				t.Fatalf("got WWW-Authenticate %q, want a Bearer challenge", got)
			}
			if strings.Contains(p.Detail, "wag_") || strings.Contains(p.Detail, "eyJ") {
				t.Fatalf("got detail %q, want the token not echoed", p.Detail)
			}
		})
	}
}

func TestAuthIPRateLimit(t *testing.T) {
	e := newTestEnv(t, Options{AuthRatePerMin: 3})
	const ip = "203.0.113.9"
	login := func(remote string, xff string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "/api/v1/auth/login", strings.NewReader(`{"email":"x@example.com","password":"wrong password"}`))
		r.Header.Set("Content-Type", "application/json")
		r.RemoteAddr = remote + ":4711"
		if xff != "" {
			r.Header.Set("X-Forwarded-For", xff)
		}
		w := httptest.NewRecorder()
		e.engine.ServeHTTP(w, r)
		return w
	}
	for i, want := range []int{2, 1, 0} {
		w := login(ip, "198.51.100."+strconv.Itoa(i)) // an untrusted X-Forwarded-For is ignored
		wantProblem(t, w, http.StatusUnauthorized, "invalid_credentials")
		wantRateHeaders(t, w, 3, want)
	}
	w := login(ip, "")
	wantProblem(t, w, http.StatusTooManyRequests, "rate_limited")
	wantRateHeaders(t, w, 3, 0)
	ra, err := strconv.Atoi(w.Header().Get("Retry-After"))
	if err != nil || ra < 1 || ra > 60 {
		t.Fatalf("got Retry-After %q, want 1–60 seconds", w.Header().Get("Retry-After"))
	}
	// The register and refresh routes share the per-IP counter.
	r := httptest.NewRequest("POST", "/api/v1/auth/register", strings.NewReader(`{}`))
	r.RemoteAddr = ip + ":4711"
	rw := httptest.NewRecorder()
	e.engine.ServeHTTP(rw, r)
	wantProblem(t, rw, http.StatusTooManyRequests, "rate_limited")

	if w := login("203.0.113.10", ""); w.Code != http.StatusUnauthorized {
		t.Fatalf("another IP: got %d, want 401 (its own counter)", w.Code)
	}
}

func TestAuthIPRateLimitBehindTrustedProxy(t *testing.T) {
	e := newTestEnv(t, Options{AuthRatePerMin: 1, TrustedProxies: []string{"10.0.0.0/8"}})
	send := func(client string) int {
		r := httptest.NewRequest("POST", "/api/v1/auth/refresh", strings.NewReader(`{"refreshToken":"nope"}`))
		r.Header.Set("Content-Type", "application/json")
		r.RemoteAddr = "10.1.2.3:4711"
		r.Header.Set("X-Forwarded-For", client)
		w := httptest.NewRecorder()
		e.engine.ServeHTTP(w, r)
		return w.Code
	}
	if got := send("198.51.100.1"); got != http.StatusUnauthorized {
		t.Fatalf("first client: got %d, want 401", got)
	}
	if got := send("198.51.100.2"); got != http.StatusUnauthorized {
		t.Fatalf("second client behind the proxy: got %d, want 401 (counted apart)", got)
	}
	if got := send("198.51.100.1"); got != http.StatusTooManyRequests {
		t.Fatalf("first client again: got %d, want 429", got)
	}
}

func wantRateHeaders(t *testing.T, w *httptest.ResponseRecorder, limit, remaining int) {
	t.Helper()
	for _, p := range []string{"", "X-"} {
		if got := w.Header().Get(p + "RateLimit-Limit"); got != strconv.Itoa(limit) {
			t.Fatalf("got %sRateLimit-Limit %q, want %d", p, got, limit)
		}
		if got := w.Header().Get(p + "RateLimit-Remaining"); got != strconv.Itoa(remaining) {
			t.Fatalf("got %sRateLimit-Remaining %q, want %d", p, got, remaining)
		}
		reset, err := strconv.Atoi(w.Header().Get(p + "RateLimit-Reset"))
		if err != nil || reset < 0 || reset > 60 {
			t.Fatalf("got %sRateLimit-Reset %q, want 0–60 seconds", p, w.Header().Get(p+"RateLimit-Reset"))
		}
	}
}

func TestAPIRateHeaders(t *testing.T) {
	e := newTestEnv(t, Options{})
	access, _ := e.account("rate@example.com")
	w := e.do(req{method: "GET", path: "/api/v1/me", token: access})
	if w.Code != 200 {
		t.Fatalf("got %d %s, want 200", w.Code, w.Body)
	}
	wantRateHeaders(t, w, 600, 599)
}

func TestAPIRateLimit(t *testing.T) {
	tiers := ports.DefaultTiers()
	tiers[ports.TierBasic] = ports.TierLimits{Instances: 5, RequestsPerMinute: 2}
	e := newTestEnvTiers(t, Options{}, tiers)
	access, _ := e.account("busy@example.com")
	for _, want := range []int{1, 0} {
		w := e.do(req{method: "GET", path: "/api/v1/me", token: access})
		if w.Code != 200 {
			t.Fatalf("got %d %s, want 200", w.Code, w.Body)
		}
		wantRateHeaders(t, w, 2, want)
	}
	w := e.do(req{method: "GET", path: "/api/v1/instances", token: access})
	wantProblem(t, w, http.StatusTooManyRequests, "rate_limited")
	wantRateHeaders(t, w, 2, 0)
	if ra, err := strconv.Atoi(w.Header().Get("Retry-After")); err != nil || ra < 1 || ra > 60 {
		t.Fatalf("got Retry-After %q, want 1–60 seconds", w.Header().Get("Retry-After"))
	}
}

func TestPathIDsMustBeUUIDs(t *testing.T) {
	e := newTestEnv(t, Options{})
	access, _ := e.account("ids@example.com")
	id := uuid.Must(uuid.NewV7()).String()
	for _, r := range []req{
		{method: "GET", path: "/api/v1/instances/abc"},
		{method: "GET", path: "/api/v1/instances/1"},
		{method: "GET", path: "/api/v1/instances/" + strings.ReplaceAll(id, "-", "")},
		{method: "GET", path: "/api/v1/instances/%7B" + id + "%7D"},
		{method: "GET", path: "/api/v1/instances/urn:uuid:" + id},
		{method: "PATCH", path: "/api/v1/instances/x", body: `{"name":"a"}`},
		{method: "DELETE", path: "/api/v1/instances/' OR 1=1 --"},
		{method: "GET", path: "/api/v1/instances/abc/api-keys"},
		{method: "DELETE", path: "/api/v1/instances/" + id + "/api-keys/xyz"},
		{method: "PATCH", path: "/api/v1/admin/subscriptions/1", body: `{"tier":"pro"}`},
	} {
		r.token = access
		r.path = strings.ReplaceAll(r.path, " ", "%20")
		wantProblem(t, e.do(r), http.StatusNotFound, "not_found")
	}
	// A well-formed id of nothing reaches the core, which answers 404 too.
	wantProblem(t, e.do(req{method: "GET", path: "/api/v1/instances/" + id, token: access}), http.StatusNotFound, "not_found")
}

func TestListLimit(t *testing.T) {
	e := newTestEnv(t, Options{})
	access, _ := e.account("lists@example.com")
	for _, path := range []string{"/api/v1/instances", "/api/v1/audit-logs"} {
		for _, limit := range []string{"0", "-1", "201", "abc", "1.5", ""} {
			w := e.do(req{method: "GET", path: path + "?limit=" + limit, token: access})
			p := wantProblem(t, w, http.StatusUnprocessableEntity, "validation_failed")
			if len(p.Errors) != 1 || p.Errors[0].Field != "limit" {
				t.Fatalf("%s limit=%q: got errors %+v, want field limit", path, limit, p.Errors)
			}
		}
		for _, limit := range []string{"1", "200"} {
			if w := e.do(req{method: "GET", path: path + "?limit=" + limit, token: access}); w.Code != 200 {
				t.Fatalf("%s limit=%s: got %d %s, want 200", path, limit, w.Code, w.Body)
			}
		}
	}
}

func TestListPaging(t *testing.T) {
	e := newTestEnv(t, Options{})
	access, _ := e.account("paging@example.com")
	for i := range 3 {
		w := e.do(req{method: "POST", path: "/api/v1/instances", token: access, body: fmt.Sprintf(`{"name":"inst-%d"}`, i)})
		if w.Code != http.StatusCreated {
			t.Fatalf("create: got %d %s, want 201", w.Code, w.Body)
		}
	}
	var names []string
	path := "/api/v1/instances?limit=2"
	for range 3 {
		w := e.do(req{method: "GET", path: path, token: access})
		var page struct {
			Data       []InstanceDTO `json:"data"`
			NextCursor *string       `json:"nextCursor"`
		}
		decodeBody(t, w, &page)
		for _, i := range page.Data {
			names = append(names, i.Name)
		}
		if page.NextCursor == nil {
			if !strings.Contains(w.Body.String(), `"nextCursor":null`) {
				t.Fatalf("got %s, want nextCursor null on the last page", w.Body)
			}
			break
		}
		path = "/api/v1/instances?limit=2&cursor=" + *page.NextCursor
	}
	if !slices.Equal(names, []string{"inst-0", "inst-1", "inst-2"}) {
		t.Fatalf("got %v, want the three instances in order", names)
	}
}

func TestHealthz(t *testing.T) {
	e := newTestEnv(t, Options{})
	w := e.do(req{method: "GET", path: "/healthz"})
	if w.Code != 200 || strings.TrimSpace(w.Body.String()) != `{"status":"ok"}` {
		t.Fatalf("got %d %s, want 200 {\"status\":\"ok\"}", w.Code, w.Body)
	}
}

type pinger func(context.Context) error

func (p pinger) Ping(ctx context.Context) error { return p(ctx) }

func TestReadyz(t *testing.T) {
	ok := pinger(func(context.Context) error { return nil })
	down := pinger(func(context.Context) error { return errors.New("dial tcp 10.0.0.5:5432: connection refused") })
	hung := pinger(func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })

	e := newTestEnv(t, Options{Ready: []ReadyCheck{{"db", ok}, {"redis", ok}}})
	w := e.do(req{method: "GET", path: "/readyz"})
	if w.Code != 200 || strings.TrimSpace(w.Body.String()) != `{"checks":{"db":"ok","redis":"ok"},"status":"ok"}` {
		t.Fatalf("got %d %s, want 200 with every check ok", w.Code, w.Body)
	}

	e = newTestEnv(t, Options{Ready: []ReadyCheck{{"db", down}, {"redis", ok}, {"queue", hung}}})
	w = e.do(req{method: "GET", path: "/readyz"})
	var body struct {
		Status string            `json:"status"`
		Checks map[string]string `json:"checks"`
	}
	decodeBody(t, w, &body)
	want := map[string]string{"db": "error", "redis": "ok", "queue": "error"}
	if w.Code != 503 || body.Status != "unavailable" || fmt.Sprint(body.Checks) != fmt.Sprint(want) {
		t.Fatalf("got %d %s, want 503 unavailable with %v", w.Code, w.Body, want)
	}
	if strings.Contains(w.Body.String(), "10.0.0.5") {
		t.Fatalf("got %s, want no error text", w.Body)
	}
	if !strings.Contains(e.logs.String(), "connection refused") {
		t.Fatalf("got log %s, want the failure logged", e.logs)
	}
}

// With a metrics token set, /metrics answers only a scraper that sends it;
// without one (TestMetrics) it stays open.
func TestMetricsToken(t *testing.T) {
	e := newTestEnv(t, Options{MetricsToken: "scrape-me-0123456789"})
	for name, r := range map[string]req{
		"no header":      {method: "GET", path: "/metrics"},
		"wrong token":    {method: "GET", path: "/metrics", token: "scrape-me-0123456788"},
		"token prefix":   {method: "GET", path: "/metrics", token: "scrape-me"},
		"another scheme": {method: "GET", path: "/metrics", header: map[string]string{"Authorization": "Basic c2NyYXBlLW1lLTAxMjM0NTY3ODk="}},
	} {
		w := e.do(r)
		if w.Code != http.StatusUnauthorized || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/problem+json") {
			t.Errorf("%s: got %d %s, want 401 problem+json", name, w.Code, w.Header().Get("Content-Type"))
		}
		if strings.Contains(w.Body.String(), "wagate_http_requests_total") {
			t.Errorf("%s: got the metrics in a refusal", name)
		}
	}
	w := e.do(req{method: "GET", path: "/metrics", token: "scrape-me-0123456789"})
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "wagate_http_requests_total") {
		t.Fatalf("right token: got %d, want 200 with the metrics", w.Code)
	}
}

func TestMetrics(t *testing.T) {
	e := newTestEnv(t, Options{})
	e.do(req{method: "GET", path: "/healthz"})
	e.do(req{method: "GET", path: "/no/such/" + uuid.NewString()})
	e.do(req{method: "GET", path: "/api/v1/instances/abc"})
	w := e.do(req{method: "GET", path: "/metrics"})
	if w.Code != 200 {
		t.Fatalf("got %d, want 200", w.Code)
	}
	body := w.Body.String()
	for _, want := range []string{
		`wagate_http_requests_total{method="GET",route="/healthz",status="200"} 1`,
		`wagate_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`wagate_http_requests_total{method="GET",route="/api/v1/instances/:id",status="401"} 1`,
		`wagate_http_request_duration_seconds_bucket{method="GET",route="/healthz",le="+Inf"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Fatalf("got metrics without %s:\n%s", want, body)
		}
	}
	n, err := testutil.GatherAndCount(e.reg, "wagate_http_requests_total")
	// healthz, unmatched, the instance template and /metrics itself.
	if err != nil || n != 4 {
		t.Fatalf("got %d series (%v), want 4: raw paths must not become labels", n, err)
	}
}

func TestMetricsSharedRegistry(t *testing.T) {
	first := newTestEnv(t, Options{})
	second := newTestEnv(t, Options{Metrics: first.reg})
	second.do(req{method: "GET", path: "/healthz"})
	first.do(req{method: "GET", path: "/healthz"})
	if !strings.Contains(first.do(req{method: "GET", path: "/metrics"}).Body.String(),
		`wagate_http_requests_total{method="GET",route="/healthz",status="200"} 2`) {
		t.Fatalf("got separate counters, want both engines counting in the shared registry")
	}
}

func TestAccessLog(t *testing.T) {
	e := newTestEnv(t, Options{})
	access, _ := e.account("logs@example.com")
	w := e.do(req{method: "GET", path: "/api/v1/me?access_token=" + access, token: access})
	if w.Code != 200 {
		t.Fatalf("got %d, want 200", w.Code)
	}
	var line map[string]any
	for l := range strings.Lines(e.logs.String()) {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == "http request" && m["route"] == "/api/v1/me" {
			line = m
		}
	}
	if line == nil {
		t.Fatalf("got log %s, want an access line for /api/v1/me", e.logs)
	}
	if line["request_id"] != w.Header().Get(HeaderRequestID) || line["status"] != float64(200) || line["subscription_id"] == "" {
		t.Fatalf("got %v, want request id, status and subscription id", line)
	}
	if strings.Contains(e.logs.String(), access) {
		t.Fatalf("got the access token in the log, want it never logged")
	}
}

// TestRoutesMatchOpenAPI checks every mode: the router has exactly the
// documented routes, minus those marked x-sandbox-only outside sandbox mode
// and those marked x-requires-redis without the queue monitor.
func TestRoutesMatchOpenAPI(t *testing.T) {
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	full := newTestEnv(t, Options{Sandbox: &fakeSimulator{}, QueueUI: http.NotFoundHandler()})
	w := full.do(req{method: "GET", path: "/openapi.json"})
	if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("got %d %q, want 200 application/json", w.Code, w.Header().Get("Content-Type"))
	}
	decodeBody(t, w, &doc)
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Fatalf("got openapi %q, want 3.1", doc.OpenAPI)
	}
	modes := []struct {
		name           string
		opt            Options
		sandbox, redis bool
	}{
		{"sandbox mode with redis", Options{Sandbox: &fakeSimulator{}, QueueUI: http.NotFoundHandler()}, true, true},
		{"sandbox mode", Options{Sandbox: &fakeSimulator{}}, true, false},
		{"live mode with redis", Options{QueueUI: http.NotFoundHandler()}, false, true},
		{"live mode", Options{}, false, false},
	}
	marked := map[string]int{}
	for _, m := range modes {
		want := map[string]bool{}
		for path, item := range doc.Paths {
			sandboxOnly := string(item["x-sandbox-only"]) == "true"
			redisOnly := string(item["x-requires-redis"]) == "true"
			if sandboxOnly {
				marked["x-sandbox-only"]++
			}
			if redisOnly {
				marked["x-requires-redis"]++
			}
			if sandboxOnly && !m.sandbox || redisOnly && !m.redis {
				continue
			}
			for method := range item {
				switch method {
				case "get", "put", "post", "delete", "options", "head", "patch", "trace":
					want[strings.ToUpper(method)+" "+path] = true
				}
			}
		}
		compareRoutes(t, m.name, newTestEnv(t, m.opt).engine, want)
	}
	for _, ext := range []string{"x-sandbox-only", "x-requires-redis"} {
		if marked[ext] == 0 {
			t.Errorf("got no %s routes in openapi.json, want them marked", ext)
		}
	}
}

// compareRoutes checks that the engine routes exactly the documented set.
func compareRoutes(t *testing.T, mode string, e *gin.Engine, documented map[string]bool) {
	t.Helper()
	routed := map[string]bool{}
	for _, r := range e.Routes() {
		routed[r.Method+" "+ginToOpenAPI(r.Path)] = true
	}
	for k := range routed {
		if !documented[k] {
			t.Errorf("%s: route %s is not in openapi.json", mode, k)
		}
	}
	for k := range documented {
		if !routed[k] {
			t.Errorf("%s: openapi.json documents %s, which the router does not have", mode, k)
		}
	}
	if len(routed) == 0 {
		t.Fatalf("%s: got no routes, want the API's", mode)
	}
}

// ginToOpenAPI turns /a/:id into /a/{id}, and a catch-all /a/*path into
// /a/{path}.
func ginToOpenAPI(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if name, ok := strings.CutPrefix(s, ":"); ok {
			parts[i] = "{" + name + "}"
		}
		if name, ok := strings.CutPrefix(s, "*"); ok {
			parts[i] = "{" + name + "}"
		}
	}
	return strings.Join(parts, "/")
}

// TestOpenAPIRefsResolve keeps the hand-written document consistent: every
// $ref names a component that exists.
func TestOpenAPIRefsResolve(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatalf("parse openapi.json: %v", err)
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				var cur any = doc
				for _, k := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
					m, _ := cur.(map[string]any)
					cur = m[k]
				}
				if cur == nil {
					t.Errorf("got a dangling $ref %s", ref)
				}
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)
}

func TestAdminRoutes(t *testing.T) {
	e := newTestEnv(t, Options{})
	userAccess, _ := e.account("owner@example.com")
	if _, err := e.tenancy.CreateUser(context.Background(), tenancy.CreateUserCmd{
		Email: "admin@example.com", Password: "admin password", Name: "Op", Admin: true,
	}); err != nil {
		t.Fatalf("create admin: %v", err)
	}
	w := e.do(req{method: "POST", path: "/api/v1/auth/login", body: `{"email":"admin@example.com","password":"admin password"}`})
	var login struct {
		User   UserDTO   `json:"user"`
		Tokens TokensDTO `json:"tokens"`
	}
	decodeBody(t, w, &login)
	if w.Code != 200 || login.User.Role != "admin" || login.Tokens.TokenType != "Bearer" || login.Tokens.ExpiresIn != 900 {
		t.Fatalf("admin login: got %d %s, want 200 with an admin and Bearer tokens for 900 s", w.Code, w.Body)
	}
	admin := login.Tokens.AccessToken

	wantProblem(t, e.do(req{method: "GET", path: "/api/v1/admin/subscriptions", token: userAccess}), 403, "forbidden")

	w = e.do(req{method: "GET", path: "/api/v1/admin/subscriptions", token: admin})
	var subs struct {
		Data []SubscriptionDTO `json:"data"`
	}
	decodeBody(t, w, &subs)
	if w.Code != 200 || len(subs.Data) != 2 {
		t.Fatalf("got %d %s, want 200 with two subscriptions", w.Code, w.Body)
	}
	var target SubscriptionDTO
	for _, s := range subs.Data {
		if s.InstanceLimit == 5 {
			target = s
		}
	}
	w = e.do(req{method: "PATCH", path: "/api/v1/admin/subscriptions/" + target.ID, token: admin, body: `{"tier":"pro"}`})
	var changed SubscriptionDTO
	decodeBody(t, w, &changed)
	if w.Code != 200 || changed.Tier != "pro" || changed.InstanceLimit != 20 {
		t.Fatalf("got %d %s, want 200 pro with limit 20", w.Code, w.Body)
	}
	p := wantProblem(t, e.do(req{method: "PATCH", path: "/api/v1/admin/subscriptions/" + target.ID, token: admin, body: `{"tier":"gold"}`}), 422, "validation_failed")
	if len(p.Errors) == 0 || p.Errors[0].Field != "tier" {
		t.Fatalf("got errors %+v, want field tier", p.Errors)
	}
}

// downLimiter is a rate limiter whose store does not answer.
type downLimiter struct{}

func (downLimiter) Take(context.Context, string, ports.Limit) (ports.RateResult, error) {
	return ports.RateResult{}, fmt.Errorf("rate limit take: %w", ports.Errorf(ports.EUnavailable, "the rate limiter is unavailable"))
}

func (downLimiter) Peek(context.Context, string, ports.Limit) (ports.RateResult, error) {
	return ports.RateResult{}, errors.New("unused")
}

func (downLimiter) Reset(context.Context, string, ports.Limit) error { return errors.New("unused") }

// TestAuthLimiterDown: without a working limiter the auth routes refuse
// (503) rather than let password guessing through unlimited.
func TestAuthLimiterDown(t *testing.T) {
	e := newTestEnv(t, Options{Limiter: downLimiter{}})
	w := e.do(req{method: "POST", path: "/api/v1/auth/login", body: `{"email":"a@example.com","password":"whatever1"}`})
	wantProblem(t, w, http.StatusServiceUnavailable, "unavailable")
}
