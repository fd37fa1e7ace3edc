package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestBadInput(t *testing.T) {
	t.Parallel()
	eachBackend(t, nil, databases, func(t *testing.T, s *server) {
		a := s.register(t)
		inst := str(s.createInstance(t, a.Access, "target"), "id")
		register := func(extra string) string {
			return `{"email":"` + unique("bad") + `@example.com","password":"` + defaultPassword + `","name":"x"` + extra + `}`
		}

		t.Run("malformed JSON", func(t *testing.T) {
			for _, body := range []string{`{"email":`, `not json`, `{"name":"a",}`, `{"name":"a"}{"name":"b"}`} {
				wantProblem(t, s.do(t, "POST", "/api/v1/auth/register", "", body), http.StatusBadRequest, "invalid_json")
				wantProblem(t, s.do(t, "POST", "/api/v1/instances", a.Access, body), http.StatusBadRequest, "invalid_json")
			}
		})

		t.Run("wrong JSON types", func(t *testing.T) {
			r := s.do(t, "POST", "/api/v1/instances", a.Access, `{"name":42}`)
			if r.Status != http.StatusBadRequest && r.Status != http.StatusUnprocessableEntity {
				t.Errorf("%s: got %d, want 400 or 422", r, r.Status)
			}
			wantProblemish(t, r)
		})

		t.Run("unknown fields", func(t *testing.T) {
			wantProblem(t, s.do(t, "POST", "/api/v1/auth/register", "", register(`,"role":"admin"`)), http.StatusUnprocessableEntity, "validation_failed")
			wantProblem(t, s.do(t, "POST", "/api/v1/instances", a.Access, `{"name":"x","subscriptionId":"other"}`), http.StatusUnprocessableEntity, "validation_failed")
			wantProblem(t, s.do(t, "PATCH", "/api/v1/instances/"+inst, a.Access, `{"status":"connected"}`), http.StatusUnprocessableEntity, "validation_failed")
			wantProblem(t, s.do(t, "POST", "/api/v1/instances/"+inst+"/api-keys", a.Access, `{"name":"x","key":"wag_chosen"}`), http.StatusUnprocessableEntity, "validation_failed")
		})

		t.Run("oversized body", func(t *testing.T) {
			big := register(`,"padding":"` + strings.Repeat("a", 1<<20) + `"`)
			wantProblem(t, s.do(t, "POST", "/api/v1/auth/register", "", big), http.StatusRequestEntityTooLarge, "payload_too_large")
			wantProblem(t, s.do(t, "POST", "/api/v1/instances", a.Access, `{"name":"`+strings.Repeat("a", 2<<20)+`"}`), http.StatusRequestEntityTooLarge, "payload_too_large")
		})

		t.Run("wrong content type", func(t *testing.T) {
			for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "application/xml"} {
				h := http.Header{"Content-Type": {ct}}
				wantProblem(t, s.doWith(t, "POST", "/api/v1/auth/register", h, register("")), http.StatusUnsupportedMediaType, "unsupported_media_type")
				h = bearer(a.Access)
				h.Set("Content-Type", ct)
				wantProblem(t, s.doWith(t, "POST", "/api/v1/instances", h, `{"name":"typed"}`), http.StatusUnsupportedMediaType, "unsupported_media_type")
			}
			// A charset parameter is still JSON.
			h := bearer(a.Access)
			h.Set("Content-Type", "application/json; charset=utf-8")
			wantStatus(t, s.doWith(t, "POST", "/api/v1/instances", h, `{"name":"charset"}`), http.StatusCreated)
		})

		t.Run("non-UUID ids", func(t *testing.T) {
			ids := []string{"abc", url.PathEscape("../x"), "..%2F..%2Fadmin", strings.Repeat("a", 1000), "%00", url.PathEscape("' OR 1=1 --"), "-1", "00000000-0000-0000-0000-000000000000"}
			for _, id := range ids {
				for _, rt := range []route{
					{"GET", "/api/v1/instances/" + id, nil},
					{"PATCH", "/api/v1/instances/" + id, map[string]any{"name": "x"}},
					{"DELETE", "/api/v1/instances/" + id, nil},
					{"GET", "/api/v1/instances/" + id + "/api-keys", nil},
					{"POST", "/api/v1/instances/" + id + "/api-keys", map[string]any{"name": "x"}},
					{"DELETE", "/api/v1/instances/" + inst + "/api-keys/" + id, nil},
				} {
					wantProblem(t, s.do(t, rt.method, rt.path, a.Access, rt.body), http.StatusNotFound, "not_found")
				}
			}
			// A path that leaves the route altogether is an unknown route.
			wantProblem(t, s.do(t, "GET", "/api/v1/instances/../x", a.Access, nil), http.StatusNotFound, "not_found")
			wantProblem(t, s.do(t, "GET", "/api/v1/no-such-route", a.Access, nil), http.StatusNotFound, "not_found")
		})

		t.Run("bad paging", func(t *testing.T) {
			for _, q := range []string{"limit=0", "limit=201", "limit=abc", "limit=-1", "limit=1.5"} {
				for _, p := range []string{"/api/v1/instances", "/api/v1/instances/" + inst + "/api-keys", "/api/v1/audit-logs"} {
					wantProblem(t, s.do(t, "GET", p+"?"+q, a.Access, nil), http.StatusUnprocessableEntity, "validation_failed")
				}
			}
			for _, p := range []string{"limit=200", "limit=1"} {
				wantStatus(t, s.do(t, "GET", "/api/v1/instances?"+p, a.Access, nil), http.StatusOK)
			}
			// A forged cursor must not reach the database as anything but data.
			for _, c := range []string{"garbage", url.QueryEscape("' OR 1=1 --"), strings.Repeat("z", 2000)} {
				wantProblemish(t, s.do(t, "GET", "/api/v1/instances?cursor="+c, a.Access, nil))
			}
		})
	})
}

// wantProblemish checks a response to input whose exact outcome the SPEC
// leaves open: a success or a 4xx problem, never a 5xx.
func wantProblemish(t *testing.T, r *response) {
	t.Helper()
	switch {
	case r.Status >= 500:
		t.Errorf("%s: got %d, want no server error", r, r.Status)
	case r.Status >= 400 && !strings.HasPrefix(r.Header.Get("Content-Type"), "application/problem+json"):
		t.Errorf("%s: got Content-Type %q, want application/problem+json", r, r.Header.Get("Content-Type"))
	}
}
