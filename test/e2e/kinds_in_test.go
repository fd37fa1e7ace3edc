package e2e

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"google.golang.org/protobuf/proto"
)

// receiveKinds: a contact sends each kind over the sandbox route; the
// instance stores and emits it with its type, media downloadable.
func (k *kindsEnv) receiveKinds(t *testing.T) {
	inbound := "/api/v1/sandbox/instances/" + k.inst + "/inbound"
	video, sticker, ogg, pdf := fileWith(mp4Head, 20_000), fileWith(animatedWebP, 3_000), voiceNote(), fileWith(pdfHead, 5_000)
	for _, tc := range []struct {
		kind  string
		body  map[string]any
		check func(data map[string]any) bool
		media []byte
	}{
		{"video", map[string]any{"caption": "clip", "media": map[string]any{"base64": b64(video), "mimeType": "video/mp4"}},
			func(d map[string]any) bool { return str(d, "caption") == "clip" }, video},
		{"sticker", map[string]any{"media": map[string]any{"base64": b64(sticker), "mimeType": "image/webp"}}, nil, sticker},
		{"audio", map[string]any{"media": map[string]any{"base64": b64(ogg), "mimeType": "audio/ogg; codecs=opus"}}, nil, ogg},
		{"document", map[string]any{"caption": "terms", "media": map[string]any{"base64": b64(pdf), "mimeType": "application/pdf", "filename": "terms.pdf"}},
			func(d map[string]any) bool { return str(d, "caption") == "terms" }, pdf},
		{"location", map[string]any{"latitude": 52.52, "longitude": 13.405},
			func(d map[string]any) bool { return num(obj(t, d, "location"), "latitude") == 52.52 }, nil},
		{"contact", map[string]any{"contacts": []map[string]any{{"name": "Eve, Q", "phones": []map[string]any{{"number": "+15550123", "type": "CELL"}}, "email": "eve@example.com"}}},
			func(d map[string]any) bool {
				c, _ := d["contacts"].([]any)
				if len(c) != 1 {
					return false
				}
				card := c[0].(map[string]any)
				phones := card["phones"].([]any)
				return str(card, "name") == "Eve, Q" && str(card, "email") == "eve@example.com" &&
					str(phones[0].(map[string]any), "number") == "+15550123" && str(phones[0].(map[string]any), "type") == "CELL"
			}, nil},
		{"poll", map[string]any{"poll": map[string]any{"question": "When?", "options": []string{"now", "later"}}},
			func(d map[string]any) bool {
				p := obj(t, d, "poll")
				return str(p, "question") == "When?" && len(p["options"].([]any)) == 2 && p["multipleAnswers"] == false
			}, nil},
	} {
		from := newPhone()
		tc.body["from"], tc.body["type"] = from, tc.kind
		mark := k.st.mark()
		wantStatus(t, k.s.do(t, "POST", inbound, k.a.Access, tc.body), http.StatusAccepted)
		ev := k.st.waitFor(t, mark, "message.received "+tc.kind, func(e event) bool {
			return e.is(k.inst, "message.received") && strings.HasPrefix(str(e.Data, "from"), digits(from))
		})
		if str(ev.Data, "type") != tc.kind || str(ev.Data, "direction") != "inbound" || (tc.check != nil && !tc.check(ev.Data)) {
			t.Errorf("message.received: got %v, want the inbound %s", ev.Data, tc.kind)
		}
		if tc.media != nil {
			m := k.s.do(t, "GET", "/api/v1/messages/"+str(ev.Data, "id")+"/media", k.key, nil)
			wantStatus(t, m, http.StatusOK)
			if !bytes.Equal(m.Body, tc.media) {
				t.Errorf("GET media of the inbound %s: got %d bytes, want the %d sent", tc.kind, len(m.Body), len(tc.media))
			}
		}
	}
	k.unsupported(t)
	// The webhook carried each one too.
	want := map[string]bool{"video": true, "sticker": true, "audio": true, "document": true, "location": true, "contact": true, "poll": true, "unsupported": true}
	for len(want) > 0 {
		h := k.hook.wait(t, "message.received")
		delete(want, str(obj(t, h.env, "data"), "type"))
	}
}

