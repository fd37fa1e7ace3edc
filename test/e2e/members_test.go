package e2e

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/wagate/wagate/adapters/httpgin"
)

// member is a user who joined a subscription through an invitation.
type member struct {
	Email, UserID, Access, Refresh string
}

// invite creates an invitation for a fresh email and returns it.
func (s *server) invite(t *testing.T, token, role string) map[string]any {
	t.Helper()
	r := s.do(t, "POST", "/api/v1/members/invitations", token, map[string]any{
		"email": unique(role) + "@example.com", "role": role,
	})
	wantStatus(t, r, http.StatusCreated)
	wantKeys(t, "invitation", r.JSON, "createdAt", "email", "expiresAt", "id", "invitedBy", "role", "token")
	return r.JSON
}

// join invites someone with role and accepts the invitation.
func (s *server) join(t *testing.T, token, role string) member {
	t.Helper()
	inv := s.invite(t, token, role)
	r := s.do(t, "POST", "/api/v1/auth/accept-invitation", "", map[string]any{
		"token": str(inv, "token"), "password": defaultPassword, "name": "Member " + role,
	})
	wantStatus(t, r, http.StatusCreated)
	u := obj(t, r.JSON, "user")
	if got := str(u, "memberRole"); got != role {
		t.Fatalf("%s: got memberRole %q, want %q", r, got, role)
	}
	tok := obj(t, r.JSON, "tokens")
	return member{Email: str(inv, "email"), UserID: str(u, "id"), Access: str(tok, "accessToken"), Refresh: str(tok, "refreshToken")}
}

