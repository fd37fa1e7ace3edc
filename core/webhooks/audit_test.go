package webhooks_test

import (
	"strings"
	"testing"

	"github.com/wagate/wagate/core/webhooks"
)

// TestAuditKeepsNoURLSecrets: a token in an endpoint URL's query, fragment
// or userinfo never reaches the audit log, whichever entry names the
// endpoint; the rest of the URL does, so that an admin sees which one it is.
func TestAuditKeepsNoURLSecrets(t *testing.T) {
	tests := []struct {
		name, url, want string
	}{
		{"query", "https://hooks.example.com/in?token=s3cret&x=1", "https://hooks.example.com/in"},
		{"fragment", "https://hooks.example.com/in#s3cret", "https://hooks.example.com/in"},
		{"userinfo", "https://bob:s3cret@hooks.example.com/in", "https://hooks.example.com/in"},
		{"all three, a port", "https://bob:s3cret@hooks.example.com:8443/a/b?k=s3cret#s3cret", "https://hooks.example.com:8443/a/b"},
		{"empty query", "https://hooks.example.com/in?", "https://hooks.example.com/in"},
		{"plain", "https://hooks.example.com/in", "https://hooks.example.com/in"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			w, err := e.svc.Create(t.Context(), e.p, e.inst, webhooks.CreateCmd{URL: tt.url, Events: []string{"*"}})
			if err != nil {
				t.Fatalf("create: %v", err)
			}
			if w.URL != tt.url {
				t.Errorf("endpoint: got url %q, want it whole: %q", w.URL, tt.url)
			}
			desc := "changed"
			if _, err := e.svc.Update(t.Context(), e.p, e.inst, w.ID, webhooks.PatchCmd{Description: &desc}); err != nil {
				t.Fatalf("update: %v", err)
			}
			if _, err := e.svc.RotateSecret(t.Context(), e.p, e.inst, w.ID); err != nil {
				t.Fatalf("rotate: %v", err)
			}
			if err := e.svc.Delete(t.Context(), e.p, e.inst, w.ID); err != nil {
				t.Fatalf("delete: %v", err)
			}
			entries := e.store.Audit()
			if len(entries) != 4 {
				t.Fatalf("got %d audit entries %v, want 4", len(entries), e.store.AuditActions())
			}
			for _, a := range entries {
				if got := a.Details["url"]; got != tt.want {
					t.Errorf("%s: got url %v, want %q", a.Action, got, tt.want)
				}
				for k, v := range a.Details {
					if s, ok := v.(string); ok && strings.Contains(s, "s3cret") {
						t.Errorf("%s: details[%s] = %q holds the secret", a.Action, k, s)
					}
				}
			}
		})
	}
}
