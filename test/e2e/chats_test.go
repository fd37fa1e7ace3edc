package e2e

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
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
			t.Run("Contacts", x.contacts)
			t.Run("Blocking", x.blocking)
			t.Run("Profile", x.profile)
			t.Run("Behaviour", x.behaviour)
			t.Run("Ignore", x.ignore)
			t.Run("AlwaysOnline", x.alwaysOnline)
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

// contacts: the address book holds the phones that wrote in, with their
// push names; a profile shows the about text and picture the simulated
// network answers; numbers off WhatsApp do not exist; bad numbers are 422.
func (x *chatsEnv) contacts(t *testing.T) {
	ada := randomPhone()
	x.inbound(t, ada, "hello, add me")
	r := x.s.do(t, "GET", "/api/v1/contacts", x.key, nil)
	wantStatus(t, r, http.StatusOK)
	data, _ := list(t, r)
	var found map[string]any
	for _, c := range data {
		if str(c, "phoneNumber") == "+"+digits(ada) {
			found = c
		}
	}
	if found == nil {
		t.Fatalf("GET /contacts: got %v, want %s in it", data, ada)
	}
	wantKeys(t, "contact", found, "phoneNumber", "jid", "name", "pushName", "isBusiness")
	if str(found, "pushName") != "Sim "+digits(ada) || str(found, "jid") != digits(ada)+"@s.whatsapp.net" {
		t.Errorf("contact %s: got %v, want push name %q", ada, found, "Sim "+digits(ada))
	}
	page, next := list(t, x.s.do(t, "GET", "/api/v1/instances/"+x.inst+"/contacts?limit=1", x.a.Access, nil))
	if len(page) != 1 || (len(data) > 1 && next == "") {
		t.Errorf("contacts by pages of one: got %v (next %q) of %d", page, next, len(data))
	}

	r = x.s.do(t, "GET", "/api/v1/contacts/"+ada+"/profile", x.key, nil)
	wantStatus(t, r, http.StatusOK)
	wantKeys(t, "profile", r.JSON, "phoneNumber", "exists", "jid", "pushName", "about", "pictureUrl")
	if r.JSON["exists"] != true || str(r.JSON, "about") != wasim.DefaultAbout || str(r.JSON, "pictureUrl") != wasim.PictureURL(ada) ||
		str(r.JSON, "pushName") != "Sim "+digits(ada) {
		t.Errorf("profile of %s: got %v, want it on WhatsApp with the default about, its picture and push name", ada, r.JSON)
	}
	r = x.s.do(t, "GET", "/api/v1/instances/"+x.inst+"/contacts/+9995550100/profile", x.a.Access, nil)
	wantStatus(t, r, http.StatusOK)
	if r.JSON["exists"] != false || r.JSON["pictureUrl"] != nil || r.JSON["jid"] != nil {
		t.Errorf("profile of a number off WhatsApp: got %v, want exists false and no jid or picture", r.JSON)
	}
	wantFieldError(t, x.s.do(t, "GET", "/api/v1/contacts/12ab/profile", x.key, nil), "phone")
	wantFieldError(t, x.s.do(t, "GET", "/api/v1/contacts/123/profile", x.key, nil), "phone")
	wantProblem(t, x.s.do(t, "GET", "/api/v1/instances/"+x.inst+"/contacts", x.other.Access, nil), http.StatusNotFound, "not_found")
	wantProblem(t, x.s.do(t, "GET", "/api/v1/instances/"+x.inst+"/contacts/"+ada+"/profile", x.other.Access, nil), http.StatusNotFound, "not_found")
	fresh := str(x.s.createInstance(t, x.a.Access, "contacts-unlinked"), "id")
	wantProblem(t, x.s.do(t, "GET", "/api/v1/instances/"+fresh+"/contacts", x.a.Access, nil), http.StatusConflict, "instance_not_connected")
}

