package e2e

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestAPIKeys(t *testing.T) {
	t.Parallel()
	eachBackend(t, nil, databases, func(t *testing.T, s *server) {
		t.Run("create list use", func(t *testing.T) { t.Parallel(); testKeyLifecycle(t, s) })
		t.Run("scopes", func(t *testing.T) { t.Parallel(); testKeyScopes(t, s) })
		t.Run("invalid", func(t *testing.T) { t.Parallel(); testInvalidKey(t, s) })
		t.Run("expiry", func(t *testing.T) { t.Parallel(); testKeyExpiry(t, s) })
		t.Run("delete", func(t *testing.T) { t.Parallel(); testKeyDelete(t, s) })
		t.Run("lastUsedAt", func(t *testing.T) { t.Parallel(); testKeyLastUsed(t, s) })
		t.Run("instance delete removes keys", func(t *testing.T) { t.Parallel(); testInstanceDeleteRemovesKeys(t, s) })
	})
}

var keyFormat = regexp.MustCompile(`^wag_[0-9A-Za-z]{32,}$`)

// keyKeys are the members of a created key (SPEC §5); a listed key has all
// but "key".
var keyKeys = []string{"id", "name", "prefix", "scopes", "createdAt", "expiresAt", "lastUsedAt"}

func testKeyLifecycle(t *testing.T, s *server) {
	a := s.register(t)
	inst := str(s.createInstance(t, a.Access, "keys"), "id")
	r := s.do(t, "POST", "/api/v1/instances/"+inst+"/api-keys", a.Access, map[string]any{"name": "ci"})
	wantStatus(t, r, http.StatusCreated)
	wantKeys(t, "created key", r.JSON, append(keyKeys, "key")...)
	key, prefix := str(r.JSON, "key"), str(r.JSON, "prefix")
	if !keyFormat.MatchString(key) {
		t.Errorf("got key %q, want wag_ and at least 32 base62 characters", key)
	}
	if prefix == "" || !strings.HasPrefix(key, prefix) || len(prefix) >= len(key)/2 {
		t.Errorf("got prefix %q of key %q, want a short leading part of it", prefix, key)
	}
	if got := scopes(r.JSON); !slices.Equal(got, []string{"contacts:read", "instance:read", "messages:read", "messages:send"}) {
		t.Errorf("got scopes %v, want all four by default", got)
	}
	if r.JSON["expiresAt"] != nil || r.JSON["lastUsedAt"] != nil {
		t.Errorf("got expiresAt %#v lastUsedAt %#v, want both null", r.JSON["expiresAt"], r.JSON["lastUsedAt"])
	}
	wantUTCTime(t, "createdAt", r.JSON["createdAt"])

	keys, next := list(t, s.do(t, "GET", "/api/v1/instances/"+inst+"/api-keys", a.Access, nil))
	if len(keys) != 1 || next != "" {
		t.Fatalf("got %d keys and nextCursor %q, want 1 and null", len(keys), next)
	}
	wantKeys(t, "listed key", keys[0], keyKeys...)
	if _, ok := keys[0]["key"]; ok {
		t.Errorf("got a key value in the list, want it shown only once")
	}
	if strings.Contains(string(s.do(t, "GET", "/api/v1/instances/"+inst+"/api-keys", a.Access, nil).Body), key) {
		t.Errorf("the key list contains the key's value")
	}

	r = s.do(t, "GET", "/api/v1/instance", key, nil)
	wantStatus(t, r, http.StatusOK)
	wantKeys(t, "own instance", r.JSON, instanceKeys...)
	if got := str(r.JSON, "id"); got != inst {
		t.Errorf("got instance %q with the key, want %q", got, inst)
	}
	wantProblem(t, s.do(t, "GET", "/api/v1/instance", a.Access, nil), http.StatusForbidden, "forbidden")
}

