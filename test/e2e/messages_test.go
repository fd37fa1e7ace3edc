package e2e

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wagate/wagate/adapters/wasim"
)

// The text-message path of SPEC §6 and §10 in sandbox mode: a send through
// the outbound queue reaches the simulated contact, its status follows the
// contact's receipts as events, inbound texts are stored and emitted, and
// bad input, unlinked instances and other tenants are refused. It runs on
// each database with the embedded queue, and on PostgreSQL with asynq.

// receiptDelay is how long the simulated contacts take to acknowledge.
const receiptDelay = 300 * time.Millisecond

func TestTextMessages(t *testing.T) {
	// One in-process simulator for every backend, so that the test can read
	// what its contacts received.
	sim := simulator(t, wasim.Options{ReceiptDelay: receiptDelay})
	for _, b := range []backend{sqlite, postgres, postgresRedis} {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			textMessages(t, b, sim)
		})
	}
}

func textMessages(t *testing.T, b backend, sim *wasim.Server) {
	env := sandboxEnv(t, b, sim)
	s := startOwned(t, b.name, env)
	a, other := s.register(t), s.register(t)
	inst := linkedInstance(t, s, a.Access, "messages")
	_, key := s.createKey(t, a.Access, inst, map[string]any{"name": "sender"})
	st := openStream(t, s, "", bearer(a.Access))

	// A text to an existing number reaches the contact and is read.
	phone := fmt.Sprintf("+1555%07d", rand.N(10_000_000))
	text := "hello from " + b.name + " ✓"
	r := s.do(t, "POST", "/api/v1/messages/text", key, map[string]any{"to": strings.Replace(phone, "+1555", "+1 555-", 1), "text": text})
	wantStatus(t, r, http.StatusAccepted)
	id := str(r.JSON, "id")
	wantJID := digits(phone) + "@s.whatsapp.net"
	if str(r.JSON, "status") != "queued" || str(r.JSON, "to") != wantJID || str(r.JSON, "type") != "text" || str(r.JSON, "createdAt") == "" {
		t.Errorf("%s: want queued text to %s with createdAt", r, wantJID)
	}
	for _, status := range []string{"sent", "delivered", "read"} {
		st.waitFor(t, 0, "message.status "+status, messageStatusIs(inst, id, status))
	}
	select {
	case got := <-sim.Contact(phone).Messages():
		if got.Text != text {
			t.Errorf("the contact received %q, want %q", got.Text, text)
		}
	case <-time.After(flowWait):
		t.Fatalf("the contact %s received nothing", phone)
	}
	m := s.do(t, "GET", "/api/v1/messages/"+id, key, nil)
	wantStatus(t, m, http.StatusOK)
	wantKeys(t, "message", m.JSON, "id", "instanceId", "direction", "chat", "to", "from", "type", "text", "caption",
		"status", "error", "waMessageId", "attempts", "createdAt", "sentAt", "deliveredAt", "readAt")
	if str(m.JSON, "status") != "read" || str(m.JSON, "direction") != "outbound" || str(m.JSON, "waMessageId") == "" ||
		str(m.JSON, "readAt") == "" || str(m.JSON, "deliveredAt") == "" || num(m.JSON, "attempts") != 1 || str(m.JSON, "text") != text {
		t.Errorf("%s: want a read outbound message with its WhatsApp id, times and one attempt", m)
	}
	same := s.do(t, "GET", "/api/v1/instances/"+inst+"/messages/"+id, a.Access, nil)
	wantStatus(t, same, http.StatusOK)

	// A contact writes in.
	from := fmt.Sprintf("+1555%07d", rand.N(10_000_000))
	wantStatus(t, s.do(t, "POST", "/api/v1/sandbox/instances/"+inst+"/inbound", a.Access,
		map[string]any{"from": from, "text": "hi there"}), http.StatusAccepted)
	ev := st.waitFor(t, 0, "message.received", func(e event) bool {
		return e.is(inst, "message.received") && str(e.Data, "text") == "hi there"
	})
	if str(ev.Data, "direction") != "inbound" || str(ev.Data, "status") != "received" || !strings.HasPrefix(str(ev.Data, "from"), digits(from)) {
		t.Errorf("message.received: got %v, want an inbound received text from %s", ev.Data, from)
	}
	inbound, _ := list(t, s.do(t, "GET", "/api/v1/messages?direction=inbound", key, nil))
	if len(inbound) != 1 || str(inbound[0], "id") != str(ev.Data, "id") {
		t.Errorf("GET /messages?direction=inbound: got %v, want the one inbound message", inbound)
	}
	all, _ := list(t, s.do(t, "GET", "/api/v1/instances/"+inst+"/messages", a.Access, nil))
	if len(all) != 2 || str(all[0], "direction") != "inbound" {
		t.Errorf("GET /instances/{id}/messages: got %d messages, want 2, newest (inbound) first", len(all))
	}

	// A number that is not on WhatsApp fails with a clear code.
	r = s.do(t, "POST", "/api/v1/messages/text", key, map[string]any{"to": "+9995550100", "text": "anyone?"})
	wantStatus(t, r, http.StatusAccepted)
	failed := st.waitFor(t, 0, "message.status failed", messageStatusIs(inst, str(r.JSON, "id"), "failed"))
	if code := str(obj(t, failed.Data, "error"), "code"); code != "recipient_not_on_whatsapp" {
		t.Errorf("failed send to +999: got error code %q, want recipient_not_on_whatsapp", code)
	}

	messageRefusals(t, s, a, other, inst, key, id)
}