// blocking: block and unblock change the list WhatsApp keeps (the
// simulated server's), and a blocked number's messages do not arrive.
func (x *chatsEnv) blocking(t *testing.T) {
	spam, friend := randomPhone(), randomPhone()
	r := x.s.do(t, "POST", "/api/v1/contacts/"+spam+"/block", x.key, nil)
	wantStatus(t, r, http.StatusOK)
	if data, _ := r.JSON["data"].([]any); len(data) != 1 || str(data[0].(map[string]any), "phoneNumber") != "+"+digits(spam) {
		t.Errorf("block %s: got %v, want it the only blocked number", spam, r.JSON)
	}
	wantStatus(t, x.s.do(t, "POST", "/api/v1/instances/"+x.inst+"/contacts/"+friend+"/block", x.a.Access, nil), http.StatusOK)
	ownPhone := digits(str(x.s.do(t, "GET", "/api/v1/instance", x.key, nil).JSON, "phoneNumber"))
	if got := x.sim.BlockList(ownPhone); len(got) != 2 {
		t.Errorf("the server's block list of %s: got %v, want 2 numbers", ownPhone, got)
	}
	r = x.s.do(t, "POST", "/api/v1/contacts/"+friend+"/unblock", x.key, nil)
	wantStatus(t, r, http.StatusOK)
	r = x.s.do(t, "GET", "/api/v1/contacts/blocked", x.key, nil)
	wantStatus(t, r, http.StatusOK)
	if data, _ := r.JSON["data"].([]any); len(data) != 1 || str(data[0].(map[string]any), "jid") != digits(spam)+"@s.whatsapp.net" {
		t.Errorf("GET /contacts/blocked: got %v, want only %s", r.JSON, spam)
	}
	if got := x.sim.BlockList(ownPhone); len(got) != 1 || got[0] != digits(spam) {
		t.Errorf("the server's block list after unblocking: got %v, want [%s]", got, digits(spam))
	}
	// The blocked number writes; the friend writes after it: only the
	// friend's message arrives.
	wantStatus(t, x.s.do(t, "POST", "/api/v1/sandbox/instances/"+x.inst+"/inbound", x.a.Access,
		map[string]any{"from": spam, "text": "buy now"}), http.StatusAccepted)
	x.inbound(t, friend, "after the spam")
	inbound, _ := list(t, x.s.do(t, "GET", "/api/v1/messages?direction=inbound&limit=200", x.key, nil))
	for _, m := range inbound {
		if str(m, "text") == "buy now" {
			t.Errorf("a message of the blocked %s arrived: %v", spam, m)
		}
	}
	wantFieldError(t, x.s.do(t, "POST", "/api/v1/contacts/not-a-number/block", x.key, nil), "phone")
	wantProblem(t, x.s.do(t, "POST", "/api/v1/instances/"+x.inst+"/contacts/"+spam+"/unblock", x.other.Access, nil), http.StatusNotFound, "not_found")
	_, readOnly := x.s.createKey(t, x.a.Access, x.inst, map[string]any{"name": "reader", "scopes": []string{"contacts:read"}})
	wantProblem(t, x.s.do(t, "POST", "/api/v1/contacts/"+spam+"/unblock", readOnly, nil), http.StatusForbidden, "forbidden")
}

// profile: the about text reaches WhatsApp (the simulated server and the
// profile others read); what whatsmeow cannot do is 501 naming it.
func (x *chatsEnv) profile(t *testing.T) {
	ownPhone := str(x.s.do(t, "GET", "/api/v1/instance", x.key, nil).JSON, "phoneNumber")
	wantStatus(t, x.s.do(t, "PATCH", "/api/v1/instance/profile", x.key, map[string]any{"about": "Open 9–17"}), http.StatusNoContent)
	if got := x.sim.About(ownPhone); got != "Open 9–17" {
		t.Errorf("the server's about of %s: got %q, want %q", ownPhone, got, "Open 9–17")
	}
	r := x.s.do(t, "GET", "/api/v1/contacts/"+ownPhone+"/profile", x.key, nil)
	if str(r.JSON, "about") != "Open 9–17" {
		t.Errorf("own profile as WhatsApp answers it: got %v, want the new about", r.JSON)
	}
	p := x.s.do(t, "PATCH", "/api/v1/instances/"+x.inst+"/profile", x.a.Access, map[string]any{"pushName": "Shop"})
	wantProblem(t, p, http.StatusNotImplemented, "not_supported")
	if d := str(p.JSON, "detail"); !strings.Contains(d, "app-state keys") {
		t.Errorf("push name: got detail %q, want it to name the missing app-state keys", d)
	}
	jpeg := base64.StdEncoding.EncodeToString([]byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F', 'I', 'F'})
	p = x.s.do(t, "PUT", "/api/v1/instance/profile/picture", x.key, map[string]any{"base64": jpeg, "mimeType": "image/jpeg"})
	wantProblem(t, p, http.StatusNotImplemented, "not_supported")
	if d := str(p.JSON, "detail"); !strings.Contains(d, "profile picture") {
		t.Errorf("picture: got detail %q, want it to name what whatsmeow lacks", d)
	}
	wantFieldError(t, x.s.do(t, "PUT", "/api/v1/instance/profile/picture", x.key,
		map[string]any{"base64": base64.StdEncoding.EncodeToString([]byte("GIF89a")), "mimeType": "image/jpeg"}), "image")
	wantFieldError(t, x.s.do(t, "PATCH", "/api/v1/instance/profile", x.key, map[string]any{"about": strings.Repeat("a", 140)}), "about")
	wantFieldError(t, x.s.do(t, "PATCH", "/api/v1/instance/profile", x.key, map[string]any{"pushName": ""}), "pushName")
	wantProblem(t, x.s.do(t, "PATCH", "/api/v1/instance/profile", x.key, map[string]any{"bio": "x"}), http.StatusUnprocessableEntity, "validation_failed")
	wantProblem(t, x.s.do(t, "PATCH", "/api/v1/instances/"+x.inst+"/profile", x.other.Access, map[string]any{"about": "x"}), http.StatusNotFound, "not_found")
}