// TestMembers is SPEC §17's flow on each database: invitations, accepting
// one, the member list, role changes, ownership transfer, removal and
// the audit entries they leave.
func TestMembers(t *testing.T) {
	eachBackend(t, nil, databases, func(t *testing.T, s *server) {
		owner := s.register(t)
		other := s.register(t)
		me := obj(t, s.do(t, "GET", "/api/v1/me", owner.Access, nil).JSON, "user")
		if str(me, "memberRole") != "owner" {
			t.Fatalf("got a registered user's memberRole %q, want owner", str(me, "memberRole"))
		}

		// Bad input: 422 naming the field; a registered email: 409.
		wantFieldError(t, s.do(t, "POST", "/api/v1/members/invitations", owner.Access, map[string]any{"email": "x@example.com", "role": "owner"}), "role")
		wantFieldError(t, s.do(t, "POST", "/api/v1/members/invitations", owner.Access, map[string]any{"email": "x@example.com", "role": "boss"}), "role")
		wantFieldError(t, s.do(t, "POST", "/api/v1/members/invitations", owner.Access, map[string]any{"email": "nope", "role": "viewer"}), "email")
		wantProblem(t, s.do(t, "POST", "/api/v1/members/invitations", owner.Access, map[string]any{"email": other.Email, "role": "viewer"}), http.StatusConflict, "email_taken")
		wantProblem(t, s.do(t, "POST", "/api/v1/members/invitations", owner.Access, map[string]any{"email": "x@example.com", "role": "viewer", "extra": 1}), http.StatusUnprocessableEntity, "validation_failed")

		// An invitation works once; the token is never listed again.
		inv := s.invite(t, owner.Access, "developer")
		pending, _ := list(t, s.do(t, "GET", "/api/v1/members/invitations", owner.Access, nil))
		if len(pending) != 1 || str(pending[0], "id") != str(inv, "id") || pending[0]["token"] != nil {
			t.Fatalf("got pending invitations %v, want the one, without its token", pending)
		}
		accept := map[string]any{"token": str(inv, "token"), "password": defaultPassword, "name": "Dev"}
		r := s.do(t, "POST", "/api/v1/auth/accept-invitation", "", accept)
		wantStatus(t, r, http.StatusCreated)
		dev := member{Email: str(inv, "email"), UserID: str(obj(t, r.JSON, "user"), "id"), Access: str(obj(t, r.JSON, "tokens"), "accessToken")}
		if got := str(obj(t, r.JSON, "subscription"), "id"); got != owner.SubID {
			t.Fatalf("got the member in subscription %s, want the inviter's %s", got, owner.SubID)
		}
		wantProblem(t, s.do(t, "POST", "/api/v1/auth/accept-invitation", "", accept), http.StatusUnauthorized, "invalid_invitation")
		wantProblem(t, s.do(t, "POST", "/api/v1/auth/accept-invitation", "", map[string]any{"token": "wgi_nope", "password": defaultPassword, "name": "X"}), http.StatusUnauthorized, "invalid_invitation")
		wantFieldError(t, s.do(t, "POST", "/api/v1/auth/accept-invitation", "", map[string]any{"token": str(inv, "token"), "password": "short", "name": "X"}), "password")
		if pending, _ := list(t, s.do(t, "GET", "/api/v1/members/invitations", owner.Access, nil)); len(pending) != 0 {
			t.Fatalf("got %d pending invitations after acceptance, want 0", len(pending))
		}
		// A withdrawn invitation no longer works; another tenant's is 404.
		gone := s.invite(t, owner.Access, "viewer")
		wantProblem(t, s.do(t, "DELETE", "/api/v1/members/invitations/"+str(gone, "id"), other.Access, nil), http.StatusNotFound, "not_found")
		wantStatus(t, s.do(t, "DELETE", "/api/v1/members/invitations/"+str(gone, "id"), owner.Access, nil), http.StatusNoContent)
		wantProblem(t, s.do(t, "POST", "/api/v1/auth/accept-invitation", "", map[string]any{"token": str(gone, "token"), "password": defaultPassword, "name": "X"}), http.StatusUnauthorized, "invalid_invitation")
		// An email registered between invitation and acceptance: 409.
		late := s.invite(t, owner.Access, "viewer")
		wantStatus(t, s.do(t, "POST", "/api/v1/auth/register", "", map[string]any{"email": str(late, "email"), "password": defaultPassword, "name": "Early"}), http.StatusCreated)
		wantProblem(t, s.do(t, "POST", "/api/v1/auth/accept-invitation", "", map[string]any{"token": str(late, "token"), "password": defaultPassword, "name": "Late"}), http.StatusConflict, "email_taken")

		// The list: every member with their role; other tenants see none.
		adm := s.join(t, owner.Access, "admin")
		members, _ := list(t, s.do(t, "GET", "/api/v1/members", dev.Access, nil))
		roles := map[string]string{}
		for _, m := range members {
			wantKeys(t, "member", m, "createdAt", "email", "id", "name", "role")
			roles[str(m, "id")] = str(m, "role")
		}
		if len(roles) != 3 || roles[owner.UserID] != "owner" || roles[dev.UserID] != "developer" || roles[adm.UserID] != "admin" {
			t.Fatalf("got members %v, want owner, developer and admin", roles)
		}
		wantProblem(t, s.do(t, "PATCH", "/api/v1/members/"+dev.UserID, other.Access, map[string]any{"role": "viewer"}), http.StatusNotFound, "not_found")
		wantProblem(t, s.do(t, "DELETE", "/api/v1/members/"+dev.UserID, other.Access, nil), http.StatusNotFound, "not_found")

		// A role change holds at the member's next request.
		wantStatus(t, s.do(t, "POST", "/api/v1/instances", dev.Access, map[string]any{"name": "dev-made"}), http.StatusCreated)
		r = s.do(t, "PATCH", "/api/v1/members/"+dev.UserID, adm.Access, map[string]any{"role": "viewer"})
		wantStatus(t, r, http.StatusOK)
		if str(r.JSON, "role") != "viewer" {
			t.Fatalf("%s: want role viewer", r)
		}
		wantProblem(t, s.do(t, "POST", "/api/v1/instances", dev.Access, map[string]any{"name": "viewer-made"}), http.StatusForbidden, "insufficient_role")
		wantStatus(t, s.do(t, "GET", "/api/v1/instances", dev.Access, nil), http.StatusOK)
		wantFieldError(t, s.do(t, "PATCH", "/api/v1/members/"+dev.UserID, adm.Access, map[string]any{"role": "king"}), "role")

		// The owner rules: only the owner touches the owner role, and the
		// last owner can neither leave nor step down.
		wantProblem(t, s.do(t, "PATCH", "/api/v1/members/"+adm.UserID, adm.Access, map[string]any{"role": "owner"}), http.StatusForbidden, "insufficient_role")
		wantProblem(t, s.do(t, "PATCH", "/api/v1/members/"+owner.UserID, adm.Access, map[string]any{"role": "viewer"}), http.StatusForbidden, "insufficient_role")
		wantProblem(t, s.do(t, "DELETE", "/api/v1/members/"+owner.UserID, adm.Access, nil), http.StatusForbidden, "insufficient_role")
		wantProblem(t, s.do(t, "PATCH", "/api/v1/members/"+owner.UserID, owner.Access, map[string]any{"role": "admin"}), http.StatusConflict, "last_owner")
		wantProblem(t, s.do(t, "DELETE", "/api/v1/members/"+owner.UserID, owner.Access, nil), http.StatusConflict, "last_owner")
		wantProblem(t, s.do(t, "DELETE", "/api/v1/members/"+owner.UserID, dev.Access, nil), http.StatusForbidden, "insufficient_role")

		// Ownership transfer: the owner becomes an admin.
		wantStatus(t, s.do(t, "PATCH", "/api/v1/members/"+adm.UserID, owner.Access, map[string]any{"role": "owner"}), http.StatusOK)
		members, _ = list(t, s.do(t, "GET", "/api/v1/members", owner.Access, nil))
		for _, m := range members {
			roles[str(m, "id")] = str(m, "role")
		}
		if roles[adm.UserID] != "owner" || roles[owner.UserID] != "admin" {
			t.Fatalf("got roles %v after the transfer, want %s owner and %s admin", roles, adm.UserID, owner.UserID)
		}
		wantProblem(t, s.do(t, "PATCH", "/api/v1/members/"+adm.UserID, owner.Access, map[string]any{"role": "viewer"}), http.StatusForbidden, "insufficient_role")

		// Removal: the member's tokens stop working at once.
		wantStatus(t, s.do(t, "DELETE", "/api/v1/members/"+dev.UserID, owner.Access, nil), http.StatusNoContent)
		wantProblem(t, s.do(t, "GET", "/api/v1/me", dev.Access, nil), http.StatusUnauthorized, "unauthorized")
		wantProblem(t, s.do(t, "POST", "/api/v1/auth/login", "", map[string]any{"email": dev.Email, "password": defaultPassword}), http.StatusUnauthorized, "invalid_credentials")
		wantProblem(t, s.do(t, "DELETE", "/api/v1/members/"+dev.UserID, owner.Access, nil), http.StatusNotFound, "not_found")

		// The audit log names the acting member of each change.
		entries, _ := list(t, s.do(t, "GET", "/api/v1/audit-logs?limit=200", adm.Access, nil))
		want := map[string]string{
			"member.invited": owner.UserID, "member.joined": dev.UserID, "member.invitation_deleted": owner.UserID,
			"member.role_changed": owner.UserID, "member.ownership_transferred": owner.UserID, "member.removed": owner.UserID,
		}
		seen := map[string]bool{}
		for _, e := range entries {
			a := str(e, "action")
			if actor, ok := want[a]; ok && str(e, "actorUserId") == actor {
				seen[a] = true
			}
			if strings.Contains(string(mustJSON(t, e)), "wgi_") {
				t.Fatalf("audit entry %v holds an invitation token", e)
			}
		}
		for a := range want {
			if !seen[a] {
				t.Errorf("got no %s entry by %s in the audit log", a, want[a])
			}
		}
		// The developer's role change was made by the admin.
		byAdmin := slices.ContainsFunc(entries, func(e map[string]any) bool {
			actor, _ := e["actor"].(map[string]any)
			return str(e, "action") == "member.role_changed" && str(e, "actorUserId") == adm.UserID && str(e, "targetId") == dev.UserID &&
				str(actor, "email") == adm.Email && str(actor, "role") == "owner"
		})
		if !byAdmin {
			t.Errorf("got no member.role_changed entry by the admin %s (named by email and current role) on %s", adm.UserID, dev.UserID)
		}
	})
}

