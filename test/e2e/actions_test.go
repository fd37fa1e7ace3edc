package e2e

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"

	"github.com/wagate/wagate/adapters/wasim"
)

// Actions on messages (SPEC §6a, §10, §15a), in both directions: the
// instance reacts to, edits and deletes what it sent, replies with a quote
// and mentions, forwards, marks read and shows typing, and the simulated
// phone's record (GET /sandbox/phones/{phone}/messages) shows each as the
// phone understood it; a contact reacts to, edits and deletes what it
// sent, and the stream carries each event while the stored message
// follows. On SQLite with the embedded queue and PostgreSQL with asynq.
func TestMessageActions(t *testing.T) {
	sim := simulator(t, wasim.Options{ReceiptDelay: receiptDelay})
	for _, b := range []backend{sqlite, postgresRedis} {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := startOwned(t, b.name, sandboxEnv(t, b, sim))
			a := s.register(t)
			inst := linkedInstance(t, s, a.Access, "actions")
			_, key := s.createKey(t, a.Access, inst, map[string]any{"name": "actor"})
			st := openStream(t, s, "", bearer(a.Access))
			// The phones exist as scripted contacts before anything is sent
			// to them, so that they decrypt and record it.
			phone, other := fmt.Sprintf("+1555%07d", rand.N(10_000_000)), fmt.Sprintf("+1555%07d", rand.N(10_000_000))
			sim.Contact(phone)
			sim.Contact(other)
			id := sentAndRead(t, s, st, key, inst, map[string]any{"to": phone, "text": "first"})
			t.Run("React", func(t *testing.T) { outboundReaction(t, s, st, a, key, inst, phone, id) })
			t.Run("Edit", func(t *testing.T) { outboundEdit(t, s, st, a, key, inst, phone, id) })
			t.Run("ReplyMentionForward", func(t *testing.T) { replyMentionForward(t, s, a, key, inst, phone, other, id) })
			t.Run("Delete", func(t *testing.T) { outboundDelete(t, s, st, a, key, inst, phone, id) })
			t.Run("Inbound", func(t *testing.T) { inboundActions(t, s, st, a, inst) })
			t.Run("Refusals", func(t *testing.T) { actionRefusals(t, s, a, key, inst, id) })
		})
	}
}

// sentAndRead sends a text and waits until the phone has read it.
func sentAndRead(t *testing.T, s *ownedServer, st *stream, key, inst string, body map[string]any) string {
	t.Helper()
	r := s.do(t, "POST", "/api/v1/messages/text", key, body)
	wantStatus(t, r, http.StatusAccepted)
	id := str(r.JSON, "id")
	st.waitFor(t, 0, "message.status read", messageStatusIs(inst, id, "read"))
	return id
}

// waMessageID is WhatsApp's id of a stored message.
func waMessageID(t *testing.T, s *ownedServer, token, inst, id string) string {
	t.Helper()
	r := s.do(t, "GET", "/api/v1/instances/"+inst+"/messages/"+id, token, nil)
	wantStatus(t, r, http.StatusOK)
	return str(r.JSON, "waMessageId")
}

func outboundReaction(t *testing.T, s *ownedServer, st *stream, a account, key, inst, phone, id string) {
	r := s.do(t, "POST", "/api/v1/messages/"+id+"/reaction", key, map[string]any{"emoji": "👍"})
	wantStatus(t, r, http.StatusOK)
	if rs, _ := r.JSON["reactions"].([]any); len(rs) != 1 || str(rs[0].(map[string]any), "emoji") != "👍" {
		t.Errorf("reaction: got %v, want one 👍", r.JSON["reactions"])
	}
	st.waitFor(t, 0, "message.reaction", func(e event) bool {
		return e.is(inst, "message.reaction") && str(e.Data, "messageId") == id && str(e.Data, "emoji") == "👍"
	})
	wa := waMessageID(t, s, a.Access, inst, id)
	wantPhoneGot(t, s, a.Access, phone, inst, func(m map[string]any) bool {
		rs, _ := m["reactions"].([]any)
		return str(m, "waMessageId") == wa && len(rs) == 1 && str(rs[0].(map[string]any), "emoji") == "👍"
	})
	// "" removes it, on the phone too.
	r = s.do(t, "POST", "/api/v1/instances/"+inst+"/messages/"+id+"/reaction", a.Access, map[string]any{"emoji": ""})
	wantStatus(t, r, http.StatusOK)
	wantPhoneGot(t, s, a.Access, phone, inst, func(m map[string]any) bool {
		return str(m, "waMessageId") == wa && m["reactions"] == nil
	})
}

