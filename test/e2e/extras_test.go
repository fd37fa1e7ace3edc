package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/wagate/wagate/adapters/wasim"
)

// What every send carries besides its content and what the actions tell a
// webhook (SPEC §6a, §9, §10): a text's link preview fetched from a local
// page (a failing fetch still sends the text), a reply and a mention on an
// image and a poll, each checked in the simulated phone's record; and a
// receiver subscribed to "*" gets message.reaction, message.edited,
// message.poll_vote, message.deleted and an inbound video's
// message.received with their data. On SQLite with the embedded queue and
// PostgreSQL with asynq.
func TestSendExtrasAndWebhooks(t *testing.T) {
	sim := simulator(t, wasim.Options{ReceiptDelay: receiptDelay})
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/news" {
			http.Error(w, "gone", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<html><head><meta property="og:title" content="Gateway news"><meta property="og:description" content="All of it"></head></html>`)
	}))
	t.Cleanup(site.Close)
	for _, b := range []backend{sqlite, postgresRedis} {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			env := sandboxEnv(t, b, sim)
			env["WAGATE_WEBHOOK_ALLOW_PRIVATE"] = "true" // the page and the receiver are on loopback
			s := startOwned(t, b.name, env)
			a := s.register(t)
			inst := linkedInstance(t, s, a.Access, "extras")
			_, key := s.createKey(t, a.Access, inst, map[string]any{"name": "extras"})
			x := &extrasEnv{s: s, sim: sim, a: a, inst: inst, key: key, st: openStream(t, s, "", bearer(a.Access)),
				hook: &hookLog{r: newReceiver(t)}}
			createWebhook(t, s, a.Access, inst, map[string]any{"url": x.hook.r.srv.URL, "events": []string{"*"}})
			t.Run("LinkPreview", func(t *testing.T) { x.linkPreview(t, site.URL) })
			t.Run("ReplyAndMention", x.replyAndMention)
			t.Run("Webhooks", x.webhooks)
		})
	}
}

type extrasEnv struct {
	s         *ownedServer
	sim       *wasim.Server
	a         account
	inst, key string
	st        *stream
	hook      *hookLog
}

// phone returns a new scripted contact, which decrypts and records what
// it is sent.
func (x *extrasEnv) phone() string {
	p := newPhone()
	x.sim.Contact(p)
	return p
}

func (x *extrasEnv) linkPreview(t *testing.T, site string) {
	phone := x.phone()
	text := "news: " + site + "/news."
	wantStatus(t, x.s.do(t, "POST", "/api/v1/messages/text", x.key, map[string]any{"to": phone, "text": text}), http.StatusAccepted)
	wantPhoneGot(t, x.s, x.a.Access, phone, x.inst, func(m map[string]any) bool {
		return str(m, "text") == text && str(m, "previewTitle") == "Gateway news"
	})
	broken := "broken: " + site + "/missing"
	wantStatus(t, x.s.do(t, "POST", "/api/v1/messages/text", x.key, map[string]any{"to": phone, "text": broken}), http.StatusAccepted)
	got := wantPhoneGot(t, x.s, x.a.Access, phone, x.inst, func(m map[string]any) bool { return str(m, "text") == broken })
	if str(got, "previewTitle") != "" {
		t.Errorf("a text whose page fails: got preview %q, want none", str(got, "previewTitle"))
	}
}

func (x *extrasEnv) replyAndMention(t *testing.T) {
	phone := x.phone()
	id := sentAndRead(t, x.s, x.st, x.key, x.inst, map[string]any{"to": phone, "text": "quote me"})
	wa := waMessageID(t, x.s, x.a.Access, x.inst, id)
	mentioned := digits(phone) + "@s.whatsapp.net"
	isReply := func(typ string) func(map[string]any) bool {
		return func(m map[string]any) bool {
			ms, _ := m["mentions"].([]any)
			return str(m, "type") == typ && str(m, "quoted") == wa && len(ms) == 1 && ms[0] == mentioned
		}
	}
	wantStatus(t, x.s.do(t, "POST", "/api/v1/messages/image", x.key, map[string]any{
		"to": phone, "caption": "look @" + digits(phone), "replyTo": id, "mentions": []string{phone},
		"media": map[string]any{"base64": b64(fileWith(pngHead, 2_000)), "mimeType": "image/png"},
	}), http.StatusAccepted)
	got := wantPhoneGot(t, x.s, x.a.Access, phone, x.inst, isReply("image"))
	if str(got, "caption") != "look @"+digits(phone) {
		t.Errorf("the reply's caption: got %q, want the mention in it", str(got, "caption"))
	}
	wantStatus(t, x.s.do(t, "POST", "/api/v1/messages/poll", x.key, map[string]any{
		"to": phone, "question": "Agreed?", "options": []string{"yes", "no"}, "replyTo": id, "mentions": []string{phone},
	}), http.StatusAccepted)
	wantPhoneGot(t, x.s, x.a.Access, phone, x.inst, isReply("poll"))
	wantFieldError(t, x.s.do(t, "POST", "/api/v1/messages/image", x.key, map[string]any{
		"to": phone, "caption": "no at-sign", "mentions": []string{phone},
		"media": map[string]any{"base64": b64(fileWith(pngHead, 2_000)), "mimeType": "image/png"},
	}), "mentions")
}

// webhooks: each action and an inbound video reach the "*" receiver.
func (x *extrasEnv) webhooks(t *testing.T) {
	phone := x.phone()
	id := sentAndRead(t, x.s, x.st, x.key, x.inst, map[string]any{"to": phone, "text": "act on me"})
	msg := "/api/v1/messages/" + id
	wantStatus(t, x.s.do(t, "POST", msg+"/reaction", x.key, map[string]any{"emoji": "🔥"}), http.StatusOK)
	x.hook.want(t, "message.reaction", func(d map[string]any) bool { return str(d, "messageId") == id && str(d, "emoji") == "🔥" })
	wantStatus(t, x.s.do(t, "PATCH", msg, x.key, map[string]any{"text": "acted on"}), http.StatusOK)
	x.hook.want(t, "message.edited", func(d map[string]any) bool { return str(d, "messageId") == id && str(d, "text") == "acted on" })

	r := x.s.do(t, "POST", "/api/v1/messages/poll", x.key, map[string]any{"to": phone, "question": "Which?", "options": []string{"a", "b"}})
	wantStatus(t, r, http.StatusAccepted)
	poll := str(r.JSON, "id")
	x.st.waitFor(t, 0, "poll sent", messageStatusIs(x.inst, poll, "read"))
	vote := map[string]any{"from": "+" + digits(phone), "messageId": poll, "selected": []string{"b"}}
	wantStatus(t, x.s.do(t, "POST", "/api/v1/sandbox/instances/"+x.inst+"/vote", x.a.Access, vote), http.StatusAccepted)
	x.hook.want(t, "message.poll_vote", func(d map[string]any) bool {
		sel, _ := d["selected"].([]any)
		return str(d, "messageId") == poll && len(sel) == 1 && sel[0] == "b"
	})

	wantStatus(t, x.s.do(t, "DELETE", msg, x.key, nil), http.StatusOK)
	x.hook.want(t, "message.deleted", func(d map[string]any) bool { return str(d, "messageId") == id })

	from := newPhone()
	video := fileWith(mp4Head, 10_000)
	wantStatus(t, x.s.do(t, "POST", "/api/v1/sandbox/instances/"+x.inst+"/inbound", x.a.Access, map[string]any{
		"from": from, "type": "video", "caption": "clip", "media": map[string]any{"base64": b64(video), "mimeType": "video/mp4"},
	}), http.StatusAccepted)
	x.hook.want(t, "message.received", func(d map[string]any) bool {
		return str(d, "type") == "video" && str(d, "caption") == "clip" && str(d, "direction") == "inbound"
	})
}

// hookLog keeps what a receiver got, so that events can be looked for in
// any order while the receiver keeps draining.
type hookLog struct {
	r    *receiver
	seen []hit
}

// want waits for an event of type typ whose data matches.
func (h *hookLog) want(t *testing.T, typ string, match func(data map[string]any) bool) {
	t.Helper()
	deadline := time.After(flowWait)
	for next := 0; ; {
		for ; next < len(h.seen); next++ {
			e := h.seen[next].env
			if d, _ := e["data"].(map[string]any); str(e, "type") == typ && d != nil && match(d) {
				return
			}
		}
		select {
		case got := <-h.r.hits:
			h.seen = append(h.seen, got)
		case <-deadline:
			t.Fatalf("the receiver got no matching %s among %d events", typ, len(h.seen))
		}
	}
}