// TestRoleMatrix walks every route of the router (httpgin's route table,
// which TestRoleTableCoversRouter keeps equal to gin's route list) with a
// member of each role, on a sandbox server of each database (Redis on
// PostgreSQL, so the queue monitor's routes exist too): below the route's
// role the answer is 403 insufficient_role without data, from it up never
// that, and never a 500.
func TestRoleMatrix(t *testing.T) {
	simAddr := startSim(t)
	for _, b := range []backend{sqlite, postgresRedis} {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, b, map[string]string{
				"WAGATE_WHATSAPP": "sandbox", "WAGATE_SANDBOX_ADDR": simAddr,
				"WAGATE_TIERS": "basic=5:100000,pro=20:100000,max=40:100000",
			})
			roleMatrix(t, s)
		})
	}
}

func roleMatrix(t *testing.T, s *server) {
	owner := s.register(t)
	tokens := map[string]string{"owner": owner.Access}
	for _, r := range []string{"admin", "developer", "viewer"} {
		tokens[r] = s.join(t, owner.Access, r).Access
	}
	rank := map[string]int{"viewer": 1, "developer": 2, "admin": 3, "owner": 4}
	table := httpgin.RouteRoles()
	routes := slices.Sorted(func(yield func(string) bool) {
		for k := range table {
			if !yield(k) {
				return
			}
		}
	})
	// Logging out spends the caller's token: last.
	routes = append(slices.DeleteFunc(routes, func(k string) bool { return k == "POST /api/v1/auth/logout" }), "POST /api/v1/auth/logout")
	checked, refused := 0, 0
	for _, role := range []string{"owner", "admin", "developer", "viewer"} {
		for _, route := range routes {
			method, path, _ := strings.Cut(route, " ")
			need := table[route]
			var body any
			if method == "POST" || method == "PATCH" {
				body = map[string]any{}
			}
			r := s.do(t, method, fillParams(path), tokens[role], body)
			checked++
			if r.Status >= 500 && r.Status != http.StatusNotImplemented && r.Status != http.StatusServiceUnavailable {
				t.Errorf("%s as %s: got %s, want no 5xx", route, role, r)
				continue
			}
			insufficient := r.Status == http.StatusForbidden && str(r.JSON, "code") == "insufficient_role"
			switch {
			case need == "public":
			case need == "platform":
				if r.Status < 300 {
					t.Errorf("%s as %s (no platform admin): got %s, want it refused", route, role, r)
				}
			case rank[role] >= rank[need]:
				if insufficient {
					t.Errorf("%s as %s (route needs %s): got %s, want it let through", route, role, need, r)
				}
			default:
				refused++
				if !insufficient {
					t.Errorf("%s as %s (route needs %s): got %s, want 403 insufficient_role", route, role, need, r)
				} else if _, ok := r.JSON["data"]; ok || len(r.Body) > 1024 {
					t.Errorf("%s as %s: got %s, want a bare problem", route, role, r)
				}
			}
		}
	}
	t.Logf("role matrix: %d routes × 4 roles = %d requests checked, %d of them refused for the role", len(routes), checked, refused)
	if refused == 0 {
		t.Fatalf("got no refusal in the whole matrix, want the lower roles refused somewhere")
	}
}

