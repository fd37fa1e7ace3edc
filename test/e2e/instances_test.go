package e2e

import (
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestInstances(t *testing.T) {
	t.Parallel()
	eachBackend(t, nil, databases, func(t *testing.T, s *server) {
		t.Run("create", func(t *testing.T) { t.Parallel(); testCreateInstance(t, s) })
		t.Run("list paging", func(t *testing.T) { t.Parallel(); testListInstances(t, s) })
		t.Run("get patch delete", func(t *testing.T) { t.Parallel(); testGetPatchDelete(t, s) })
		t.Run("name taken", func(t *testing.T) { t.Parallel(); testNameTaken(t, s) })
		t.Run("invalid", func(t *testing.T) { t.Parallel(); testInvalidInstance(t, s) })
		t.Run("instance limit", func(t *testing.T) { t.Parallel(); testInstanceLimit(t, s) })
		t.Run("concurrent creates at the limit", func(t *testing.T) { t.Parallel(); testConcurrentCreates(t, s) })
	})
}

// instanceKeys are the members of an Instance (SPEC §4).
var instanceKeys = []string{"id", "name", "status", "statusReason", "phoneNumber", "jid", "pushName", "metadata", "createdAt", "updatedAt", "lastConnectedAt"}

func testCreateInstance(t *testing.T, s *server) {
	a := s.register(t)
	meta := map[string]any{"team": "sales", "n": 3.0}
	r := s.do(t, "POST", "/api/v1/instances", a.Access, map[string]any{"name": "main line", "metadata": meta})
	wantStatus(t, r, http.StatusCreated)
	wantKeys(t, "instance", r.JSON, instanceKeys...)
	if got := str(r.JSON, "name"); got != "main line" {
		t.Errorf("got name %q, want %q", got, "main line")
	}
	if got := str(r.JSON, "status"); got != "created" {
		t.Errorf("got status %q, want created", got)
	}
	if got := r.JSON["metadata"]; !reflect.DeepEqual(got, meta) {
		t.Errorf("got metadata %#v, want %#v", got, meta)
	}
	if r.JSON["lastConnectedAt"] != nil {
		t.Errorf("got lastConnectedAt %#v, want null for a new instance", r.JSON["lastConnectedAt"])
	}
	for _, k := range []string{"createdAt", "updatedAt"} {
		wantUTCTime(t, k, r.JSON[k])
	}
	if got := num(s.subscription(t, a.Access), "instancesUsed"); got != 1 {
		t.Errorf("got instancesUsed %v, want 1", got)
	}
}

// wantUTCTime checks an RFC 3339 UTC timestamp.
func wantUTCTime(t *testing.T, name string, v any) {
	t.Helper()
	s, _ := v.(string)
	ts, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || !strings.HasSuffix(s, "Z") {
		t.Errorf("got %s %#v, want an RFC 3339 UTC timestamp", name, v)
		return
	}
	if d := time.Since(ts); d < -time.Minute || d > time.Hour {
		t.Errorf("got %s %s, want about now", name, s)
	}
}

func testListInstances(t *testing.T, s *server) {
	a := s.register(t)
	want := map[string]bool{}
	for _, n := range []string{"one", "two", "three"} {
		want[str(s.createInstance(t, a.Access, n), "id")] = true
	}

	first, next := list(t, s.do(t, "GET", "/api/v1/instances?limit=2", a.Access, nil))
	if len(first) != 2 || next == "" {
		t.Fatalf("got %d items and nextCursor %q, want 2 and a cursor", len(first), next)
	}
	rest, last := list(t, s.do(t, "GET", "/api/v1/instances?limit=2&cursor="+next, a.Access, nil))
	if len(rest) != 1 || last != "" {
		t.Fatalf("got %d items and nextCursor %q on the second page, want 1 and null", len(rest), last)
	}
	seen := map[string]bool{}
	for _, in := range append(first, rest...) {
		wantKeys(t, "listed instance", in, instanceKeys...)
		seen[str(in, "id")] = true
	}
	if !reflect.DeepEqual(seen, want) {
		t.Errorf("got ids %v over both pages, want %v", seen, want)
	}

	all, next := list(t, s.do(t, "GET", "/api/v1/instances", a.Access, nil))
	if len(all) != 3 || next != "" {
		t.Errorf("got %d items and nextCursor %q by default, want 3 and null", len(all), next)
	}
}

func testGetPatchDelete(t *testing.T, s *server) {
	a := s.register(t)
	id := str(s.createInstance(t, a.Access, "before"), "id")
	path := "/api/v1/instances/" + id

	r := s.do(t, "GET", path, a.Access, nil)
	wantStatus(t, r, http.StatusOK)
	wantKeys(t, "instance", r.JSON, instanceKeys...)
	if str(r.JSON, "id") != id || str(r.JSON, "name") != "before" {
		t.Errorf("got %s, want instance %s named before", r, id)
	}

	meta := map[string]any{"env": "prod"}
	r = s.do(t, "PATCH", path, a.Access, map[string]any{"name": "after", "metadata": meta})
	wantStatus(t, r, http.StatusOK)
	if str(r.JSON, "name") != "after" || !reflect.DeepEqual(r.JSON["metadata"], meta) {
		t.Errorf("got %s, want name after and metadata %v", r, meta)
	}
	r = s.do(t, "PATCH", path, a.Access, map[string]any{"metadata": map[string]any{"env": "test"}})
	wantStatus(t, r, http.StatusOK)
	if str(r.JSON, "name") != "after" {
		t.Errorf("got name %q after patching only metadata, want it kept as after", str(r.JSON, "name"))
	}
	r = s.do(t, "GET", path, a.Access, nil)
	if !reflect.DeepEqual(r.JSON["metadata"], map[string]any{"env": "test"}) {
		t.Errorf("got metadata %#v after the patches, want env=test", r.JSON["metadata"])
	}

	r = s.do(t, "DELETE", path, a.Access, nil)
	wantStatus(t, r, http.StatusNoContent)
	wantProblem(t, s.do(t, "GET", path, a.Access, nil), http.StatusNotFound, "not_found")
	wantProblem(t, s.do(t, "DELETE", path, a.Access, nil), http.StatusNotFound, "not_found")
	wantProblem(t, s.do(t, "PATCH", path, a.Access, map[string]any{"name": "ghost"}), http.StatusNotFound, "not_found")
	if got := num(s.subscription(t, a.Access), "instancesUsed"); got != 0 {
		t.Errorf("got instancesUsed %v after the delete, want 0", got)
	}
}

func testNameTaken(t *testing.T, s *server) {
	a := s.register(t)
	s.createInstance(t, a.Access, "dup")
	other := str(s.createInstance(t, a.Access, "other"), "id")
	wantProblem(t, s.do(t, "POST", "/api/v1/instances", a.Access, map[string]any{"name": "dup"}), http.StatusConflict, "name_taken")
	wantProblem(t, s.do(t, "PATCH", "/api/v1/instances/"+other, a.Access, map[string]any{"name": "dup"}), http.StatusConflict, "name_taken")

	// Names are unique per subscription, not across tenants.
	b := s.register(t)
	s.createInstance(t, b.Access, "dup")
}

func testInvalidInstance(t *testing.T, s *server) {
	a := s.register(t)
	wantFieldError(t, s.do(t, "POST", "/api/v1/instances", a.Access, map[string]any{"name": ""}), "name")
	wantFieldError(t, s.do(t, "POST", "/api/v1/instances", a.Access, map[string]any{}), "name")
}

func testInstanceLimit(t *testing.T, s *server) {
	a := s.register(t)
	var first string
	for i := range 5 {
		id := str(s.createInstance(t, a.Access, unique("lim")), "id")
		if i == 0 {
			first = id
		}
	}
	r := s.do(t, "POST", "/api/v1/instances", a.Access, map[string]any{"name": "sixth"})
	wantProblem(t, r, http.StatusForbidden, "instance_limit_reached")
	sub := s.subscription(t, a.Access)
	if num(sub, "instancesUsed") != 5 || num(sub, "instanceLimit") != 5 {
		t.Errorf("got subscription %v, want instancesUsed 5 of 5", sub)
	}

	// Deleting one frees its place.
	wantStatus(t, s.do(t, "DELETE", "/api/v1/instances/"+first, a.Access, nil), http.StatusNoContent)
	s.createInstance(t, a.Access, "sixth")
}

func testConcurrentCreates(t *testing.T, s *server) {
	a := s.register(t)
	for range 4 {
		s.createInstance(t, a.Access, unique("pre"))
	}
	const n = 10
	results := make([]*response, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			results[i], errs[i] = s.send("POST", "/api/v1/instances", bearer(a.Access), map[string]any{"name": unique("race")})
		})
	}
	wg.Wait()
	created := 0
	for i, r := range results {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		switch r.Status {
		case http.StatusCreated:
			created++
		default:
			wantProblem(t, r, http.StatusForbidden, "instance_limit_reached")
		}
	}
	if created != 1 {
		t.Errorf("got %d of %d concurrent creates succeeding with 4 of 5 used, want exactly 1", created, n)
	}
	if got := num(s.subscription(t, a.Access), "instancesUsed"); got != 5 {
		t.Errorf("got instancesUsed %v, want 5", got)
	}
	all, _ := list(t, s.do(t, "GET", "/api/v1/instances", a.Access, nil))
	if len(all) != 5 {
		t.Errorf("got %d instances listed, want 5", len(all))
	}
}
