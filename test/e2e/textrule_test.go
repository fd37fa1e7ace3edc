package e2e

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"google.golang.org/protobuf/proto"

	"github.com/wagate/wagate/adapters/wasim"
)

// TestTextRule: the outside probe's findings on both databases. Text with
// NUL (which PostgreSQL refuses and SQLite stores), a cursor that decodes
// to NUL, and oversized strings are 422 naming the field on every route
// the probe listed, never 500; a contact's message with NUL is cleaned,
// stored and announced, never dropped.
func TestTextRule(t *testing.T) {
	sim := simulator(t, wasim.Options{})
	for _, b := range databases {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			env := sandboxEnv(t, b, sim)
			env["WAGATE_WEBHOOK_ALLOW_PRIVATE"] = "true" // a loopback URL, no DNS
			s := startOwned(t, b.name, env)
			a := s.register(t)
			inst := linkedInstance(t, s, a.Access, "textrule")
			t.Run("refused input", func(t *testing.T) { refusedText(t, s, a, inst) })
			t.Run("inbound NUL kept", func(t *testing.T) { inboundNUL(t, s, sim, a, inst) })
		})
	}
}

// textCase is one request that must be refused on field.
type textCase struct {
	method, path, body, field string
}

func refusedText(t *testing.T, s *ownedServer, a account, inst string) {
	i := "/api/v1/instances/" + inst
	tpl := str(s.do(t, "POST", "/api/v1/templates", a.Access, `{"name":"greet","body":"Hi {{name}}"}`).JSON, "id")
	wh := str(s.do(t, "POST", i+"/webhooks", a.Access,
		`{"url":"http://127.0.0.1:9/hook","events":["message.received"]}`).JSON, "id")
	bulk := str(s.do(t, "POST", i+"/bulk", a.Access, `{"text":"hi","recipients":[{"to":"+15550001111"}]}`).JSON, "id")
	if tpl == "" || wh == "" || bulk == "" {
		t.Fatalf("setup: got template %q, webhook %q, bulk %q; want all three", tpl, wh, bulk)
	}
	cases := []textCase{
		{"POST", "/api/v1/auth/login", `{"email":"a\u0000@example.com","password":"x"}`, "email"},
		{"POST", "/api/v1/auth/login", `{"email":"` + strings.Repeat("a", 900_000) + `@example.com","password":"x"}`, "email"},
		{"POST", "/api/v1/auth/login", `{"email":"a@example.com","password":"` + strings.Repeat("p", 1025) + `"}`, "password"},
		{"GET", "/api/v1/stats?instanceId=%00", "", "instanceId"},
		{"POST", i + "/messages/text", `{"to":"+15550001111","text":"hi\u0000"}`, "text"},
		{"POST", i + "/messages/text", `{"to":"+15550001111","text":"hi","replyTo":"\u0000"}`, "replyTo"},
		{"POST", i + "/messages/image", `{"to":"+15550001111","media":{"url":"https://example.com/a.jpg"},"caption":"a\u0000"}`, "caption"},
		{"POST", i + "/messages/location", `{"to":"+15550001111","latitude":1,"longitude":2,"name":"\u0000"}`, "name"},
		{"POST", "/api/v1/templates", `{"name":"t\u0000","body":"b"}`, "name"},
		{"POST", "/api/v1/templates", `{"name":"t","body":"b\u0000"}`, "body"},
		{"POST", "/api/v1/templates", `{"name":"\u202Egnp.exe","body":"b"}`, "name"},
		{"POST", i + "/bulk", `{"text":"hi\u0000","recipients":[{"to":"+15550001111"}]}`, "text"},
		{"POST", i + "/bulk", `{"templateId":"` + tpl + `","recipients":[{"to":"+15550001111","variables":{"name":"\u0000"}}]}`, "recipients[0].variables.name"},
		{"POST", i + "/bulk", `{"templateId":"\u0000","recipients":[{"to":"+15550001111"}]}`, "templateId"},
		{"POST", i + "/webhooks", `{"url":"http://127.0.0.1:9/h","events":["message.received"],"description":"d\u0000"}`, "description"},
		{"POST", "/api/v1/instances", `{"name":"x","metadata":{"k\u0000":"v"}}`, "metadata.k"},
		{"POST", "/api/v1/instances", `{"name":"x","metadata":{"k":"v\u0000"}}`, "metadata.k"},
		{"POST", "/api/v1/instances", `{"name":"` + strings.Repeat("😀", 101) + `"}`, "name"},
		{"POST", "/api/v1/instances", `{"Name":"x"}`, "Name"},
		{"POST", "/api/v1/instances", `{"name":"a","name":"b"}`, "name"},
	}
	for _, list := range []string{"/api/v1/instances", i + "/api-keys", i + "/messages",
		i + "/webhooks/" + wh + "/deliveries", "/api/v1/templates", "/api/v1/bulk/" + bulk + "/messages",
		"/api/v1/audit-logs"} {
		cases = append(cases, textCase{"GET", list + "?cursor=AA", "", "cursor"}, textCase{"GET", list + "?cursor=%00", "", "cursor"})
	}
	for _, tc := range cases {
		r := s.do(t, tc.method, tc.path, a.Access, optionalBody(tc.body))
		if r.Status >= 500 {
			t.Errorf("%s %s: got %d, want 422", tc.method, short(tc.path), r.Status)
			continue
		}
		wantFieldError(t, r, tc.field)
	}
	// A name core accepts is stored on both databases: 100 emoji are 100
	// characters, not 400 bytes.
	wantStatus(t, s.do(t, "POST", "/api/v1/instances", a.Access, `{"name":"`+strings.Repeat("😀", 100)+`"}`), http.StatusCreated)
}

