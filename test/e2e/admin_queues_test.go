package e2e

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestAdminQueues: with Redis, platform admins get asynq's web UI
// (read-only) at /admin/queues; owners are refused; without Redis the
// routes do not exist.
func TestAdminQueues(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"WAGATE_BOOTSTRAP_ADMIN_EMAIL":    adminEmail,
		"WAGATE_BOOTSTRAP_ADMIN_PASSWORD": adminPassword,
		// The webhook receiver below is on loopback.
		"WAGATE_WEBHOOK_ALLOW_PRIVATE": "true",
	}
	t.Run("redis", func(t *testing.T) {
		t.Parallel()
		// A prefix of this test's own: the listing must show this server's
		// queues, not those another test left on the shared Redis.
		prefix := fmt.Sprintf("wagate_q%d", rand.N(1_000_000_000))
		s := startServer(t, postgresRedis, map[string]string{
			"WAGATE_BOOTSTRAP_ADMIN_EMAIL":    adminEmail,
			"WAGATE_BOOTSTRAP_ADMIN_PASSWORD": adminPassword,
			"WAGATE_WEBHOOK_ALLOW_PRIVATE":    "true",
			"WAGATE_REDIS_PREFIX":             prefix,
		})
		admin, _ := s.login(t, adminEmail, adminPassword)
		owner := s.register(t)

		r := s.do(t, "GET", "/admin/queues", admin, nil)
		wantStatus(t, r, http.StatusOK)
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") || !strings.Contains(string(r.Body), `window.FLAG_READ_ONLY="true"`) {
			t.Errorf("%s: got Content-Type %q, want asynqmon's page in read-only mode", r, ct)
		}
		if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("got CSP %q, want frame-ancestors 'none'", csp)
		}

		// A webhook delivery puts a job on the queue, so that it is listed.
		webhookJob(t, s, owner.Access)
		waitQueueListed(t, s, admin, prefix+":")

		wantProblem(t, s.do(t, "GET", "/admin/queues/api/queues", owner.Access, nil), http.StatusForbidden, "forbidden")
		wantProblem(t, s.do(t, "GET", "/admin/queues", "", nil), http.StatusUnauthorized, "unauthorized")
		r = s.do(t, "POST", "/admin/queues/api/queues/"+prefix+":webhook.deliver:pause", admin, nil)
		wantStatus(t, r, http.StatusMethodNotAllowed)
	})
	t.Run("no redis", func(t *testing.T) {
		t.Parallel()
		s := startServer(t, sqlite, env)
		admin, _ := s.login(t, adminEmail, adminPassword)
		wantProblem(t, s.do(t, "GET", "/admin/queues", admin, nil), http.StatusNotFound, "not_found")
		wantProblem(t, s.do(t, "GET", "/admin/queues/api/queues", admin, nil), http.StatusNotFound, "not_found")
	})
}

// webhookJob sends a test event to a webhook on a local receiver.
func webhookJob(t *testing.T, s *server, token string) {
	t.Helper()
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	t.Cleanup(rc.Close)
	inst := str(s.createInstance(t, token, "queues"), "id")
	r := s.do(t, "POST", "/api/v1/instances/"+inst+"/webhooks", token, map[string]any{"url": rc.URL + "/hook", "events": []string{"message.received"}})
	wantStatus(t, r, http.StatusCreated)
	r = s.do(t, "POST", "/api/v1/instances/"+inst+"/webhooks/"+str(r.JSON, "id")+"/test", token, nil)
	wantStatus(t, r, http.StatusAccepted)
}

// waitQueueListed polls the monitor's JSON API until it lists a queue
// whose name starts with prefix.
func waitQueueListed(t *testing.T, s *server, token, prefix string) {
	t.Helper()
	var last *response
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		last = s.do(t, "GET", "/admin/queues/api/queues", token, nil)
		wantStatus(t, last, http.StatusOK)
		var body struct {
			Queues []struct {
				Queue string `json:"queue"`
			} `json:"queues"`
		}
		if err := json.Unmarshal(last.Body, &body); err != nil {
			t.Fatalf("%s: decode: %v", last, err)
		}
		for _, q := range body.Queues {
			if strings.HasPrefix(q.Queue, prefix) {
				return
			}
		}
	}
	t.Fatalf("%s: want a queue named %s…", last, prefix)
}