func outboundEdit(t *testing.T, s *ownedServer, st *stream, a account, key, inst, phone, id string) {
	r := s.do(t, "PATCH", "/api/v1/messages/"+id, key, map[string]any{"text": "first, edited"})
	wantStatus(t, r, http.StatusOK)
	if str(r.JSON, "text") != "first, edited" || r.JSON["editedAt"] == nil {
		t.Errorf("edit: got %v, want the new text and editedAt", r.JSON)
	}
	st.waitFor(t, 0, "message.edited", func(e event) bool {
		return e.is(inst, "message.edited") && str(e.Data, "messageId") == id && str(e.Data, "text") == "first, edited"
	})
	wa := waMessageID(t, s, a.Access, inst, id)
	wantPhoneGot(t, s, a.Access, phone, inst, func(m map[string]any) bool {
		return str(m, "waMessageId") == wa && str(m, "editedText") == "first, edited"
	})
}

func replyMentionForward(t *testing.T, s *ownedServer, a account, key, inst, phone, other, id string) {
	wa := waMessageID(t, s, a.Access, inst, id)
	r := s.do(t, "POST", "/api/v1/messages/text", key, map[string]any{
		"to": phone, "text": "hello @" + digits(phone), "replyTo": id, "mentions": []string{phone}, "linkPreview": false,
	})
	wantStatus(t, r, http.StatusAccepted)
	wantPhoneGot(t, s, a.Access, phone, inst, func(m map[string]any) bool {
		ms, _ := m["mentions"].([]any)
		return str(m, "quoted") == wa && len(ms) == 1 && ms[0] == digits(phone)+"@s.whatsapp.net"
	})
	r = s.do(t, "POST", "/api/v1/messages/"+id+"/forward", key, map[string]any{"to": other})
	wantStatus(t, r, http.StatusAccepted)
	wantPhoneGot(t, s, a.Access, other, inst, func(m map[string]any) bool {
		return m["isForwarded"] == true && str(m, "text") == "first, edited"
	})
	// Presence is shown at once.
	r = s.do(t, "POST", "/api/v1/chats/"+phone+"/presence", key, map[string]any{"state": "typing"})
	wantStatus(t, r, http.StatusOK)
}

func outboundDelete(t *testing.T, s *ownedServer, st *stream, a account, key, inst, phone, id string) {
	r := s.do(t, "DELETE", "/api/v1/messages/"+id, key, nil)
	wantStatus(t, r, http.StatusOK)
	if str(r.JSON, "status") != "deleted" || r.JSON["deletedAt"] == nil {
		t.Errorf("delete: got %v, want deleted", r.JSON)
	}
	st.waitFor(t, 0, "message.deleted", func(e event) bool { return e.is(inst, "message.deleted") && str(e.Data, "messageId") == id })
	wa := waMessageID(t, s, a.Access, inst, id)
	wantPhoneGot(t, s, a.Access, phone, inst, func(m map[string]any) bool {
		return str(m, "waMessageId") == wa && m["deleted"] == true
	})
	wantProblem(t, s.do(t, "PATCH", "/api/v1/messages/"+id, key, map[string]any{"text": "late"}), http.StatusConflict, "message_deleted")
}

