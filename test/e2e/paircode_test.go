package e2e

import (
	"net/http"
	"testing"
)

// TestPairCodeRateLimit: each pair code sends a linking prompt to the
// phone of the number given, so they are limited per instance and per
// subscription (issue 10: one instance issued 8 codes for 8 numbers in a
// row): 429 rate_limited as problem+json, with Retry-After.
func TestPairCodeRateLimit(t *testing.T) {
	t.Parallel()
	s := startOwned(t, "sqlite, sandbox", map[string]string{
		"WAGATE_JWT_SECRET":                  jwtSecret,
		"WAGATE_LOG_LEVEL":                   "info",
		"WAGATE_AUTH_RATE_PER_MIN":           "100000",
		"WAGATE_WHATSAPP":                    "sandbox",
		"WAGATE_DATA_DIR":                    t.TempDir(),
		"WAGATE_QR_TIMEOUT":                  "5m",
		"WAGATE_PAIR_CODE_RATE":              "2/1h",
		"WAGATE_PAIR_CODE_SUBSCRIPTION_RATE": "3/1h",
	})
	a := s.register(t)
	first := str(s.createInstance(t, a.Access, "first"), "id")
	second := str(s.createInstance(t, a.Access, "second"), "id")
	for _, id := range []string{first, second} {
		wantStatus(t, s.do(t, "POST", "/api/v1/instances/"+id+"/connect", a.Access, nil), http.StatusAccepted)
		waitQR(t, s, a.Access, id)
	}
	pair := func(id, phone string) *response {
		return s.do(t, "POST", "/api/v1/instances/"+id+"/pair-code", a.Access, map[string]any{"phoneNumber": phone})
	}
	for _, phone := range []string{"+15550001001", "+15550001002"} {
		r := pair(first, phone)
		wantStatus(t, r, http.StatusOK)
		if str(r.JSON, "code") == "" {
			t.Errorf("%s: want a code", r)
		}
	}
	r := pair(first, "+15550001003")
	wantProblem(t, r, http.StatusTooManyRequests, "rate_limited")
	wantRetryAfter(t, r, 3600)

	// The second instance has its own allowance, but the subscription's
	// third code is its last.
	wantStatus(t, pair(second, "+15550001004"), http.StatusOK)
	r = pair(second, "+15550001005")
	wantProblem(t, r, http.StatusTooManyRequests, "rate_limited")
	wantRetryAfter(t, r, 3600)
}