// unsupported: a kind wagate does not model is stored and emitted with
// its raw type, not dropped.
func (k *kindsEnv) unsupported(t *testing.T) {
	instPhone := str(k.s.do(t, "GET", "/api/v1/instances/"+k.inst, k.a.Access, nil).JSON, "phoneNumber")
	from := newPhone()
	mark := k.st.mark()
	_, err := k.sim.Contact(from).Send(t.Context(), instPhone, &waE2E.Message{EventMessage: &waE2E.EventMessage{Name: proto.String("Launch")}})
	if err != nil {
		t.Fatalf("the contact sends an event message: %v", err)
	}
	ev := k.st.waitFor(t, mark, "message.received unsupported", func(e event) bool {
		return e.is(k.inst, "message.received") && strings.HasPrefix(str(e.Data, "from"), digits(from))
	})
	if str(ev.Data, "type") != "unsupported" || str(ev.Data, "rawType") != "eventMessage" {
		t.Errorf("message.received: got %v, want type unsupported with rawType eventMessage", ev.Data)
	}
}

// kindRefusals: field errors, sniffed types, sizes, and another tenant's
// poll.
func (k *kindsEnv) kindRefusals(t *testing.T) {
	to := "+15550001111"
	png := b64(fileWith(pngHead, 100))
	wantProblem(t, k.s.do(t, "POST", "/api/v1/messages/video", k.key, map[string]any{"to": to, "media": map[string]any{"base64": png}}), http.StatusUnsupportedMediaType, "unsupported_media_type")
	wantProblem(t, k.s.do(t, "POST", "/api/v1/messages/sticker", k.key, map[string]any{"to": to, "media": map[string]any{"base64": png}}), http.StatusUnsupportedMediaType, "unsupported_media_type")
	wantProblem(t, k.s.do(t, "POST", "/api/v1/messages/video", k.key, map[string]any{"to": to, "media": map[string]any{"base64": b64(fileWith(mp4Head, 400_000))}}), http.StatusRequestEntityTooLarge, "payload_too_large")
	card := map[string]any{"name": "A", "phones": []map[string]any{{"number": "+1555"}}}
	many := make([]map[string]any, 11)
	for i := range many {
		many[i] = card
	}
	for _, tc := range []struct {
		path, field string
		body        map[string]any
	}{
		{"sticker", "caption", map[string]any{"to": to, "caption": "no", "media": map[string]any{"base64": b64(fileWith(animatedWebP, 10))}}},
		{"contact", "contacts", map[string]any{"to": to, "contacts": []any{}}},
		{"contact", "contacts", map[string]any{"to": to, "contacts": many}},
		{"contact", "contacts[0].name", map[string]any{"to": to, "contacts": []map[string]any{{"name": "", "phones": []map[string]any{{"number": "1"}}}}}},
		{"contact", "contacts[0].phones[0].number", map[string]any{"to": to, "contacts": []map[string]any{{"name": "x", "phones": []map[string]any{{"number": "call me"}}}}}},
		{"poll", "options", map[string]any{"to": to, "question": "q", "options": []string{"one"}}},
		{"poll", "options[1]", map[string]any{"to": to, "question": "q", "options": []string{"a", "a"}}},
		{"poll", "question", map[string]any{"to": to, "question": " ", "options": []string{"a", "b"}}},
	} {
		wantFieldError(t, k.s.do(t, "POST", "/api/v1/messages/"+tc.path, k.key, tc.body), tc.field)
	}
	wantFieldError(t, k.s.do(t, "POST", "/api/v1/sandbox/instances/"+k.inst+"/inbound", k.a.Access, map[string]any{"from": "+15550002222", "type": "hologram"}), "type")

	// Another tenant's poll is not found, on the tallies and vote routes.
	r := k.s.do(t, "POST", "/api/v1/messages/poll", k.key, map[string]any{"to": newPhone(), "question": "q", "options": []string{"a", "b"}})
	wantStatus(t, r, http.StatusAccepted)
	id := str(r.JSON, "id")
	other := k.s.register(t)
	theirs := linkedInstance(t, k.s, other.Access, "theirs")
	wantProblem(t, k.s.do(t, "GET", "/api/v1/instances/"+theirs+"/messages/"+id+"/poll", other.Access, nil), http.StatusNotFound, "not_found")
	wantProblem(t, k.s.do(t, "POST", "/api/v1/sandbox/instances/"+theirs+"/vote", other.Access,
		map[string]any{"from": "+15550002222", "messageId": id, "selected": []string{"a"}}), http.StatusNotFound, "not_found")
	wantProblem(t, k.s.do(t, "GET", "/api/v1/messages/"+str(r.JSON, "id")+"x/poll", k.key, nil), http.StatusNotFound, "not_found")
}
