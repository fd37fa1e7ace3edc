package e2e

import (
	"net/http"
	"testing"
)

// A refresh token reused on one node revokes its family's access tokens on
// every node at once: the deny-list is in the shared database and read on
// each request, with nothing cached to go stale.
func TestRefreshReuseRevokesAccessOnEveryNode(t *testing.T) {
	t.Parallel()
	shared := postgres.env(t)
	db := backend{"postgres", func(*testing.T) map[string]string { return shared }}
	n1 := startServer(t, db, map[string]string{"WAGATE_NODE_ID": "node-1"})
	n2 := startServer(t, db, map[string]string{"WAGATE_NODE_ID": "node-2"})

	a := n1.register(t)
	r := n1.do(t, "POST", "/api/v1/auth/refresh", "", map[string]any{"refreshToken": a.Refresh})
	wantStatus(t, r, http.StatusOK)
	access2 := str(obj(t, r.JSON, "tokens"), "accessToken")
	wantStatus(t, n2.do(t, "GET", "/api/v1/me", access2, nil), http.StatusOK)
	// Another session of the user is another family and lives on.
	other, _ := n2.login(t, a.Email, a.Password)

	wantProblem(t, n1.do(t, "POST", "/api/v1/auth/refresh", "", map[string]any{"refreshToken": a.Refresh}), http.StatusUnauthorized, "token_revoked")
	for _, n := range []*server{n1, n2} {
		wantProblem(t, n.do(t, "GET", "/api/v1/me", access2, nil), http.StatusUnauthorized, "token_revoked")
		wantProblem(t, n.do(t, "GET", "/api/v1/me", a.Access, nil), http.StatusUnauthorized, "token_revoked")
		wantStatus(t, n.do(t, "GET", "/api/v1/me", other, nil), http.StatusOK)
	}
}
