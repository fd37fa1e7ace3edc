package e2e

import (
	"net/http"
	"testing"
)

// proxyVectors are proxy URLs that would make the server connect to its own
// network (issue 10), or that the WhatsApp client cannot use.
var proxyVectors = []string{
	"http://127.0.0.1:6379",
	"https://169.254.169.254:80",
	"http://[::1]:22",
	"socks5h://10.0.0.1:1080",
	"socks5://10.0.0.1:1080",
	"http://localhost:3128",
	"http://0x7f000001:6379",
}

// TestInstanceProxyGuard: an instance's proxy passes the webhooks' SSRF
// guard on create and on update (422, field proxyUrl);
// WAGATE_WEBHOOK_ALLOW_PRIVATE lifts it, but never for a scheme the
// WhatsApp client cannot dial.
func TestInstanceProxyGuard(t *testing.T) {
	t.Parallel()
	eachBackend(t, nil, []backend{sqlite}, func(t *testing.T, s *server) {
		a := s.register(t)
		id := str(s.createInstance(t, a.Access, "proxied"), "id")
		for _, url := range proxyVectors {
			t.Run(url, func(t *testing.T) {
				wantFieldError(t, s.do(t, "POST", "/api/v1/instances", a.Access, map[string]any{"name": unique("p"), "proxyUrl": url}), "proxyUrl")
				wantFieldError(t, s.do(t, "PATCH", "/api/v1/instances/"+id, a.Access, map[string]any{"proxyUrl": url}), "proxyUrl")
			})
		}
		r := s.do(t, "PATCH", "/api/v1/instances/"+id, a.Access, map[string]any{"proxyUrl": "http://93.184.216.34:3128"})
		wantStatus(t, r, http.StatusOK)
	})
	eachBackend(t, map[string]string{"WAGATE_WEBHOOK_ALLOW_PRIVATE": "true"}, []backend{sqlite}, func(t *testing.T, s *server) {
		a := s.register(t)
		id := str(s.createInstance(t, a.Access, "proxied"), "id")
		r := s.do(t, "PATCH", "/api/v1/instances/"+id, a.Access, map[string]any{"proxyUrl": "http://127.0.0.1:6379"})
		wantStatus(t, r, http.StatusOK)
		wantFieldError(t, s.do(t, "PATCH", "/api/v1/instances/"+id, a.Access, map[string]any{"proxyUrl": "socks5h://10.0.0.1:1080"}), "proxyUrl")
	})
}
