package multinode

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// revocationWithin is issue 17's bound: a credential revoked on one node
// is refused on every other node within a second.
const revocationWithin = time.Second

// TestRevocationReachesTheOtherNode starts two nodes whose principal
// caches would trust a credential for a minute: only the revocation
// channel can make the second node refuse a key deleted, a token logged
// out or a password changed on the first within revocationWithin.
func TestRevocationReachesTheOtherNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two servers")
	}
	dir, bin, dbURL, redisURL, prefix := setUp(t)
	var nodes []*proc
	for i := range 2 {
		name := fmt.Sprintf("node-%d", i)
		env := map[string]string{
			"WAGATE_ADDR": freeAddr(t), "WAGATE_NODE_ID": name, "WAGATE_DATA_DIR": filepath.Join(dir, name),
			"WAGATE_DATABASE_URL": dbURL, "WAGATE_DATABASE_MAX_CONNS": "4",
			"WAGATE_REDIS_URL": redisURL, "WAGATE_REDIS_PREFIX": strings.TrimSuffix(prefix, ":"),
			"WAGATE_JWT_SECRET": jwtSecret, "WAGATE_WHATSAPP": "sandbox", "WAGATE_SANDBOX_ADDR": "127.0.0.1:1",
			"WAGATE_AUTH_CACHE_TTL": "1m", "WAGATE_AUTH_RATE_PER_MIN": "100000", "WAGATE_LOG_LEVEL": "warn",
		}
		if i == 0 {
			env["WAGATE_MIGRATE_ON_START"] = "true"
		}
		p := start(t, bin, dir, name, []string{"serve"}, env)
		p.waitUp(t, "/healthz")
		nodes = append(nodes, p)
	}
	first, second := nodes[0], nodes[1]
	token := register(t, first, "ada@example.com")

	code, inst := call(t, first, "POST", "/api/v1/instances", token, map[string]string{"name": "main"})
	if code != http.StatusCreated {
		t.Fatalf("create instance: got %d %v", code, inst)
	}
	keysPath := "/api/v1/instances/" + str(inst, "id") + "/api-keys"
	code, key := call(t, first, "POST", keysPath, token, map[string]string{"name": "ci"})
	if code != http.StatusCreated {
		t.Fatalf("create key: got %d %v", code, key)
	}
	refusedWithin(t, second, "/api/v1/instance", str(key, "key"), "a deleted key", func() {
		if code, body := call(t, first, "DELETE", keysPath+"/"+str(key, "id"), token, nil); code != http.StatusNoContent {
			t.Fatalf("delete key: got %d %v", code, body)
		}
	})
	refusedWithin(t, second, "/api/v1/me", token, "a logged-out token", func() {
		if code, body := call(t, first, "POST", "/api/v1/auth/logout", token, map[string]string{}); code != http.StatusNoContent {
			t.Fatalf("logout: got %d %v", code, body)
		}
	})
	other := register(t, first, "bob@example.com")
	refusedWithin(t, second, "/api/v1/me", other, "a token from before a password change", func() {
		body := map[string]string{"currentPassword": password, "newPassword": "another horse battery"}
		if code, resp := call(t, first, "POST", "/api/v1/auth/password", other, body); code != http.StatusNoContent {
			t.Fatalf("change password: got %d %v", code, resp)
		}
	})
	checkMemberRevocations(t, first, second)
}

// register signs an account up on p and returns its access token.
func register(t *testing.T, p *proc, email string) string {
	t.Helper()
	code, body := call(t, p, "POST", "/api/v1/auth/register", "", map[string]string{"email": email, "password": password, "name": "Ada"})
	if code != http.StatusCreated {
		t.Fatalf("register %s: got %d %v", email, code, body)
	}
	toks, _ := body["tokens"].(map[string]any)
	return str(toks, "accessToken")
}

// refusedWithin checks that credential works on p (and so is cached there),
// revokes it with revoke, and waits for p to answer 401.
func refusedWithin(t *testing.T, p *proc, path, credential, what string, revoke func()) {
	t.Helper()
	for range 2 {
		if code, body := call(t, p, "GET", path, credential, nil); code != http.StatusOK {
			t.Fatalf("%s before its revocation: got %d %v, want 200", what, code, body)
		}
	}
	revoke()
	start := time.Now()
	poll(t, revocationWithin, what+" refused on "+p.name, func() bool {
		code, _ := call(t, p, "GET", path, credential, nil)
		return code == http.StatusUnauthorized
	})
	t.Logf("%s refused on %s after %v", what, p.name, time.Since(start).Round(time.Millisecond))
}