// messageRefusals: unlinked instances, bad input, other instances and
// other tenants.
func messageRefusals(t *testing.T, s *ownedServer, a, other account, inst, key, id string) {
	t.Helper()
	fresh := str(s.createInstance(t, a.Access, "never-linked"), "id")
	_, freshKey := s.createKey(t, a.Access, fresh, map[string]any{"name": "fresh"})
	wantProblem(t, s.do(t, "POST", "/api/v1/instances/"+fresh+"/messages/text", a.Access,
		map[string]any{"to": "+15550001111", "text": "hi"}), http.StatusConflict, "instance_not_connected")
	wantProblem(t, s.do(t, "POST", "/api/v1/messages/text", freshKey,
		map[string]any{"to": "+15550001111", "text": "hi"}), http.StatusConflict, "instance_not_connected")

	path := "/api/v1/messages/text"
	wantFieldError(t, s.do(t, "POST", path, key, map[string]any{"to": "+15550001111", "text": ""}), "text")
	wantFieldError(t, s.do(t, "POST", path, key, map[string]any{"to": "+15550001111", "text": strings.Repeat("a", 4097)}), "text")
	wantFieldError(t, s.do(t, "POST", path, key, map[string]any{"to": "12ab", "text": "hi"}), "to")
	wantFieldError(t, s.do(t, "POST", path, key, map[string]any{"to": "someone@example.com", "text": "hi"}), "to")
	wantProblem(t, s.do(t, "POST", path, key, map[string]any{"to": "+15550001111", "text": "hi", "priority": 1}),
		http.StatusUnprocessableEntity, "validation_failed")
	wantProblem(t, s.do(t, "POST", path, key, `{"to":`), http.StatusBadRequest, "invalid_json")
	wantProblem(t, s.do(t, "POST", path, a.Access, map[string]any{"to": "+15550001111", "text": "hi"}), http.StatusForbidden, "forbidden")
	_, readOnly := s.createKey(t, a.Access, inst, map[string]any{"name": "reader", "scopes": []string{"messages:read"}})
	wantProblem(t, s.do(t, "POST", path, readOnly, map[string]any{"to": "+15550001111", "text": "hi"}), http.StatusForbidden, "forbidden")

	// Another instance's key, another instance's path, another tenant.
	wantProblem(t, s.do(t, "GET", "/api/v1/messages/"+id, freshKey, nil), http.StatusNotFound, "not_found")
	wantProblem(t, s.do(t, "GET", "/api/v1/instances/"+fresh+"/messages/"+id, a.Access, nil), http.StatusNotFound, "not_found")
	wantProblem(t, s.do(t, "GET", "/api/v1/instances/"+inst+"/messages/"+id, other.Access, nil), http.StatusNotFound, "not_found")
	wantProblem(t, s.do(t, "GET", "/api/v1/instances/"+inst+"/messages", other.Access, nil), http.StatusNotFound, "not_found")
	wantProblem(t, s.do(t, "POST", "/api/v1/instances/"+inst+"/messages/text", other.Access,
		map[string]any{"to": "+15550001111", "text": "hi"}), http.StatusNotFound, "not_found")
	if own, _ := list(t, s.do(t, "GET", "/api/v1/messages", freshKey, nil)); len(own) != 0 {
		t.Errorf("GET /messages with the fresh instance's key: got %d messages, want none", len(own))
	}
}

// linkedInstance creates an instance and links it by a simulated scan.
func linkedInstance(t *testing.T, s *ownedServer, token, name string) string {
	t.Helper()
	inst := str(s.createInstance(t, token, name), "id")
	wantStatus(t, s.do(t, "POST", "/api/v1/instances/"+inst+"/connect", token, nil), http.StatusAccepted)
	waitQR(t, s, token, inst)
	wantStatus(t, s.do(t, "POST", "/api/v1/sandbox/instances/"+inst+"/scan", token, nil), http.StatusAccepted)
	waitInstance(t, s, token, inst, "connected")
	return inst
}

func messageStatusIs(inst, id, status string) func(event) bool {
	return func(e event) bool {
		return e.is(inst, "message.status") && str(e.Data, "messageId") == id && str(e.Data, "status") == status
	}
}
