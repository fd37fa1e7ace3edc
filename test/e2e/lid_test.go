package e2e

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wagate/wagate/adapters/wasim"
)

// SPEC §6a "Phone numbers, not LIDs" and §15a lid:true, black-box: a
// contact that writes from a LID-addressed chat shows up with its phone
// number and its LID beside it; sends to its number and to its LID JID
// both reach it, through a retry receipt the phone sends first (from its
// LID for the LID send), and follow its receipts to read; bad LIDs are
// 422; another tenant sees nothing.

func TestLIDContact(t *testing.T) {
	sim := simulator(t, wasim.Options{ReceiptDelay: receiptDelay})
	for _, b := range []backend{sqlite, postgres} {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			lidContact(t, b, sim)
		})
	}
}

func lidContact(t *testing.T, b backend, sim *wasim.Server) {
	env := sandboxEnv(t, b, sim)
	s := startOwned(t, b.name, env)
	a, other := s.register(t), s.register(t)
	inst := linkedInstance(t, s, a.Access, "lid")
	_, key := s.createKey(t, a.Access, inst, map[string]any{"name": "sender"})
	st := openStream(t, s, "", bearer(a.Access))

	phone := fmt.Sprintf("+1555%07d", rand.N(10_000_000))
	contact := sim.Contact(phone)
	pn, lid := digits(phone)+"@s.whatsapp.net", contact.LID().String()

	// The contact writes from its LID: the phone number is reported.
	wantStatus(t, s.do(t, "POST", "/api/v1/sandbox/instances/"+inst+"/inbound", a.Access,
		map[string]any{"from": phone, "text": "hi from my lid", "lid": true}), http.StatusAccepted)
	ev := st.waitFor(t, 0, "message.received", func(e event) bool {
		return e.is(inst, "message.received") && str(e.Data, "text") == "hi from my lid"
	})
	if str(ev.Data, "from") != pn || str(ev.Data, "chat") != pn || str(ev.Data, "fromLid") != lid || str(ev.Data, "chatLid") != lid {
		t.Errorf("message.received: got %v, want from and chat %s with fromLid and chatLid %s", ev.Data, pn, lid)
	}
	in := s.do(t, "GET", "/api/v1/messages/"+str(ev.Data, "id"), key, nil)
	wantStatus(t, in, http.StatusOK)
	if str(in.JSON, "from") != pn || str(in.JSON, "fromLid") != lid || str(in.JSON, "chatLid") != lid {
		t.Errorf("GET inbound message: got %s, want from %s with fromLid %s stored", in, pn, lid)
	}
	wantProblem(t, s.do(t, "GET", "/api/v1/instances/"+inst+"/messages/"+str(ev.Data, "id"), other.Access, nil), http.StatusNotFound, "not_found")

	// A send to the number and one to the LID JID both reach the phone and
	// are read.
	for _, tc := range []struct {
		to    string
		byLID bool
	}{{phone, false}, {lid, true}} {
		text := "to " + tc.to + " on " + b.name
		// The phone cannot decrypt the first copy and asks for a retry
		// (from its LID for the LID send): the instance's client resends.
		contact.RefuseNext(1)
		asked := contact.RetriesAsked()
		r := s.do(t, "POST", "/api/v1/messages/text", key, map[string]any{"to": tc.to, "text": text})
		wantStatus(t, r, http.StatusAccepted)
		id := str(r.JSON, "id")
		for _, status := range []string{"sent", "delivered", "read"} {
			st.waitFor(t, 0, "message.status "+status+" of the send to "+tc.to, messageStatusIs(inst, id, status))
		}
		got := nextReceived(t, contact)
		if n := contact.RetriesAsked(); n != asked+1 {
			t.Errorf("the phone asked for %d retries, want 1", n-asked)
		}
		if got.Text != text || got.LID != tc.byLID {
			t.Errorf("the phone received %q (by LID %v), want %q (by LID %v)", got.Text, got.LID, text, tc.byLID)
		}
		m := s.do(t, "GET", "/api/v1/messages/"+id, key, nil)
		wantStatus(t, m, http.StatusOK)
		if str(m.JSON, "status") != "read" || str(m.JSON, "waMessageId") != got.ID {
			t.Errorf("GET the send to %s: got %s, want read with the id the phone received (%s)", tc.to, m, got.ID)
		}
		// The phone's record, over HTTP, shows the chat as the phone saw
		// it: the instance's LID for the LID send, its number otherwise.
		rec := wantPhoneGot(t, s, a.Access, digits(phone), inst, func(pm map[string]any) bool { return str(pm, "waMessageId") == got.ID })
		if chat := str(rec, "chat"); str(rec, "text") != text || strings.HasSuffix(chat, "@lid") != tc.byLID {
			t.Errorf("the phone's record: got %v, want %q in a chat by LID: %v", rec, text, tc.byLID)
		}
		// The LID's number is known since the contact wrote: it is reported.
		if tc.byLID && (str(m.JSON, "to") != pn || str(m.JSON, "chat") != pn || str(m.JSON, "chatLid") != lid) {
			t.Errorf("GET the send to the LID: got %s, want to and chat %s with chatLid %s", m, pn, lid)
		}
	}

	// A well-formed LID nobody has fails like a number not on WhatsApp.
	r := s.do(t, "POST", "/api/v1/messages/text", key, map[string]any{"to": "999999999999999@lid", "text": "anyone?"})
	wantStatus(t, r, http.StatusAccepted)
	failed := st.waitFor(t, 0, "message.status failed", messageStatusIs(inst, str(r.JSON, "id"), "failed"))
	if code := str(obj(t, failed.Data, "error"), "code"); code != "recipient_not_on_whatsapp" {
		t.Errorf("failed send to an unknown LID: got error code %q, want recipient_not_on_whatsapp", code)
	}

	// GET /messages?chat= finds the chat by its number and by its LID
	// alike: the inbound message and both sends, whichever form each was
	// addressed by; a LID nobody knows finds its own send only; another
	// tenant's key finds nothing of it.
	inbound := str(ev.Data, "id")
	for _, chat := range []string{digits(phone), pn, lid} {
		data, _ := list(t, s.do(t, "GET", "/api/v1/messages?chat="+url.QueryEscape(chat)+"&limit=50", key, nil))
		var ids []string
		for _, m := range data {
			ids = append(ids, str(m, "id"))
		}
		if len(ids) != 3 || !slices.Contains(ids, inbound) {
			t.Errorf("GET /messages?chat=%s: got %v, want the inbound message and the two sends", chat, data)
		}
	}
	data, _ := list(t, s.do(t, "GET", "/api/v1/messages?chat=999999999999999@lid", key, nil))
	if len(data) != 1 || str(data[0], "id") != str(r.JSON, "id") {
		t.Errorf("GET /messages?chat= of the unknown LID: got %v, want its failed send alone", data)
	}
	_, otherKey := s.createKey(t, other.Access, linkedInstance(t, s, other.Access, "lid-other"), map[string]any{"name": "other"})
	if data, _ := list(t, s.do(t, "GET", "/api/v1/messages?chat="+lid, otherKey, nil)); len(data) != 0 {
		t.Errorf("another tenant's GET /messages?chat=%s: got %v, want nothing", lid, data)
	}

	// Bad LIDs are field errors; another tenant cannot send through the
	// instance.
	for _, bad := range []string{"12@lid", "abc123456789@lid", lid[:len(lid)-4] + ":2@lid", "123456789012345678901234@lid", "@lid"} {
		wantFieldError(t, s.do(t, "POST", "/api/v1/messages/text", key, map[string]any{"to": bad, "text": "hi"}), "to")
	}
	wantProblem(t, s.do(t, "POST", "/api/v1/instances/"+inst+"/messages/text", other.Access,
		map[string]any{"to": lid, "text": "hi"}), http.StatusNotFound, "not_found")
}

// nextReceived waits for the next message the phone decrypted.
func nextReceived(t *testing.T, c *wasim.Contact) wasim.Received {
	t.Helper()
	select {
	case got := <-c.Messages():
		return got
	case <-time.After(flowWait):
		t.Fatalf("the phone %s received nothing", c.Phone())
	}
	return wasim.Received{}
}
