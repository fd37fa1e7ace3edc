package multinode

import (
	"net/http"
	"testing"
	"time"
)

// checkMemberRevocations: a member removed, or demoted, on first is
// refused on second within revocationWithin, although second's principal
// cache would trust their token for a minute.
func checkMemberRevocations(t *testing.T, first, second *proc) {
	t.Helper()
	owner := register(t, first, "owner@example.com")
	removed := join(t, first, owner, "removed@example.com", "developer")
	refusedWithin(t, second, "/api/v1/me", str(removed, "accessToken"), "a removed member's token", func() {
		if code, body := call(t, first, "DELETE", "/api/v1/members/"+str(removed, "userId"), owner, nil); code != http.StatusNoContent {
			t.Fatalf("remove member: got %d %v", code, body)
		}
	})

	demoted := join(t, first, owner, "demoted@example.com", "admin")
	token := str(demoted, "accessToken")
	for range 2 { // cached on second now
		if code, body := call(t, second, "GET", "/api/v1/audit-logs", token, nil); code != http.StatusOK {
			t.Fatalf("an admin's audit log on %s: got %d %v, want 200", second.name, code, body)
		}
	}
	if code, body := call(t, first, "PATCH", "/api/v1/members/"+str(demoted, "userId"), owner, map[string]string{"role": "viewer"}); code != http.StatusOK {
		t.Fatalf("demote member: got %d %v", code, body)
	}
	start := time.Now()
	poll(t, revocationWithin, "a demoted member refused on "+second.name, func() bool {
		code, body := call(t, second, "GET", "/api/v1/audit-logs", token, nil)
		return code == http.StatusForbidden && str(body, "code") == "insufficient_role"
	})
	t.Logf("a demoted member refused on %s after %v", second.name, time.Since(start).Round(time.Millisecond))
}

// join invites email with role on p and accepts; it returns the new
// member's userId and accessToken.
func join(t *testing.T, p *proc, ownerToken, email, role string) map[string]any {
	t.Helper()
	code, inv := call(t, p, "POST", "/api/v1/members/invitations", ownerToken, map[string]string{"email": email, "role": role})
	if code != http.StatusCreated {
		t.Fatalf("invite %s: got %d %v", email, code, inv)
	}
	code, body := call(t, p, "POST", "/api/v1/auth/accept-invitation", "", map[string]string{
		"token": str(inv, "token"), "password": password, "name": "Member",
	})
	if code != http.StatusCreated {
		t.Fatalf("accept %s: got %d %v", email, code, body)
	}
	u, _ := body["user"].(map[string]any)
	toks, _ := body["tokens"].(map[string]any)
	return map[string]any{"userId": str(u, "id"), "accessToken": str(toks, "accessToken")}
}