// inboundActions: a contact writes, then reacts to, edits and deletes its
// message; the instance marks it read first.
func inboundActions(t *testing.T, s *ownedServer, st *stream, a account, inst string) {
	from := fmt.Sprintf("+1555%07d", rand.N(10_000_000))
	base := "/api/v1/sandbox/instances/" + inst
	wantStatus(t, s.do(t, "POST", base+"/inbound", a.Access, map[string]any{"from": from, "text": "from the contact"}), http.StatusAccepted)
	ev := st.waitFor(t, 0, "message.received", func(e event) bool {
		return e.is(inst, "message.received") && str(e.Data, "text") == "from the contact"
	})
	id := str(ev.Data, "id")
	msg := "/api/v1/instances/" + inst + "/messages/" + id
	r := s.do(t, "POST", msg+"/read", a.Access, nil)
	wantStatus(t, r, http.StatusOK)
	if r.JSON["readAt"] == nil {
		t.Errorf("read: got %v, want readAt", r.JSON)
	}
	wantStatus(t, s.do(t, "POST", base+"/react", a.Access, map[string]any{"from": from, "messageId": id, "emoji": "❤️"}), http.StatusAccepted)
	st.waitFor(t, 0, "message.reaction", func(e event) bool {
		return e.is(inst, "message.reaction") && str(e.Data, "messageId") == id && str(e.Data, "emoji") == "❤️" &&
			strings.HasPrefix(str(e.Data, "from"), digits(from))
	})
	wantStatus(t, s.do(t, "POST", base+"/edit", a.Access, map[string]any{"from": from, "messageId": id, "text": "edited by the contact"}), http.StatusAccepted)
	st.waitFor(t, 0, "message.edited", func(e event) bool {
		return e.is(inst, "message.edited") && str(e.Data, "messageId") == id && str(e.Data, "text") == "edited by the contact"
	})
	wantStatus(t, s.do(t, "POST", base+"/revoke", a.Access, map[string]any{"from": from, "messageId": id}), http.StatusAccepted)
	st.waitFor(t, 0, "message.deleted", func(e event) bool {
		return e.is(inst, "message.deleted") && str(e.Data, "messageId") == id && strings.HasPrefix(str(e.Data, "by"), digits(from))
	})
	got := s.do(t, "GET", msg, a.Access, nil)
	rs, _ := got.JSON["reactions"].([]any)
	if str(got.JSON, "text") != "edited by the contact" || got.JSON["editedAt"] == nil || got.JSON["deletedAt"] == nil || len(rs) != 1 {
		t.Errorf("the stored inbound message: got %v, want edited, deleted and one reaction", got.JSON)
	}
	// The instance cannot edit or delete a contact's message.
	wantProblem(t, s.do(t, "PATCH", msg, a.Access, map[string]any{"text": "x"}), http.StatusUnprocessableEntity, "validation_failed")
	wantProblem(t, s.do(t, "DELETE", msg, a.Access, nil), http.StatusUnprocessableEntity, "validation_failed")
}

// actionRefusals: bad input is 422, another tenant's message 404.
func actionRefusals(t *testing.T, s *ownedServer, a account, key, inst, id string) {
	path := "/api/v1/messages/" + id
	wantFieldError(t, s.do(t, "POST", path+"/reaction", key, map[string]any{"emoji": "hello"}), "emoji")
	wantFieldError(t, s.do(t, "POST", path+"/reaction", key, map[string]any{}), "emoji")
	wantFieldError(t, s.do(t, "POST", path+"/forward", key, map[string]any{"to": "nope"}), "to")
	wantFieldError(t, s.do(t, "POST", "/api/v1/chats/15551234567/presence", key, map[string]any{"state": "dancing"}), "state")
	wantFieldError(t, s.do(t, "POST", "/api/v1/messages/text", key, map[string]any{"to": "+15551234567", "text": "no mention", "mentions": []string{"+15551234567"}}), "mentions")
	other := s.register(t)
	oinst := linkedInstance(t, s, other.Access, "other")
	base := "/api/v1/instances/" + oinst + "/messages/" + id
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"POST", base + "/reaction", map[string]any{"emoji": "👍"}}, {"PATCH", base, map[string]any{"text": "x"}},
		{"DELETE", base, nil}, {"POST", base + "/read", nil}, {"POST", base + "/forward", map[string]any{"to": "+15551234567"}},
	} {
		wantProblem(t, s.do(t, c.method, c.path, other.Access, c.body), http.StatusNotFound, "not_found")
	}
}
