package httpgin

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestAccountFlow(t *testing.T) {
	e := newTestEnv(t, Options{})
	w := e.do(req{method: "POST", path: "/api/v1/auth/register", body: `{"email":"Ada@Example.com","password":"correct horse","name":"Ada"}`})
	var reg struct {
		User         UserDTO         `json:"user"`
		Subscription SubscriptionDTO `json:"subscription"`
		Tokens       TokensDTO       `json:"tokens"`
	}
	decodeBody(t, w, &reg)
	if w.Code != http.StatusCreated || reg.User.Email != "ada@example.com" || reg.User.Role != "owner" ||
		reg.Subscription.Tier != "basic" || reg.Subscription.InstanceLimit != 5 || reg.Tokens.TokenType != "Bearer" {
		t.Fatalf("register: got %d %s, want 201 with an owner on basic", w.Code, w.Body)
	}
	if !isUUID(reg.User.ID) || !isUUID(reg.Subscription.ID) {
		t.Fatalf("got ids %q and %q, want UUIDs", reg.User.ID, reg.Subscription.ID)
	}

	wantProblem(t, e.do(req{method: "POST", path: "/api/v1/auth/register", body: `{"email":"ada@example.com","password":"correct horse","name":"Ada"}`}), 409, "email_taken")
	p := wantProblem(t, e.do(req{method: "POST", path: "/api/v1/auth/register", body: `{"email":"b@example.com","password":"short","name":"B"}`}), 422, "validation_failed")
	if len(p.Errors) == 0 || p.Errors[0].Field != "password" {
		t.Fatalf("got errors %+v, want field password", p.Errors)
	}
	wantProblem(t, e.do(req{method: "POST", path: "/api/v1/auth/register", body: `{"email":"b@example.com","password":"correct horse","name":"B","role":"admin"}`}), 422, "validation_failed")
	wantProblem(t, e.do(req{method: "POST", path: "/api/v1/auth/login", body: `{"email":"ada@example.com","password":"wrong horse"}`}), 401, "invalid_credentials")
	wantProblem(t, e.do(req{method: "POST", path: "/api/v1/auth/login", body: `{"email":"nobody@example.com","password":"wrong horse"}`}), 401, "invalid_credentials")

	w = e.do(req{method: "GET", path: "/api/v1/me", token: reg.Tokens.AccessToken})
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"subscription":{`) || strings.Contains(w.Body.String(), `"tokens"`) {
		t.Fatalf("me: got %d %s, want 200 {user,subscription}", w.Code, w.Body)
	}

	w = e.do(req{method: "POST", path: "/api/v1/auth/refresh", body: `{"refreshToken":"` + reg.Tokens.RefreshToken + `"}`})
	var ref struct {
		Tokens TokensDTO `json:"tokens"`
	}
	decodeBody(t, w, &ref)
	if w.Code != 200 || ref.Tokens.RefreshToken == "" || ref.Tokens.RefreshToken == reg.Tokens.RefreshToken {
		t.Fatalf("refresh: got %d %s, want a rotated pair", w.Code, w.Body)
	}
	wantProblem(t, e.do(req{method: "POST", path: "/api/v1/auth/refresh", body: `{"refreshToken":"` + reg.Tokens.RefreshToken + `"}`}), 401, "token_revoked")

	w = e.do(req{method: "POST", path: "/api/v1/auth/login", body: `{"email":"ada@example.com","password":"correct horse"}`})
	var login struct {
		Tokens TokensDTO `json:"tokens"`
	}
	decodeBody(t, w, &login)
	w = e.do(req{method: "POST", path: "/api/v1/auth/password", token: login.Tokens.AccessToken,
		body: `{"currentPassword":"correct horse","newPassword":"battery staple"}`})
	if w.Code != http.StatusNoContent || w.Body.Len() != 0 {
		t.Fatalf("password: got %d %s, want 204", w.Code, w.Body)
	}
	wantProblem(t, e.do(req{method: "GET", path: "/api/v1/me", token: login.Tokens.AccessToken}), 401, "token_revoked")

	w = e.do(req{method: "POST", path: "/api/v1/auth/login", body: `{"email":"ada@example.com","password":"battery staple"}`})
	decodeBody(t, w, &login)
	if w = e.do(req{method: "POST", path: "/api/v1/auth/logout", token: login.Tokens.AccessToken}); w.Code != http.StatusNoContent {
		t.Fatalf("logout without a body: got %d %s, want 204", w.Code, w.Body)
	}
	wantProblem(t, e.do(req{method: "GET", path: "/api/v1/me", token: login.Tokens.AccessToken}), 401, "token_revoked")
	wantProblem(t, e.do(req{method: "POST", path: "/api/v1/auth/logout"}), 401, "unauthorized")
}

func TestInstancesAndKeysFlow(t *testing.T) {
	e := newTestEnv(t, Options{})
	access, _ := e.account("owner@example.com")
	other, _ := e.account("other@example.com")

	w := e.do(req{method: "POST", path: "/api/v1/instances", token: access,
		body: `{"name":"sales","metadata":{"team":"emea"},"proxyUrl":"socks5://bob:hunter2@proxy.example.com:1080"}`})
	var inst InstanceDTO
	decodeBody(t, w, &inst)
	if w.Code != http.StatusCreated || inst.Status != "created" || inst.Metadata["team"] != "emea" || !isUUID(inst.ID) {
		t.Fatalf("create: got %d %s, want 201 created", w.Code, w.Body)
	}
	if strings.Contains(w.Body.String(), "hunter2") || inst.ProxyURL == nil || !strings.Contains(*inst.ProxyURL, "bob:****@proxy.example.com") {
		t.Fatalf("got proxyUrl %v, want the password redacted", inst.ProxyURL)
	}
	for _, field := range []string{`"statusReason":null`, `"phoneNumber":null`, `"jid":null`, `"pushName":null`, `"lastConnectedAt":null`} {
		if !strings.Contains(w.Body.String(), field) {
			t.Fatalf("got %s, want %s", w.Body, field)
		}
	}
	if _, err := time.Parse(time.RFC3339, inst.CreatedAt.Format(time.RFC3339)); err != nil || inst.CreatedAt.Location() != time.UTC {
		t.Fatalf("got createdAt %v, want UTC", inst.CreatedAt)
	}
	wantProblem(t, e.do(req{method: "POST", path: "/api/v1/instances", token: access, body: `{"name":"sales"}`}), 409, "name_taken")
	wantProblem(t, e.do(req{method: "POST", path: "/api/v1/instances", token: access, body: `{"name":"x","colour":"red"}`}), 422, "validation_failed")

	path := "/api/v1/instances/" + inst.ID
	wantProblem(t, e.do(req{method: "GET", path: path, token: other}), 404, "not_found")
	wantProblem(t, e.do(req{method: "DELETE", path: path, token: other}), 404, "not_found")

	w = e.do(req{method: "PATCH", path: path, token: access, body: `{"name":"support"}`})
	var patched InstanceDTO
	decodeBody(t, w, &patched)
	if w.Code != 200 || patched.Name != "support" || patched.Metadata["team"] != "emea" || patched.ProxyURL == nil {
		t.Fatalf("patch: got %d %s, want the name changed and the rest kept", w.Code, w.Body)
	}
	w = e.do(req{method: "PATCH", path: path, token: access, body: `{"proxyUrl":""}`})
	decodeBody(t, w, &patched)
	if w.Code != 200 || patched.ProxyURL != nil {
		t.Fatalf("patch proxyUrl \"\": got %d %s, want the proxy removed", w.Code, w.Body)
	}

	// API keys.
	w = e.do(req{method: "POST", path: path + "/api-keys", token: access, body: `{"name":"ci","scopes":["instance:read"]}`})
	var key APIKeyDTO
	decodeBody(t, w, &key)
	if w.Code != http.StatusCreated || !strings.HasPrefix(key.Key, "wag_") || len(key.Scopes) != 1 || !strings.HasPrefix(key.Key, key.Prefix) {
		t.Fatalf("create key: got %d %s, want 201 with the key shown", w.Code, w.Body)
	}
	p := wantProblem(t, e.do(req{method: "POST", path: path + "/api-keys", token: access, body: `{"name":"x","expiresAt":"tomorrow"}`}), 422, "validation_failed")
	if p.Errors[0].Field != "expiresAt" {
		t.Fatalf("got errors %+v, want field expiresAt", p.Errors)
	}
	// An explicit empty list is not the default of all scopes.
	p = wantProblem(t, e.do(req{method: "POST", path: path + "/api-keys", token: access, body: `{"name":"x","scopes":[]}`}), 422, "validation_failed")
	if len(p.Errors) != 1 || p.Errors[0].Field != "scopes" {
		t.Fatalf("scopes []: got errors %+v, want field scopes", p.Errors)
	}
	w = e.do(req{method: "GET", path: path + "/api-keys", token: access})
	if w.Code != 200 || strings.Contains(w.Body.String(), `"key"`) || !strings.Contains(w.Body.String(), key.ID) {
		t.Fatalf("list keys: got %d %s, want the key listed without its value", w.Code, w.Body)
	}

	w = e.do(req{method: "GET", path: "/api/v1/instance", token: key.Key})
	var own InstanceDTO
	decodeBody(t, w, &own)
	if w.Code != 200 || own.ID != inst.ID {
		t.Fatalf("own instance: got %d %s, want the key's instance", w.Code, w.Body)
	}
	// Keys count against their subscription, shared with its users.
	if w.Header().Get("RateLimit-Limit") != "600" || w.Header().Get("X-RateLimit-Remaining") == "" {
		t.Fatalf("got RateLimit-Limit %q, want the subscription's 600", w.Header().Get("RateLimit-Limit"))
	}
	for _, r := range []req{
		{method: "GET", path: "/api/v1/me"},
		{method: "GET", path: "/api/v1/instances"},
		{method: "GET", path: path + "/api-keys"},
		{method: "GET", path: "/api/v1/admin/subscriptions"},
		{method: "POST", path: "/api/v1/auth/logout"},
	} {
		r.token = key.Key
		wantProblem(t, e.do(r), 403, "forbidden")
	}
	wantProblem(t, e.do(req{method: "GET", path: "/api/v1/instance", token: access}), 403, "forbidden")

	if w = e.do(req{method: "DELETE", path: path + "/api-keys/" + key.ID, token: access}); w.Code != http.StatusNoContent {
		t.Fatalf("delete key: got %d %s, want 204", w.Code, w.Body)
	}
	wantProblem(t, e.do(req{method: "GET", path: "/api/v1/instance", token: key.Key}), 401, "unauthorized")

	w = e.do(req{method: "GET", path: "/api/v1/audit-logs", token: access})
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"data":[{`) || strings.Contains(w.Body.String(), key.Key) {
		t.Fatalf("audit: got %d %s, want entries without secrets", w.Code, w.Body)
	}

	if w = e.do(req{method: "DELETE", path: path, token: access}); w.Code != http.StatusNoContent {
		t.Fatalf("delete: got %d %s, want 204", w.Code, w.Body)
	}
	wantProblem(t, e.do(req{method: "GET", path: path, token: access}), 404, "not_found")
}

func TestInstanceLimit(t *testing.T) {
	e := newTestEnv(t, Options{})
	access, _ := e.account("limit@example.com")
	for i := range 5 {
		if w := e.do(req{method: "POST", path: "/api/v1/instances", token: access, body: `{"name":"n` + string(rune('a'+i)) + `"}`}); w.Code != 201 {
			t.Fatalf("create %d: got %d %s, want 201", i, w.Code, w.Body)
		}
	}
	wantProblem(t, e.do(req{method: "POST", path: "/api/v1/instances", token: access, body: `{"name":"sixth"}`}), 403, "instance_limit_reached")
}
