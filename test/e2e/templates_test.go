package e2e

import (
	"net/http"
	"slices"
	"testing"
)

// The templates of SPEC §8 and the render preview: CRUD, unique names per
// subscription, tenant isolation, missing variables listed, bad bodies,
// and what an API key may do.

func TestTemplates(t *testing.T) {
	eachBackend(t, nil, databases, func(t *testing.T, s *server) {
		a, other := s.register(t), s.register(t)
		r := s.do(t, "POST", "/api/v1/templates", a.Access, map[string]any{"name": "welcome", "body": "Hi {{ name }}, code {{code}}"})
		wantStatus(t, r, http.StatusCreated)
		wantKeys(t, "template", r.JSON, "id", "name", "body", "variables", "createdAt", "updatedAt")
		id := str(r.JSON, "id")
		if vars, _ := r.JSON["variables"].([]any); !slices.Equal(vars, []any{"name", "code"}) {
			t.Errorf("variables: got %v, want [name code]", r.JSON["variables"])
		}
		wantProblem(t, s.do(t, "POST", "/api/v1/templates", a.Access, map[string]any{"name": "welcome", "body": "x"}),
			http.StatusConflict, "name_taken")

		// Another tenant sees nothing and may reuse the name.
		for _, m := range []string{"GET", "PATCH", "DELETE"} {
			wantProblem(t, s.do(t, m, "/api/v1/templates/"+id, other.Access, map[string]any{"name": "x"}), http.StatusNotFound, "not_found")
		}
		wantProblem(t, s.do(t, "POST", "/api/v1/templates/"+id+"/render", other.Access, map[string]any{"variables": map[string]string{}}),
			http.StatusNotFound, "not_found")
		wantStatus(t, s.do(t, "POST", "/api/v1/templates", other.Access, map[string]any{"name": "welcome", "body": "x"}), http.StatusCreated)

		// Render: verbatim values, and every missing variable listed.
		r = s.do(t, "POST", "/api/v1/templates/"+id+"/render", a.Access,
			map[string]any{"variables": map[string]string{"name": "{{code}}", "code": "42"}})
		wantStatus(t, r, http.StatusOK)
		if got := str(r.JSON, "text"); got != "Hi {{code}}, code 42" {
			t.Errorf("rendered: got %q, want %q", got, "Hi {{code}}, code 42")
		}
		r = s.do(t, "POST", "/api/v1/templates/"+id+"/render", a.Access, map[string]any{"variables": map[string]string{}})
		wantFieldError(t, r, "variables.code")
		wantFieldError(t, r, "variables.name")

		// Bad bodies and names.
		for _, body := range []string{"", "Hi {{}}", "Hi {{name", "{{first name}}"} {
			wantFieldError(t, s.do(t, "POST", "/api/v1/templates", a.Access, map[string]any{"name": "bad", "body": body}), "body")
		}
		wantFieldError(t, s.do(t, "POST", "/api/v1/templates", a.Access, map[string]any{"name": "", "body": "x"}), "name")
		wantFieldError(t, s.do(t, "PATCH", "/api/v1/templates/"+id, a.Access, map[string]any{"body": "{{"}), "body")

		// Patch, list with paging, and the escape.
		r = s.do(t, "PATCH", "/api/v1/templates/"+id, a.Access, map[string]any{"body": `\{{literal}} {{who}}`})
		wantStatus(t, r, http.StatusOK)
		if str(r.JSON, "name") != "welcome" || !slices.Equal(r.JSON["variables"].([]any), []any{"who"}) {
			t.Errorf("patched: got %v, want name kept and variables [who]", r.JSON)
		}
		r = s.do(t, "POST", "/api/v1/templates/"+id+"/render", a.Access, map[string]any{"variables": map[string]string{"who": "you"}})
		wantStatus(t, r, http.StatusOK)
		if got := str(r.JSON, "text"); got != "{{literal}} you" {
			t.Errorf("rendered escape: got %q, want %q", got, "{{literal}} you")
		}
		second := str(s.do(t, "POST", "/api/v1/templates", a.Access, map[string]any{"name": "second", "body": "b"}).JSON, "id")
		wantProblem(t, s.do(t, "PATCH", "/api/v1/templates/"+second, a.Access, map[string]any{"name": "welcome"}),
			http.StatusConflict, "name_taken")
		data, next := list(t, s.do(t, "GET", "/api/v1/templates?limit=1", a.Access, nil))
		if len(data) != 1 || str(data[0], "id") != id || next == "" {
			t.Fatalf("first page: got %v, next %q; want the first template and a cursor", data, next)
		}
		data, next = list(t, s.do(t, "GET", "/api/v1/templates?limit=1&cursor="+next, a.Access, nil))
		if len(data) != 1 || str(data[0], "id") != second || next != "" {
			t.Errorf("second page: got %v, next %q; want the second template, last page", data, next)
		}

		// An API key reads and renders but does not manage.
		inst := str(s.createInstance(t, a.Access, "tmpl"), "id")
		_, key := s.createKey(t, a.Access, inst, map[string]any{"name": "k"})
		wantStatus(t, s.do(t, "GET", "/api/v1/templates/"+id, key, nil), http.StatusOK)
		wantStatus(t, s.do(t, "POST", "/api/v1/templates/"+id+"/render", key, map[string]any{"variables": map[string]string{"who": "k"}}), http.StatusOK)
		wantProblem(t, s.do(t, "POST", "/api/v1/templates", key, map[string]any{"name": "k", "body": "x"}), http.StatusForbidden, "forbidden")
		wantProblem(t, s.do(t, "DELETE", "/api/v1/templates/"+id, key, nil), http.StatusForbidden, "forbidden")

		wantStatus(t, s.do(t, "DELETE", "/api/v1/templates/"+id, a.Access, nil), http.StatusNoContent)
		wantProblem(t, s.do(t, "GET", "/api/v1/templates/"+id, a.Access, nil), http.StatusNotFound, "not_found")
	})
}
