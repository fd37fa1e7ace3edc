package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"google.golang.org/protobuf/proto"
)

// The per-instance behaviour of SPEC §16 (settings), on the instance of
// TestChatsAndContacts.

// behaviour: settings default off, are validated, stored and shown; every
// call is a call.received event; with rejectCalls the caller's phone sees
// the reject and gets the message; autoRead marks what arrives read.
func (x *chatsEnv) behaviour(t *testing.T) {
	path := "/api/v1/instances/" + x.inst
	r := x.s.do(t, "GET", path, x.a.Access, nil)
	wantStatus(t, r, http.StatusOK)
	set := obj(t, r.JSON, "settings")
	wantKeys(t, "settings", set, "rejectCalls", "rejectCallMessage", "autoRead", "alwaysOnline", "ignoreGroups", "ignoreStatusBroadcasts")
	for k, v := range set {
		if v != false && v != "" {
			t.Errorf("default setting %s: got %v, want off", k, v)
		}
	}
	own := str(r.JSON, "phoneNumber")

	// A call with the defaults: an event, not rejected.
	caller := randomPhone()
	wantStatus(t, x.s.do(t, "POST", "/api/v1/sandbox/instances/"+x.inst+"/call", x.a.Access, map[string]any{"from": caller}), http.StatusAccepted)
	ev := x.st.waitFor(t, 0, "call.received", func(e event) bool {
		return e.is(x.inst, "call.received") && str(e.Data, "from") == digits(caller)+"@s.whatsapp.net"
	})
	if ev.Data["rejected"] != false || ev.Data["isVideo"] != false || ev.Data["isGroup"] != false {
		t.Errorf("call.received without rejectCalls: got %v, want a voice call not rejected", ev.Data)
	}

	// Bad settings are refused, other tenants do not see the instance.
	wantFieldError(t, x.s.do(t, "PATCH", path, x.a.Access, map[string]any{"settings": map[string]any{"rejectCallMessage": strings.Repeat("a", 1025)}}), "settings.rejectCallMessage")
	wantProblem(t, x.s.do(t, "PATCH", path, x.a.Access, map[string]any{"settings": map[string]any{"rejectAll": true}}), http.StatusUnprocessableEntity, "validation_failed")
	wantProblem(t, x.s.do(t, "PATCH", path, x.a.Access, map[string]any{"settings": map[string]any{"autoRead": "yes"}}), http.StatusUnprocessableEntity, "validation_failed")
	wantProblem(t, x.s.do(t, "PATCH", path, x.other.Access, map[string]any{"settings": map[string]any{"rejectCalls": true}}), http.StatusNotFound, "not_found")

	msg := "Sorry, no calls here. Please write."
	r = x.s.do(t, "PATCH", path, x.a.Access, map[string]any{"settings": map[string]any{"rejectCalls": true, "rejectCallMessage": msg, "autoRead": true}})
	wantStatus(t, r, http.StatusOK)
	set = obj(t, r.JSON, "settings")
	if set["rejectCalls"] != true || str(set, "rejectCallMessage") != msg || set["autoRead"] != true || set["alwaysOnline"] != false {
		t.Errorf("settings after PATCH: got %v, want rejectCalls, the message and autoRead", set)
	}
	if got := obj(t, x.s.do(t, "GET", "/api/v1/instance", x.key, nil).JSON, "settings"); got["rejectCalls"] != true {
		t.Errorf("settings through the API key: got %v, want them stored", got)
	}

	// A video call now: rejected, the caller's phone sees the reject and
	// receives the message.
	video := randomPhone()
	phone := x.sim.Contact(video)
	callID, err := phone.Call(t.Context(), own, true)
	if err != nil {
		t.Fatalf("call the instance: %v", err)
	}
	ev = x.st.waitFor(t, 0, "call.received rejected", func(e event) bool {
		return e.is(x.inst, "call.received") && str(e.Data, "from") == digits(video)+"@s.whatsapp.net"
	})
	if ev.Data["rejected"] != true || ev.Data["isVideo"] != true {
		t.Errorf("call.received with rejectCalls: got %v, want a rejected video call", ev.Data)
	}
	ctx, cancel := context.WithTimeout(t.Context(), flowWait)
	defer cancel()
	rec, err := x.sim.WaitCallRejected(ctx, callID)
	if err != nil || rec.From != digits(video) || !rec.IsVideo {
		t.Errorf("the caller's phone: got %+v, %v, want its video call rejected", rec, err)
	}
	select {
	case got := <-phone.Messages():
		if got.Text != msg {
			t.Errorf("the rejected caller received %q, want %q", got.Text, msg)
		}
	case <-time.After(flowWait):
		t.Errorf("the rejected caller %s received no message", video)
	}

	// autoRead: a message that arrives is read at once.
	reader := randomPhone()
	in := x.inbound(t, reader, "read me")
	deadline := time.Now().Add(flowWait)
	for {
		m := x.s.do(t, "GET", "/api/v1/messages/"+str(in, "id"), x.key, nil)
		if str(m.JSON, "readAt") != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("with autoRead, message %s: got no readAt, want it marked read", str(in, "id"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := x.unread(t, digits(reader)+"@s.whatsapp.net"); got != 0 {
		t.Errorf("with autoRead, unread of %s: got %v, want 0", reader, got)
	}
	wantFieldError(t, x.s.do(t, "POST", "/api/v1/sandbox/instances/"+x.inst+"/call", x.a.Access, map[string]any{"from": "12ab"}), "from")
	wantProblem(t, x.s.do(t, "POST", "/api/v1/sandbox/instances/"+x.inst+"/call", x.other.Access, map[string]any{"from": caller}), http.StatusNotFound, "not_found")
}

// ignore: by default a message in a group the instance is in and a
// contact's status update (status@broadcast) arrive as message.received;
// with ignoreGroups and ignoreStatusBroadcasts on, neither becomes an
// event (so no webhook either) nor a stored message, while a direct
// message sent after them still does.
func (x *chatsEnv) ignore(t *testing.T) {
	path := "/api/v1/instances/" + x.inst
	own := str(x.s.do(t, "GET", path, x.a.Access, nil).JSON, "phoneNumber")
	member, poster := randomPhone(), randomPhone()
	g, err := x.sim.GroupCreate(member, "Ignored", []string{own})
	if err != nil {
		t.Fatalf("a phone creates a group with the instance: %v", err)
	}
	inGroup := func(text string) {
		t.Helper()
		wantStatus(t, x.s.do(t, "POST", "/api/v1/sandbox/instances/"+x.inst+"/inbound", x.a.Access,
			map[string]any{"from": member, "text": text, "group": g.String()}), http.StatusAccepted)
	}
	status := func(text string) {
		t.Helper()
		if _, err := x.sim.Contact(poster).SendStatus(t.Context(), []string{own}, &waE2E.Message{Conversation: proto.String(text)}); err != nil {
			t.Fatalf("post a status: %v", err)
		}
	}
	received := func(text, chat string) func(event) bool {
		return func(e event) bool {
			return e.is(x.inst, "message.received") && str(e.Data, "text") == text && str(e.Data, "chat") == chat
		}
	}

	inGroup("group, kept")
	x.st.waitFor(t, 0, "message.received in the group", received("group, kept", g.String()))
	status("status, kept")
	ev := x.st.waitFor(t, 0, "message.received of a status", received("status, kept", "status@broadcast"))
	if !strings.Contains(str(ev.Data, "from"), digits(poster)) {
		t.Errorf("status update: got from %q, want the poster %s", str(ev.Data, "from"), poster)
	}

	r := x.s.do(t, "PATCH", path, x.a.Access, map[string]any{"settings": map[string]any{"ignoreGroups": true, "ignoreStatusBroadcasts": true}})
	wantStatus(t, r, http.StatusOK)
	if set := obj(t, r.JSON, "settings"); set["ignoreGroups"] != true || set["ignoreStatusBroadcasts"] != true {
		t.Fatalf("settings after PATCH: got %v, want both ignores on", set)
	}
	from := x.st.mark()
	inGroup("group, ignored")
	status("status, ignored")
	x.inbound(t, randomPhone(), "direct, after the ignored ones")
	if n := x.st.count(from, func(e event) bool {
		return e.is(x.inst, "message.received") && strings.HasSuffix(str(e.Data, "text"), ", ignored")
	}); n != 0 {
		t.Errorf("with both ignores on: got %d message.received of the group message and the status, want none", n)
	}
	stored, _ := list(t, x.s.do(t, "GET", "/api/v1/messages?direction=inbound&limit=200", x.key, nil))
	for _, m := range stored {
		if strings.HasSuffix(str(m, "text"), ", ignored") {
			t.Errorf("with both ignores on: got stored %v, want it dropped", m)
		}
	}

	// Off again: both arrive again.
	wantStatus(t, x.s.do(t, "PATCH", path, x.a.Access, map[string]any{"settings": map[string]any{"ignoreGroups": false, "ignoreStatusBroadcasts": false}}), http.StatusOK)
	inGroup("group, kept again")
	status("status, kept again")
	x.st.waitFor(t, 0, "message.received in the group again", received("group, kept again", g.String()))
	x.st.waitFor(t, 0, "message.received of a status again", received("status, kept again", "status@broadcast"))
}

// alwaysOnline: once the phone has shared its app-state key and push name
// (as it does when a device links), the instance shows the name and can
// change it, and with alwaysOnline it announces itself available under it
// when it connects.
func (x *chatsEnv) alwaysOnline(t *testing.T) {
	path := "/api/v1/instances/" + x.inst
	own := str(x.s.do(t, "GET", path, x.a.Access, nil).JSON, "phoneNumber")
	if err := x.sim.SharePushName(t.Context(), own, "Shop"); err != nil {
		t.Fatalf("the phone shares its push name: %v", err)
	}
	x.waitPushName(t, "Shop")
	if p, ok := x.sim.Presence(own); ok && p.Available {
		t.Errorf("without alwaysOnline: got presence %+v, want none available", p)
	}
	wantStatus(t, x.s.do(t, "PATCH", "/api/v1/instance/profile", x.key, map[string]any{"pushName": "Shop & Co"}), http.StatusNoContent)
	x.waitPushName(t, "Shop & Co")

	r := x.s.do(t, "PATCH", path, x.a.Access, map[string]any{"settings": map[string]any{"alwaysOnline": true}})
	wantStatus(t, r, http.StatusOK)
	if set := obj(t, r.JSON, "settings"); set["alwaysOnline"] != true {
		t.Fatalf("settings after PATCH: got %v, want alwaysOnline", set)
	}
	mark := x.st.mark()
	wantStatus(t, x.s.do(t, "POST", path+"/disconnect", x.a.Access, nil), http.StatusAccepted)
	x.st.waitFor(t, mark, "disconnected", statusIs(x.inst, "disconnected"))
	mark = x.st.mark()
	wantStatus(t, x.s.do(t, "POST", path+"/connect", x.a.Access, nil), http.StatusAccepted)
	x.st.waitFor(t, mark, "connected again", statusIs(x.inst, "connected"))
	ctx, cancel := context.WithTimeout(t.Context(), flowWait)
	defer cancel()
	p, err := x.sim.WaitPresence(ctx, own, true)
	if err != nil || p.Name != "Shop & Co" {
		t.Errorf("with alwaysOnline, the network sees %s as: %+v, %v; want available as %q", own, p, err, "Shop & Co")
	}
	// A new name is announced at once, without a reconnect.
	wantStatus(t, x.s.do(t, "PATCH", "/api/v1/instance/profile", x.key, map[string]any{"pushName": "Shop 3"}), http.StatusNoContent)
	for p.Name != "Shop 3" && err == nil {
		p, err = x.sim.WaitPresence(ctx, own, true)
		if p.Name != "Shop 3" {
			time.Sleep(20 * time.Millisecond)
		}
	}
	if err != nil {
		t.Errorf("after a new push name with alwaysOnline: got %+v, %v, want available as %q", p, err, "Shop 3")
	}
}

// waitPushName waits until the instance shows the push name.
func (x *chatsEnv) waitPushName(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(flowWait)
	for {
		got := str(x.s.do(t, "GET", "/api/v1/instances/"+x.inst, x.a.Access, nil).JSON, "pushName")
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the instance's push name: got %q, want %q", got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