func scopes(m map[string]any) []string {
	var out []string
	raw, _ := m["scopes"].([]any)
	for _, s := range raw {
		v, _ := s.(string)
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}

func testKeyScopes(t *testing.T, s *server) {
	a := s.register(t)
	inst := str(s.createInstance(t, a.Access, "scoped"), "id")
	r := s.do(t, "POST", "/api/v1/instances/"+inst+"/api-keys", a.Access, map[string]any{"name": "sender", "scopes": []string{"messages:send"}})
	wantStatus(t, r, http.StatusCreated)
	if got := scopes(r.JSON); !slices.Equal(got, []string{"messages:send"}) {
		t.Errorf("got scopes %v, want [messages:send]", got)
	}
	wantProblem(t, s.do(t, "GET", "/api/v1/instance", str(r.JSON, "key"), nil), http.StatusForbidden, "forbidden")

	_, reader := s.createKey(t, a.Access, inst, map[string]any{"name": "reader", "scopes": []string{"instance:read"}})
	wantStatus(t, s.do(t, "GET", "/api/v1/instance", reader, nil), http.StatusOK)
}

func testInvalidKey(t *testing.T, s *server) {
	a := s.register(t)
	path := "/api/v1/instances/" + str(s.createInstance(t, a.Access, "bad keys"), "id") + "/api-keys"
	wantFieldError(t, s.do(t, "POST", path, a.Access, map[string]any{"name": ""}), "name")
	wantFieldError(t, s.do(t, "POST", path, a.Access, map[string]any{"name": "x", "scopes": []string{"everything"}}), "scopes")
	// An explicit empty list must not mean the default of every scope.
	wantFieldError(t, s.do(t, "POST", path, a.Access, map[string]any{"name": "x", "scopes": []string{}}), "scopes")
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	wantFieldError(t, s.do(t, "POST", path, a.Access, map[string]any{"name": "x", "expiresAt": past}), "expiresAt")
}

func testKeyExpiry(t *testing.T, s *server) {
	a := s.register(t)
	inst := str(s.createInstance(t, a.Access, "expiring"), "id")
	expires := time.Now().Add(2 * time.Second).UTC().Truncate(time.Second).Add(time.Second)
	r := s.do(t, "POST", "/api/v1/instances/"+inst+"/api-keys", a.Access, map[string]any{"name": "short", "expiresAt": expires.Format(time.RFC3339)})
	wantStatus(t, r, http.StatusCreated)
	if got, err := time.Parse(time.RFC3339Nano, str(r.JSON, "expiresAt")); err != nil || !got.Equal(expires) {
		t.Errorf("got expiresAt %#v, want %s", r.JSON["expiresAt"], expires.Format(time.RFC3339))
	}
	key := str(r.JSON, "key")
	wantStatus(t, s.do(t, "GET", "/api/v1/instance", key, nil), http.StatusOK)
	time.Sleep(time.Until(expires) + 500*time.Millisecond)
	r = s.do(t, "GET", "/api/v1/instance", key, nil)
	if code := str(r.JSON, "code"); code == "token_expired" {
		wantUnauthorized(t, r, "token_expired")
	} else {
		wantUnauthorized(t, r, "unauthorized")
	}
}

func testKeyDelete(t *testing.T, s *server) {
	a := s.register(t)
	inst := str(s.createInstance(t, a.Access, "revoking"), "id")
	id, key := s.createKey(t, a.Access, inst, map[string]any{"name": "doomed"})
	_, kept := s.createKey(t, a.Access, inst, map[string]any{"name": "kept"})
	wantStatus(t, s.do(t, "GET", "/api/v1/instance", key, nil), http.StatusOK)

	r := s.do(t, "DELETE", "/api/v1/instances/"+inst+"/api-keys/"+id, a.Access, nil)
	wantStatus(t, r, http.StatusNoContent)
	wantUnauthorized(t, s.do(t, "GET", "/api/v1/instance", key, nil), "unauthorized")
	wantStatus(t, s.do(t, "GET", "/api/v1/instance", kept, nil), http.StatusOK)
	wantProblem(t, s.do(t, "DELETE", "/api/v1/instances/"+inst+"/api-keys/"+id, a.Access, nil), http.StatusNotFound, "not_found")

	keys, _ := list(t, s.do(t, "GET", "/api/v1/instances/"+inst+"/api-keys", a.Access, nil))
	if len(keys) != 1 || str(keys[0], "name") != "kept" {
		t.Errorf("got keys %v after the delete, want only kept", keys)
	}
}

func testKeyLastUsed(t *testing.T, s *server) {
	a := s.register(t)
	inst := str(s.createInstance(t, a.Access, "used"), "id")
	_, key := s.createKey(t, a.Access, inst, map[string]any{"name": "busy"})
	wantStatus(t, s.do(t, "GET", "/api/v1/instance", key, nil), http.StatusOK)

	// lastUsedAt is written asynchronously: poll for it.
	deadline := time.Now().Add(5 * time.Second)
	for {
		keys, _ := list(t, s.do(t, "GET", "/api/v1/instances/"+inst+"/api-keys", a.Access, nil))
		if len(keys) == 1 && keys[0]["lastUsedAt"] != nil {
			wantUTCTime(t, "lastUsedAt", keys[0]["lastUsedAt"])
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("got keys %v 5s after a use, want lastUsedAt set", keys)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func testInstanceDeleteRemovesKeys(t *testing.T, s *server) {
	a := s.register(t)
	inst := str(s.createInstance(t, a.Access, "short-lived"), "id")
	_, key := s.createKey(t, a.Access, inst, map[string]any{"name": "orphan"})
	wantStatus(t, s.do(t, "DELETE", "/api/v1/instances/"+inst, a.Access, nil), http.StatusNoContent)
	wantUnauthorized(t, s.do(t, "GET", "/api/v1/instance", key, nil), "unauthorized")
	wantProblem(t, s.do(t, "GET", "/api/v1/instances/"+inst+"/api-keys", a.Access, nil), http.StatusNotFound, "not_found")
}
