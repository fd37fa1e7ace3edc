package e2e

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/wagate/wagate/adapters/wasim"
)

// TestSendOrderAndWhatsAppID: messages accepted back to back go out in
// the order they were accepted, each once, and the WhatsApp id recorded
// on a message is the id its recipient received.
func TestSendOrderAndWhatsAppID(t *testing.T) {
	sim := simulator(t, wasim.Options{})
	for _, b := range databases {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			sendOrder(t, b, sim)
		})
	}
}

func sendOrder(t *testing.T, b backend, sim *wasim.Server) {
	env := sandboxEnv(t, b, sim)
	s := startOwned(t, b.name, env)
	a := s.register(t)
	inst := linkedInstance(t, s, a.Access, "order")
	_, key := s.createKey(t, a.Access, inst, map[string]any{"name": "sender"})
	st := openStream(t, s, "", bearer(a.Access))

	phone := fmt.Sprintf("+1555%07d", rand.N(10_000_000))
	const n = 6
	ids := make([]string, n)
	for i := range n {
		r := s.do(t, "POST", "/api/v1/messages/text", key, map[string]any{"to": phone, "text": fmt.Sprintf("message %d", i)})
		wantStatus(t, r, http.StatusAccepted)
		ids[i] = str(r.JSON, "id")
	}
	for _, id := range ids {
		st.waitFor(t, 0, "message.status sent", messageStatusIs(inst, id, "sent"))
	}
	contact := sim.Contact(phone)
	for i, id := range ids {
		var got wasim.Received
		select {
		case got = <-contact.Messages():
		case <-time.After(flowWait):
			t.Fatalf("the contact received %d messages, want %d", i, n)
		}
		m := s.do(t, "GET", "/api/v1/messages/"+id, key, nil)
		wantStatus(t, m, http.StatusOK)
		if want := fmt.Sprintf("message %d", i); got.Text != want {
			t.Errorf("received #%d: got %q, want %q (the order they were accepted)", i, got.Text, want)
		}
		if wa := str(m.JSON, "waMessageId"); wa == "" || got.ID != wa || num(m.JSON, "attempts") != 1 {
			t.Errorf("message %s: recorded WhatsApp id %q after %v attempts, the contact received %q; want the same id after 1",
				id, wa, m.JSON["attempts"], got.ID)
		}
	}
	if d := contact.Duplicates(); d != 0 {
		t.Errorf("got %d duplicates at the contact, want none", d)
	}
}
