package httpgin

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wagate/wagate/ports"
)

// The phone view shows only what the caller's instances sent that phone.
func TestSandboxPhoneMessages(t *testing.T) {
	e := newLifecycleEnv(t)
	a, _ := e.account("phones-a@example.com")
	b, _ := e.account("phones-b@example.com")
	mine, theirs := e.instanceOf(a, "mine"), e.instanceOf(b, "theirs")
	e.status(mine.ID, ports.StatusConnected, "+15551110001")
	e.status(theirs.ID, ports.StatusConnected, "+15551110002")
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	e.sim.received = map[string][]ports.PhoneMessage{"15550009999": {
		{WAMessageID: "W1", From: "15551110001@s.whatsapp.net", Chat: "15551110001@s.whatsapp.net", Type: ports.MessageText, Text: "mine", ReceivedAt: at},
		{WAMessageID: "W2", From: "15551110002@s.whatsapp.net", Chat: "15551110002@s.whatsapp.net", Type: ports.MessageText, Text: "theirs", ReceivedAt: at},
		{WAMessageID: "W3", From: "15551110001@s.whatsapp.net", Chat: "15551110001@s.whatsapp.net", Type: ports.MessageImage,
			Caption: "pic", Media: &ports.PhoneMedia{MimeType: "image/png", Size: 42}, ReceivedAt: at},
	}}
	path := "/api/v1/sandbox/phones/+15550009999/messages"

	want := `{"data":[{"waMessageId":"W1","from":"15551110001@s.whatsapp.net","chat":"15551110001@s.whatsapp.net","type":"text","text":"mine","receivedAt":"2026-01-02T03:04:05Z"},` +
		`{"waMessageId":"W3","from":"15551110001@s.whatsapp.net","chat":"15551110001@s.whatsapp.net","type":"image","caption":"pic","media":{"mimeType":"image/png","size":42},"receivedAt":"2026-01-02T03:04:05Z"}],"nextCursor":null}`
	for _, p := range []string{path, path + "?instanceId=" + mine.ID} {
		if w := e.do(req{method: "GET", path: p, token: a}); w.Code != http.StatusOK || w.Body.String() != want {
			t.Fatalf("GET %s: got %d %s, want %s", p, w.Code, w.Body, want)
		}
	}
	if w := e.do(req{method: "GET", path: path, token: b}); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"W2"`) || strings.Contains(w.Body.String(), `"W1"`) {
		t.Fatalf("B's view: got %d %s, want only W2", w.Code, w.Body)
	}
	wantProblem(t, e.do(req{method: "GET", path: path + "?instanceId=" + theirs.ID, token: a}), http.StatusNotFound, "not_found")
	wantProblem(t, e.do(req{method: "GET", path: path + "?instanceId=nope", token: a}), http.StatusNotFound, "not_found")
	wantProblem(t, e.do(req{method: "GET", path: "/api/v1/sandbox/phones/12ab/messages", token: a}), 422, "validation_failed")
	e.sim.fail = true
	wantProblem(t, e.do(req{method: "GET", path: path, token: a}), http.StatusServiceUnavailable, "unavailable")
}
