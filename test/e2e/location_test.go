package e2e

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"google.golang.org/protobuf/proto"

	"github.com/wagate/wagate/adapters/wasim"
)

// Location messages (SPEC §6): a pin sent through either URL form reaches
// the simulated contact with exactly its coordinates, name and address; an
// inbound pin is stored and emitted; bad coordinates are refused. On each
// database with the embedded queue, and on PostgreSQL with asynq.
func TestLocationMessages(t *testing.T) {
	sim := simulator(t, wasim.Options{ReceiptDelay: receiptDelay})
	for _, b := range []backend{sqlite, postgres, postgresRedis} {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			locationMessages(t, b, sim)
		})
	}
}

func locationMessages(t *testing.T, b backend, sim *wasim.Server) {
	s := startOwned(t, b.name, sandboxEnv(t, b, sim))
	a := s.register(t)
	inst := linkedInstance(t, s, a.Access, "pins")
	_, key := s.createKey(t, a.Access, inst, map[string]any{"name": "sender"})
	st := openStream(t, s, "", bearer(a.Access))

	phone := fmt.Sprintf("+1555%07d", rand.N(10_000_000))
	pin := wasim.Location{Latitude: -33.856784, Longitude: 151.215297, Name: "Opera House ✓", Address: "Bennelong Point, Sydney NSW 2000"}
	r := s.do(t, "POST", "/api/v1/messages/location", key, map[string]any{
		"to": phone, "latitude": pin.Latitude, "longitude": pin.Longitude, "name": pin.Name, "address": pin.Address,
	})
	wantStatus(t, r, http.StatusAccepted)
	id := str(r.JSON, "id")
	if str(r.JSON, "type") != "location" || str(r.JSON, "status") != "queued" {
		t.Errorf("%s: want a queued location", r)
	}
	st.waitFor(t, 0, "message.status read", messageStatusIs(inst, id, "read"))
	wantPin(t, sim, phone, pin)
	wantPhoneGot(t, s, a.Access, phone, inst, func(m map[string]any) bool {
		l, _ := m["location"].(map[string]any)
		return str(m, "type") == "location" && l != nil && num(l, "latitude") == pin.Latitude && str(l, "name") == pin.Name
	})

	m := s.do(t, "GET", "/api/v1/messages/"+id, key, nil)
	wantStatus(t, m, http.StatusOK)
	loc := obj(t, m.JSON, "location")
	if num(loc, "latitude") != pin.Latitude || num(loc, "longitude") != pin.Longitude || str(loc, "name") != pin.Name || str(loc, "address") != pin.Address {
		t.Errorf("GET /messages/%s: got location %v, want %+v", id, loc, pin)
	}
	if str(m.JSON, "type") != "location" || m.JSON["text"] != nil {
		t.Errorf("GET /messages/%s: got type %v text %v, want location without text", id, m.JSON["type"], m.JSON["text"])
	}

	// The JWT form, coordinates only: the contact gets no name or address.
	other := fmt.Sprintf("+1555%07d", rand.N(10_000_000))
	r = s.do(t, "POST", "/api/v1/instances/"+inst+"/messages/location", a.Access, map[string]any{"to": other, "latitude": 0, "longitude": -180})
	wantStatus(t, r, http.StatusAccepted)
	wantPin(t, sim, other, wasim.Location{Latitude: 0, Longitude: -180})

	inboundLocation(t, s, sim, st, a, inst)
	locationRefusals(t, s, key)
}

// wantPin waits for the contact's next message and checks it is pin.
func wantPin(t *testing.T, sim *wasim.Server, phone string, pin wasim.Location) {
	t.Helper()
	select {
	case got := <-sim.Contact(phone).Messages():
		if got.Location == nil || *got.Location != pin || got.Text != "" {
			t.Errorf("the contact %s received %+v (text %q), want exactly the pin %+v", phone, got.Location, got.Text, pin)
		}
	case <-time.After(flowWait):
		t.Fatalf("the contact %s received nothing", phone)
	}
}

// inboundLocation: a contact shares a pin with the instance.
func inboundLocation(t *testing.T, s *ownedServer, sim *wasim.Server, st *stream, a account, inst string) {
	t.Helper()
	instPhone := str(s.do(t, "GET", "/api/v1/instances/"+inst, a.Access, nil).JSON, "phoneNumber")
	from := fmt.Sprintf("+1555%07d", rand.N(10_000_000))
	_, err := sim.Contact(from).Send(t.Context(), instPhone, &waE2E.Message{LocationMessage: &waE2E.LocationMessage{
		DegreesLatitude: proto.Float64(48.858370), DegreesLongitude: proto.Float64(2.294481),
		Name: proto.String("Tour Eiffel"), Address: proto.String("Champ de Mars, Paris"),
	}})
	if err != nil {
		t.Fatalf("the contact shares a location: %v", err)
	}
	ev := st.waitFor(t, 0, "message.received location", func(e event) bool {
		return e.is(inst, "message.received") && str(e.Data, "type") == "location"
	})
	loc := obj(t, ev.Data, "location")
	if num(loc, "latitude") != 48.858370 || num(loc, "longitude") != 2.294481 || str(loc, "name") != "Tour Eiffel" ||
		str(ev.Data, "direction") != "inbound" || !strings.HasPrefix(str(ev.Data, "from"), digits(from)) {
		t.Errorf("message.received: got %v, want the inbound pin from %s", ev.Data, from)
	}
	got := s.do(t, "GET", "/api/v1/instances/"+inst+"/messages/"+str(ev.Data, "id"), a.Access, nil)
	wantStatus(t, got, http.StatusOK)
	if l := obj(t, got.JSON, "location"); str(l, "address") != "Champ de Mars, Paris" {
		t.Errorf("the stored inbound pin: got %v, want its address", l)
	}
}

func locationRefusals(t *testing.T, s *ownedServer, key string) {
	t.Helper()
	path := "/api/v1/messages/location"
	to := "+15550001111"
	for _, tc := range []struct {
		field string
		body  any
	}{
		{"latitude", map[string]any{"to": to, "latitude": 90.5, "longitude": 0}},
		{"latitude", map[string]any{"to": to, "longitude": 0}},
		{"longitude", map[string]any{"to": to, "latitude": 0, "longitude": -181}},
		{"longitude", map[string]any{"to": to, "latitude": 0}},
		{"latitude", `{"to":"+15550001111","latitude":"52.5","longitude":13.4}`},
		{"name", map[string]any{"to": to, "latitude": 1, "longitude": 1, "name": strings.Repeat("n", 257)}},
		{"address", map[string]any{"to": to, "latitude": 1, "longitude": 1, "address": strings.Repeat("a", 513)}},
		{"to", map[string]any{"to": "12ab", "latitude": 1, "longitude": 1}},
		{"zoom", map[string]any{"to": to, "latitude": 1, "longitude": 1, "zoom": 3}},
	} {
		wantFieldError(t, s.do(t, "POST", path, key, tc.body), tc.field)
	}
	wantProblem(t, s.do(t, "POST", path, key, `{"to":`), http.StatusBadRequest, "invalid_json")
}
