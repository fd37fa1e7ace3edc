package e2e

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"testing"

	"github.com/wagate/wagate/adapters/wasim"
)

// Chats, contacts, profiles, the block list, per-instance behaviour and
// calls (SPEC §16, §10, §15a) through the real whatsmeow client against
// the simulator, on SQLite with the embedded queue and on PostgreSQL with
// asynq.

// chatsEnv is one linked instance with its key, its owner's stream and
// another tenant.
type chatsEnv struct {
	s         *ownedServer
	sim       *wasim.Server
	a, other  account
	inst, key string
	st        *stream
}

func randomPhone() string { return fmt.Sprintf("+1555%07d", rand.N(10_000_000)) }

func TestChatsAndContacts(t *testing.T) {
	sim := simulator(t, wasim.Options{ReceiptDelay: receiptDelay})
	for _, b := range []backend{sqlite, postgresRedis} {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := startOwned(t, b.name, sandboxEnv(t, b, sim))
			x := &chatsEnv{s: s, sim: sim, a: s.register(t), other: s.register(t)}
			x.inst = linkedInstance(t, s, x.a.Access, "chats")
			_, x.key = s.createKey(t, x.a.Access, x.inst, map[string]any{"name": "chats"})
			x.st = openStream(t, s, "", bearer(x.a.Access))
			t.Run("Chats", x.chats)
		})
	}
}

// inbound makes phone send text to the instance and waits for it.
func (x *chatsEnv) inbound(t *testing.T, phone, text string) map[string]any {
	t.Helper()
	wantStatus(t, x.s.do(t, "POST", "/api/v1/sandbox/instances/"+x.inst+"/inbound", x.a.Access,
		map[string]any{"from": phone, "text": text}), http.StatusAccepted)
	return x.st.waitFor(t, 0, "message.received "+text, func(e event) bool {
		return e.is(x.inst, "message.received") && str(e.Data, "text") == text
	}).Data
}

// chats: GET /chats lists chats newest first with unread counts that a
// read mark clears, pages, and refuses other tenants and bad cursors.
func (x *chatsEnv) chats(t *testing.T) {
	ada, bob := randomPhone(), randomPhone()
	x.sim.Contact(bob)
	first := x.inbound(t, ada, "one")
	x.inbound(t, ada, "two")
	sentAndRead(t, x.s, x.st, x.key, x.inst, map[string]any{"to": bob, "text": "to bob"})

	adaJID, bobJID := digits(ada)+"@s.whatsapp.net", digits(bob)+"@s.whatsapp.net"
	r := x.s.do(t, "GET", "/api/v1/chats", x.key, nil)
	wantStatus(t, r, http.StatusOK)
	data, next := list(t, r)
	if len(data) != 2 || next != "" {
		t.Fatalf("GET /chats: got %v (next %q), want two chats on one page", data, next)
	}
	wantKeys(t, "chat", data[0], "chat", "name", "isGroup", "lastMessageAt", "unreadCount")
	if str(data[0], "chat") != bobJID || num(data[0], "unreadCount") != 0 || data[0]["isGroup"] != false {
		t.Errorf("newest chat: got %v, want %s with nothing unread", data[0], bobJID)
	}
	if str(data[1], "chat") != adaJID || num(data[1], "unreadCount") != 2 || str(data[1], "lastMessageAt") == "" {
		t.Errorf("older chat: got %v, want %s with 2 unread", data[1], adaJID)
	}

	// Marking the first message read lowers the count (WhatsApp's times
	// are whole seconds: the second, received in the same second, counts
	// as earlier and is marked too); the newest clears the chat.
	wantStatus(t, x.s.do(t, "POST", "/api/v1/messages/"+str(first, "id")+"/read", x.key, nil), http.StatusOK)
	if got := x.unread(t, adaJID); got >= 2 {
		t.Errorf("unread of %s after reading the first: got %v, want fewer than 2", adaJID, got)
	}
	x.inbound(t, ada, "three")
	last, _ := list(t, x.s.do(t, "GET", "/api/v1/messages?direction=inbound&limit=1", x.key, nil))
	wantStatus(t, x.s.do(t, "POST", "/api/v1/instances/"+x.inst+"/messages/"+str(last[0], "id")+"/read", x.a.Access, nil), http.StatusOK)
	if got := x.unread(t, adaJID); got != 0 {
		t.Errorf("unread of %s after reading the newest: got %v, want 0", adaJID, got)
	}

	// Pages of one, in the JWT form.
	r = x.s.do(t, "GET", "/api/v1/instances/"+x.inst+"/chats?limit=1", x.a.Access, nil)
	wantStatus(t, r, http.StatusOK)
	page, next := list(t, r)
	if len(page) != 1 || str(page[0], "chat") != adaJID || next == "" {
		t.Fatalf("first page of one: got %v (next %q), want %s and a cursor", page, next, adaJID)
	}
	page, next = list(t, x.s.do(t, "GET", "/api/v1/instances/"+x.inst+"/chats?limit=1&cursor="+next, x.a.Access, nil))
	if len(page) != 1 || str(page[0], "chat") != bobJID || next != "" {
		t.Errorf("second page of one: got %v (next %q), want %s and no cursor", page, next, bobJID)
	}

	wantProblem(t, x.s.do(t, "GET", "/api/v1/instances/"+x.inst+"/chats", x.other.Access, nil), http.StatusNotFound, "not_found")
	wantProblem(t, x.s.do(t, "GET", "/api/v1/instances/not-an-id/chats", x.a.Access, nil), http.StatusNotFound, "not_found")
	wantProblem(t, x.s.do(t, "GET", "/api/v1/chats", x.a.Access, nil), http.StatusForbidden, "forbidden")
	wantFieldError(t, x.s.do(t, "GET", "/api/v1/chats?limit=500", x.key, nil), "limit")
	wantFieldError(t, x.s.do(t, "GET", "/api/v1/chats?cursor=%21%21", x.key, nil), "cursor")
	_, sendOnly := x.s.createKey(t, x.a.Access, x.inst, map[string]any{"name": "send-only", "scopes": []string{"messages:send"}})
	wantProblem(t, x.s.do(t, "GET", "/api/v1/chats", sendOnly, nil), http.StatusForbidden, "forbidden")
}

// unread is the unread count of chat.
func (x *chatsEnv) unread(t *testing.T, chat string) float64 {
	t.Helper()
	data, _ := list(t, x.s.do(t, "GET", "/api/v1/chats", x.key, nil))
	for _, c := range data {
		if str(c, "chat") == chat {
			return num(c, "unreadCount")
		}
	}
	t.Fatalf("GET /chats: no chat %s in %v", chat, data)
	return 0
}