// optionalBody sends no body for "".
func optionalBody(b string) any {
	if b == "" {
		return nil
	}
	return b
}

func short(s string) string {
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}

// inboundNUL: a contact's text and pin with NUL bytes reach the API and
// the stream cleaned, not lost.
func inboundNUL(t *testing.T, s *ownedServer, sim *wasim.Server, a account, inst string) {
	st := openStream(t, s, "", bearer(a.Access))
	instPhone := str(s.do(t, "GET", "/api/v1/instances/"+inst, a.Access, nil).JSON, "phoneNumber")
	from := fmt.Sprintf("+1555%07d", rand.N(10_000_000))
	if err := sim.Contact(from).SendText(t.Context(), instPhone, "null\x00byte"); err != nil {
		t.Fatalf("the contact sends a text: %v", err)
	}
	ev := st.waitFor(t, 0, "message.received text", func(e event) bool {
		return e.is(inst, "message.received") && str(e.Data, "type") == "text"
	})
	if got := str(ev.Data, "text"); got != "nullbyte" {
		t.Errorf("message.received text: got %q, want %q", got, "nullbyte")
	}
	_, err := sim.Contact(from).Send(t.Context(), instPhone, &waE2E.Message{LocationMessage: &waE2E.LocationMessage{
		DegreesLatitude: proto.Float64(1), DegreesLongitude: proto.Float64(2), Name: proto.String("caf\x00é"),
	}})
	if err != nil {
		t.Fatalf("the contact shares a location: %v", err)
	}
	pin := st.waitFor(t, 0, "message.received location", func(e event) bool {
		return e.is(inst, "message.received") && str(e.Data, "type") == "location"
	})
	if got := str(obj(t, pin.Data, "location"), "name"); got != "café" {
		t.Errorf("message.received location name: got %q, want café", got)
	}
	stored := s.do(t, "GET", "/api/v1/instances/"+inst+"/messages/"+str(ev.Data, "id"), a.Access, nil)
	wantStatus(t, stored, http.StatusOK)
	if got := str(stored.JSON, "text"); got != "nullbyte" {
		t.Errorf("stored inbound text: got %q, want %q", got, "nullbyte")
	}
}
