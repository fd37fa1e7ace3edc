package httpgin

import (
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/wagate/wagate/ports"
)

// TestRoleTableCoversRouter walks gin's route list with every optional
// route on (sandbox, queue monitor): each route needs its line in
// routeRoles, and each line a route.
func TestRoleTableCoversRouter(t *testing.T) {
	e := newTestEnv(t, Options{Sandbox: &fakeSimulator{}, QueueUI: http.NotFoundHandler()})
	seen := map[string]bool{}
	for _, r := range e.engine.Routes() {
		k := r.Method + " " + r.Path
		seen[k] = true
		if _, ok := routeRoles[k]; !ok {
			t.Errorf("route %q has no line in routeRoles (adapters/httpgin/roles.go): add %q: <public|platform|owner|admin|developer|viewer>,", k, k)
		}
	}
	for k, n := range routeRoles {
		if !seen[k] {
			t.Errorf("routeRoles has %q but the router has no such route: remove the line or fix its method/path", k)
		}
		switch n {
		case open, platform, viewer, developer, admin, owner:
		default:
			t.Errorf("routeRoles[%q] = %q, want one of public, platform, owner, admin, developer, viewer", k, n)
		}
	}
}

// TestOpenAPIRequiredRoles checks that every operation of openapi.json
// states the role routeRoles gives it.
func TestOpenAPIRequiredRoles(t *testing.T) {
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	names := map[need]string{open: "public", platform: "platform-admin", viewer: "viewer", developer: "developer", admin: "admin", owner: "owner"}
	param := regexp.MustCompile(`\{(\w+)\}`)
	for path, item := range doc.Paths {
		for method, op := range item {
			if !slices.Contains([]string{"get", "post", "patch", "delete", "put"}, method) {
				continue
			}
			var o struct {
				Role string `json:"x-required-role"`
			}
			if err := json.Unmarshal(op, &o); err != nil {
				t.Fatal(err)
			}
			route := param.ReplaceAllString(path, ":$1")
			if route == "/admin/queues/:path" {
				route = "/admin/queues/*path"
			}
			k := strings.ToUpper(method) + " " + route
			if want := names[routeRoles[k]]; o.Role != want {
				t.Errorf("openapi.json %s %s: got x-required-role %q, want %q (routeRoles)", method, path, o.Role, want)
			}
		}
	}
}

// member invites email with role through the routes and accepts the
// invitation; it returns the new member's access token.
func (e *testEnv) member(ownerToken, email string, role ports.MemberRole) string {
	e.t.Helper()
	w := e.do(req{method: "POST", path: "/api/v1/members/invitations", token: ownerToken,
		body: `{"email":"` + email + `","role":"` + string(role) + `"}`})
	if w.Code != http.StatusCreated {
		e.t.Fatalf("invite %s: got %d %s, want 201", email, w.Code, w.Body)
	}
	var inv InvitationDTO
	decodeBody(e.t, w, &inv)
	w = e.do(req{method: "POST", path: "/api/v1/auth/accept-invitation",
		body: `{"token":"` + inv.Token + `","password":"correct horse","name":"Bo"}`})
	if w.Code != http.StatusCreated {
		e.t.Fatalf("accept %s: got %d %s, want 201", email, w.Code, w.Body)
	}
	var out struct {
		User   UserDTO   `json:"user"`
		Tokens TokensDTO `json:"tokens"`
	}
	decodeBody(e.t, w, &out)
	if out.User.MemberRole != string(role) {
		e.t.Fatalf("accept %s: got memberRole %q, want %q", email, out.User.MemberRole, role)
	}
	return out.Tokens.AccessToken
}

// TestRoleMiddleware checks the middleware on a route per level with a
// member of each role: refused below the route's role with 403
// insufficient_role and no data, let through from it up.
func TestRoleMiddleware(t *testing.T) {
	e := newTestEnv(t, Options{})
	ownerTok, _ := e.account("owner@example.com")
	tokens := map[ports.MemberRole]string{ports.MemberOwner: ownerTok}
	for _, r := range ports.MemberRoles[1:] {
		tokens[r] = e.member(ownerTok, string(r)+"@example.com", r)
	}
	routes := []struct {
		method, path string
		need         ports.MemberRole
	}{
		{"GET", "/api/v1/me", ports.MemberViewer},
		{"GET", "/api/v1/members", ports.MemberViewer},
		{"POST", "/api/v1/instances", ports.MemberDeveloper},
		{"GET", "/api/v1/audit-logs", ports.MemberAdmin},
		{"GET", "/api/v1/members/invitations", ports.MemberAdmin},
	}
	for _, role := range ports.MemberRoles {
		for _, r := range routes {
			w := e.do(req{method: r.method, path: r.path, token: tokens[role], body: `{}`})
			if role.AtLeast(r.need) {
				if w.Code == http.StatusForbidden || w.Code >= 500 {
					t.Errorf("%s %s as %s: got %d %s, want it let through", r.method, r.path, role, w.Code, w.Body)
				}
				continue
			}
			p := wantProblem(t, w, http.StatusForbidden, "insufficient_role")
			if strings.Contains(w.Body.String(), `"data"`) || p.Errors != nil {
				t.Errorf("%s %s as %s: got %s, want no data", r.method, r.path, role, w.Body)
			}
		}
	}
}
