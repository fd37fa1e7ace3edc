package e2e

import (
	"net/http"
	"testing"
	"time"
)

// wantPhoneGot checks over HTTP (SPEC §15a) that the simulated phone
// received, from the instance, a message that match accepts, and returns
// it: the phone's record is written before the message reaches the test's
// channel, but polling keeps the check independent of that order.
func wantPhoneGot(t *testing.T, s *ownedServer, token, phone, inst string, match func(map[string]any) bool) map[string]any {
	t.Helper()
	path := "/api/v1/sandbox/phones/" + phone + "/messages?instanceId=" + inst
	deadline := time.Now().Add(flowWait)
	for {
		r := s.do(t, "GET", path, token, nil)
		wantStatus(t, r, http.StatusOK)
		data, _ := list(t, r)
		for _, m := range data {
			if match(m) {
				return m
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: got %v, want a matching message", path, data)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
