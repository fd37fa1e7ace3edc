package e2e

import (
	"net/http"
	"strings"
	"testing"
)

// WAGATE_METRICS_TOKEN closes /metrics to anyone without the token, and the
// token never shows in the server's logs (the configuration line masks it).
func TestMetricsToken(t *testing.T) {
	t.Parallel()
	const token = "e2e-scrape-token-0123456789"
	s := startServer(t, sqlite, map[string]string{"WAGATE_METRICS_TOKEN": token})
	wantProblem(t, s.do(t, "GET", "/metrics", "", nil), http.StatusUnauthorized, "unauthorized")
	wantProblem(t, s.do(t, "GET", "/metrics", "not-"+token, nil), http.StatusUnauthorized, "unauthorized")
	r := s.do(t, "GET", "/metrics", token, nil)
	wantStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.Body), "wagate_http_requests_total") {
		t.Errorf("got /metrics without wagate_http_requests_total, want the metrics")
	}
	if strings.Contains(s.Logs(), token) {
		t.Errorf("the server logged the metrics token")
	}
}