// fillParams puts a value in each route parameter: fresh UUIDs (so that
// what a role may reach answers 404 rather than acting on real data), a
// phone number for :phone and :chat.
func fillParams(route string) string {
	parts := strings.Split(route, "/")
	for i, p := range parts {
		switch {
		case p == ":phone" || p == ":chat":
			parts[i] = "15550001111"
		case strings.HasPrefix(p, ":"):
			parts[i] = uuid.NewString()
		case strings.HasPrefix(p, "*"):
			parts[i] = "x"
		}
	}
	return strings.Join(parts, "/")
}

// mustJSON encodes v for a search in its text.
func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestStreamEndsWhenMemberRemoved: a removed member's open event stream
// closes (4001 unauthorized), on the node that removed them and on
// another one, within the streams' recheck interval.
func TestStreamEndsWhenMemberRemoved(t *testing.T) {
	env := serverEnv(t, postgres, nil)
	env["WAGATE_NODE_ID"] = "node-a"
	a := startOwned(t, "node-a", env)
	env = maps.Clone(env)
	env["WAGATE_NODE_ID"], env["WAGATE_MIGRATE_ON_START"] = "node-b", "false"
	b := startOwned(t, "node-b", env)

	owner := a.register(t)
	m := a.join(t, owner.Access, "viewer")
	here := openStream(t, b, "", bearer(m.Access))
	there := openStream(t, a, "", bearer(m.Access))
	wantStatus(t, b.do(t, "DELETE", "/api/v1/members/"+m.UserID, owner.Access, nil), http.StatusNoContent)
	wantClosed(t, here, "unauthorized")
	wantClosed(t, there, "unauthorized")
}
