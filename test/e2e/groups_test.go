package e2e

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"google.golang.org/protobuf/proto"

	"github.com/wagate/wagate/adapters/wasim"
)

// Groups (SPEC §16, §6a, §10): every group route in both URL forms
// through the real whatsmeow client against the simulator, asserting what
// the simulated phones saw and the events the stream carried; refusals
// (not an admin → 403, bad input → 422, another tenant → 404). On SQLite
// with the embedded queue and PostgreSQL with asynq.
func TestGroups(t *testing.T) {
	sim := simulator(t, wasim.Options{ReceiptDelay: receiptDelay})
	for _, b := range []backend{sqlite, postgresRedis} {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := startOwned(t, b.name, sandboxEnv(t, b, sim))
			a := s.register(t)
			inst := linkedInstance(t, s, a.Access, "groups")
			_, key := s.createKey(t, a.Access, inst, map[string]any{"name": "grouper"})
			r := s.do(t, "GET", "/api/v1/instances/"+inst, a.Access, nil)
			own := strings.TrimPrefix(str(r.JSON, "phoneNumber"), "+")
			st := openStream(t, s, "", bearer(a.Access))
			p1, p2, p3 := randomGroupPhone(), randomGroupPhone(), randomGroupPhone()
			for _, p := range []string{p1, p2, p3} {
				sim.Contact(p)
			}

			// Bad input is 422 with field errors, before WhatsApp is asked.
			r = s.do(t, "POST", "/api/v1/groups", key, map[string]any{"subject": "", "participants": []string{"abc"}})
			wantFieldError(t, r, "subject")
			wantFieldError(t, r, "participants[0]")
			wantFieldError(t, s.do(t, "GET", "/api/v1/groups/not-a-group", key, nil), "group")

			// Create: the numbers WhatsApp refused come back per number.
			r = s.do(t, "POST", "/api/v1/groups", key, map[string]any{
				"subject": "Team", "participants": []string{p1, p2, "+99900000001"}, "description": "first",
			})
			wantStatus(t, r, http.StatusCreated)
			g := str(r.JSON, "jid")
			if str(r.JSON, "subject") != "Team" || str(r.JSON, "description") != "first" || len(r.JSON["participants"].([]any)) != 3 {
				t.Fatalf("create: got %v, want Team/first with 3 participants", r.JSON)
			}
			wantResult(t, r.JSON["results"], "99900000001", "not_on_whatsapp")
			wantResult(t, r.JSON["results"], strings.TrimPrefix(p1, "+"), "ok")

			// List and info in the access-token form.
			r = s.do(t, "GET", "/api/v1/instances/"+inst+"/groups", a.Access, nil)
			wantStatus(t, r, http.StatusOK)
			data, _ := list(t, r)
			if !slices.ContainsFunc(data, func(m map[string]any) bool { return str(m, "jid") == g }) {
				t.Fatalf("list: got %v, want %s", data, g)
			}
			r = s.do(t, "GET", "/api/v1/instances/"+inst+"/groups/"+g, a.Access, nil)
			wantStatus(t, r, http.StatusOK)
			wantKeys(t, "group", r.JSON, "announce", "createdAt", "description", "ephemeralSeconds", "jid", "locked", "owner", "participants", "subject")
			if role := roleOf(r.JSON, own); role != "superadmin" || roleOf(r.JSON, strings.TrimPrefix(p2, "+")) != "member" {
				t.Fatalf("info: got own role %q, want superadmin; %v", role, r.JSON["participants"])
			}

			// A text to the group: every member phone decrypts it.
			r = s.do(t, "POST", "/api/v1/messages/text", key, map[string]any{"to": g, "text": "hello team"})
			wantStatus(t, r, http.StatusAccepted)
			for _, p := range []string{p1, p2} {
				wantPhoneGot(t, s, a.Access, p, inst, func(m map[string]any) bool {
					return str(m, "text") == "hello team" && str(m, "chat") == g
				})
			}
			// mentionAll mentions every participant but the instance.
			r = s.do(t, "POST", "/api/v1/messages/text", key, map[string]any{"to": g, "text": "all hands", "mentionAll": true})
			wantStatus(t, r, http.StatusAccepted)
			got := wantPhoneGot(t, s, a.Access, p1, inst, func(m map[string]any) bool { return str(m, "text") == "all hands" })
			if ms, _ := got["mentions"].([]any); len(ms) != 2 {
				t.Errorf("mentionAll: phone got mentions %v, want both other members", got["mentions"])
			}

			// Other kinds go to the group the same way: an image, a poll.
			raw := fileWith(pngHead, 4096)
			img := base64.StdEncoding.EncodeToString(raw)
			wantStatus(t, s.do(t, "POST", "/api/v1/messages/image", key, map[string]any{
				"to": g, "caption": "the team photo", "media": map[string]any{"base64": img, "mimeType": "image/png"},
			}), http.StatusAccepted)
			wantStatus(t, s.do(t, "POST", "/api/v1/messages/poll", key, map[string]any{
				"to": g, "question": "Lunch?", "options": []string{"yes", "no"},
			}), http.StatusAccepted)
			photo := wantPhoneGot(t, s, a.Access, p2, inst, func(m map[string]any) bool {
				return str(m, "type") == "image" && str(m, "chat") == g
			})
			// Every member phone downloads and decrypts the one file.
			if media, _ := photo["media"].(map[string]any); str(photo, "caption") != "the team photo" || media == nil ||
				str(media, "mimeType") != "image/png" || media["size"] != float64(len(raw)) {
				t.Errorf("image to the group: the phone got %v, want the caption and a PNG", photo)
			}
			poll := wantPhoneGot(t, s, a.Access, p2, inst, func(m map[string]any) bool {
				return str(m, "type") == "poll" && str(m, "chat") == g
			})
			if q, _ := poll["poll"].(map[string]any); str(q, "question") != "Lunch?" {
				t.Errorf("poll to the group: the phone got %v, want Lunch?", poll)
			}

			// A member writes in the group: chat is the group, from the phone.
			if _, err := sim.Contact(p1).SendGroup(t.Context(), types.NewJID(strings.TrimSuffix(g, "@g.us"), types.GroupServer),
				&waE2E.Message{Conversation: proto.String("from p1")}); err != nil {
				t.Fatalf("phone sends to group: %v", err)
			}
			st.waitFor(t, 0, "message.received in group", func(e event) bool {
				return e.is(inst, "message.received") && str(e.Data, "text") == "from p1" && str(e.Data, "chat") == g &&
					strings.Contains(str(e.Data, "from"), strings.TrimPrefix(p1, "+"))
			})

			// Settings; bad values are 422.
			wantFieldError(t, s.do(t, "PATCH", "/api/v1/groups/"+g, key, map[string]any{"ephemeralSeconds": 5}), "ephemeralSeconds")
			r = s.do(t, "PATCH", "/api/v1/groups/"+g, key, map[string]any{"subject": "Team 2", "description": "second", "locked": true, "ephemeralSeconds": 86400})
			wantStatus(t, r, http.StatusOK)
			if str(r.JSON, "subject") != "Team 2" || str(r.JSON, "description") != "second" || r.JSON["locked"] != true || num(r.JSON, "ephemeralSeconds") != 86400 {
				t.Fatalf("patch: got %v", r.JSON)
			}
			st.waitFor(t, 0, "group.updated subject", func(e event) bool {
				return e.is(inst, "group.updated") && str(e.Data, "group") == g && str(obj(t, e.Data, "changes"), "subject") == "Team 2"
			})
			gj := types.NewJID(strings.TrimSuffix(g, "@g.us"), types.GroupServer)
			if info, _ := sim.Group(gj); info.Subject != "Team 2" || !info.Locked || info.Ephemeral != 86400 {
				t.Fatalf("the network's group: got %+v", info)
			}

			// Picture set and removed.
			jpeg := base64.StdEncoding.EncodeToString([]byte{0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F'})
			wantStatus(t, s.do(t, "PUT", "/api/v1/groups/"+g+"/picture", key, map[string]any{"media": map[string]any{"base64": jpeg}}), http.StatusNoContent)
			if sim.GroupPicture(gj) == "" {
				t.Fatalf("got no picture on the network, want one")
			}
			wantFieldError(t, s.do(t, "PUT", "/api/v1/groups/"+g+"/picture", key, map[string]any{"media": map[string]any{"base64": "aGVsbG8="}}), "media")
			wantStatus(t, s.do(t, "DELETE", "/api/v1/instances/"+inst+"/groups/"+g+"/picture", a.Access, nil), http.StatusNoContent)
			if sim.GroupPicture(gj) != "" {
				t.Fatalf("the picture is still there, want it removed")
			}

			// Participants: per-number results, and the event.
			r = s.do(t, "POST", "/api/v1/groups/"+g+"/participants", key, map[string]any{
				"add": []string{p3, "+99800000001"}, "promote": []string{p1},
			})
			wantStatus(t, r, http.StatusOK)
			wantResult(t, r.JSON["data"], strings.TrimPrefix(p3, "+"), "ok")
			wantResult(t, r.JSON["data"], "99800000001", "forbidden")
			st.waitFor(t, 0, "group.participants add", func(e event) bool {
				ps, _ := e.Data["participants"].([]any)
				return e.is(inst, "group.participants") && str(e.Data, "action") == "add" && len(ps) == 1 && strings.Contains(fmt.Sprint(ps[0]), strings.TrimPrefix(p3, "+"))
			})
			if info, _ := sim.Group(gj); info.Members[strings.TrimPrefix(p1, "+")] != "admin" {
				t.Fatalf("p1 is %q on the network, want admin", info.Members[strings.TrimPrefix(p1, "+")])
			}

			// Invite links.
			r = s.do(t, "GET", "/api/v1/groups/"+g+"/invite-link", key, nil)
			wantStatus(t, r, http.StatusOK)
			link := str(r.JSON, "link")
			r = s.do(t, "POST", "/api/v1/instances/"+inst+"/groups/"+g+"/invite-link/revoke", a.Access, nil)
			wantStatus(t, r, http.StatusOK)
			if str(r.JSON, "link") == link || !strings.HasPrefix(link, "https://chat.whatsapp.com/") {
				t.Fatalf("revoke: got %q after %q, want a new link", str(r.JSON, "link"), link)
			}

			// Changes made on a phone arrive as events.
			if err := sim.GroupSet(p2, gj, "subject", "Phone's"); err == nil {
				t.Fatalf("a non-admin changing a locked group: got no error, want one")
			}
			if err := sim.GroupSet(p1, gj, "subject", "Phone's"); err != nil {
				t.Fatalf("admin phone sets subject: %v", err)
			}
			st.waitFor(t, 0, "group.updated by phone", func(e event) bool {
				return e.is(inst, "group.updated") && str(obj(t, e.Data, "changes"), "subject") == "Phone's" && strings.Contains(str(e.Data, "by"), strings.TrimPrefix(p1, "+"))
			})
			if err := sim.GroupLeave(p2, gj); err != nil {
				t.Fatalf("phone leaves: %v", err)
			}
			st.waitFor(t, 0, "group.participants leave", func(e event) bool {
				return e.is(inst, "group.participants") && str(e.Data, "action") == "leave" && strings.Contains(str(e.Data, "by"), strings.TrimPrefix(p2, "+"))
			})

			// A group made on a phone: the instance is a plain member, so
			// admin actions are 403 forbidden from WhatsApp's answer.
			pg, err := sim.GroupCreate(p1, "Phone group", []string{own})
			if err != nil {
				t.Fatalf("phone creates group: %v", err)
			}
			st.waitFor(t, 0, "group.participants join", func(e event) bool {
				return e.is(inst, "group.participants") && str(e.Data, "group") == pg.String()
			})
			wantProblem(t, s.do(t, "POST", "/api/v1/groups/"+pg.String()+"/participants", key, map[string]any{"add": []string{p3}}), http.StatusForbidden, "forbidden")
			wantProblem(t, s.do(t, "PATCH", "/api/v1/groups/"+pg.String(), key, map[string]any{"announce": true}), http.StatusForbidden, "forbidden")
			// Leave, then join again by the phone's link.
			wantStatus(t, s.do(t, "POST", "/api/v1/groups/"+pg.String()+"/leave", key, nil), http.StatusNoContent)
			wantProblem(t, s.do(t, "GET", "/api/v1/groups/"+pg.String(), key, nil), http.StatusNotFound, "not_found")
			code, err := sim.GroupInviteCode(p1, pg)
			if err != nil {
				t.Fatalf("invite code: %v", err)
			}
			r = s.do(t, "POST", "/api/v1/groups/join", key, map[string]any{"link": "https://chat.whatsapp.com/" + code})
			wantStatus(t, r, http.StatusOK)
			if str(r.JSON, "jid") != pg.String() {
				t.Fatalf("join: got %v, want %s", r.JSON, pg)
			}
			wantFieldError(t, s.do(t, "POST", "/api/v1/groups/join", key, map[string]any{"link": "ftp://x y"}), "link")
			wantStatus(t, s.do(t, "POST", "/api/v1/groups/join", key, map[string]any{"link": "https://chat.whatsapp.com/NoSuchCode123"}), http.StatusNotFound)

			// Remove and demote: per-number results, the events, the network.
			r = s.do(t, "POST", "/api/v1/groups/"+g+"/participants", key, map[string]any{"remove": []string{p3}, "demote": []string{p1}})
			wantStatus(t, r, http.StatusOK)
			wantResult(t, r.JSON["data"], strings.TrimPrefix(p3, "+"), "ok")
			wantResult(t, r.JSON["data"], strings.TrimPrefix(p1, "+"), "ok")
			for _, ch := range []struct{ action, phone string }{{"remove", p3}, {"demote", p1}} {
				st.waitFor(t, 0, "group.participants "+ch.action, func(e event) bool {
					return e.is(inst, "group.participants") && str(e.Data, "group") == g && str(e.Data, "action") == ch.action &&
						strings.Contains(fmt.Sprint(e.Data["participants"]), strings.TrimPrefix(ch.phone, "+"))
				})
			}
			if info, _ := sim.Group(gj); info.Members[strings.TrimPrefix(p1, "+")] != "" {
				t.Errorf("after demote, p1 is %q on the network, want a plain member", info.Members[strings.TrimPrefix(p1, "+")])
			} else if _, in := info.Members[strings.TrimPrefix(p3, "+")]; in {
				t.Errorf("after remove, p3 is still in the network's group: %v", info.Members)
			}

			// Another tenant sees none of it.
			b := s.register(t)
			wantProblem(t, s.do(t, "GET", "/api/v1/instances/"+inst+"/groups", b.Access, nil), http.StatusNotFound, "not_found")
			wantProblem(t, s.do(t, "GET", "/api/v1/instances/"+inst+"/groups/"+g, b.Access, nil), http.StatusNotFound, "not_found")
			wantProblem(t, s.do(t, "POST", "/api/v1/instances/"+inst+"/groups/"+g+"/leave", b.Access, nil), http.StatusNotFound, "not_found")
		})
	}
}

func randomGroupPhone() string { return fmt.Sprintf("+1556%07d", rand.N(10_000_000)) }

// roleOf is a participant's role in a group answer.
func roleOf(g map[string]any, phone string) string {
	ps, _ := g["participants"].([]any)
	for _, p := range ps {
		m := p.(map[string]any)
		if strings.TrimPrefix(str(m, "phoneNumber"), "+") == phone {
			return str(m, "role")
		}
	}
	return ""
}

// wantResult checks one number's result in a list of participant results.
func wantResult(t *testing.T, results any, phone, status string) {
	t.Helper()
	rs, _ := results.([]any)
	for _, r := range rs {
		m := r.(map[string]any)
		if strings.TrimPrefix(str(m, "phoneNumber"), "+") == phone {
			if str(m, "status") != status {
				t.Errorf("result of %s: got %q, want %q", phone, str(m, "status"), status)
			}
			return
		}
	}
	t.Errorf("results %v: got none for %s, want %q", rs, phone, status)
}

// The sandbox routes of SPEC §15a for groups: a member phone writes in a
// group and changes it over plain HTTP; a group the instance is not in is
// 404, bad input 422.
func TestSandboxGroups(t *testing.T) {
	sim := simulator(t, wasim.Options{})
	for _, b := range []backend{sqlite, postgresRedis} {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := startOwned(t, b.name, sandboxEnv(t, b, sim))
			a := s.register(t)
			inst := linkedInstance(t, s, a.Access, "sbgroups")
			_, key := s.createKey(t, a.Access, inst, map[string]any{"name": "k"})
			st := openStream(t, s, "", bearer(a.Access))
			p1, p2 := randomGroupPhone(), randomGroupPhone()
			sim.Contact(p1)
			sim.Contact(p2)
			r := s.do(t, "POST", "/api/v1/groups", key, map[string]any{"subject": "Sandbox", "participants": []string{p1, p2}})
			wantStatus(t, r, http.StatusCreated)
			g := str(r.JSON, "jid")
			wantStatus(t, s.do(t, "POST", "/api/v1/groups/"+g+"/participants", key, map[string]any{"promote": []string{p1}}), http.StatusOK)
			base := "/api/v1/sandbox/instances/" + inst

			r = s.do(t, "POST", base+"/inbound", a.Access, map[string]any{"from": p1, "text": "hi group", "group": g})
			wantStatus(t, r, http.StatusAccepted)
			st.waitFor(t, 0, "message.received in group", func(e event) bool {
				return e.is(inst, "message.received") && str(e.Data, "text") == "hi group" && str(e.Data, "chat") == g &&
					strings.Contains(str(e.Data, "from"), strings.TrimPrefix(p1, "+"))
			})
			r = s.do(t, "POST", base+"/group-event", a.Access, map[string]any{"group": g, "from": p1, "action": "subject", "value": "Renamed"})
			wantStatus(t, r, http.StatusAccepted)
			st.waitFor(t, 0, "group.updated", func(e event) bool {
				return e.is(inst, "group.updated") && str(e.Data, "group") == g && str(obj(t, e.Data, "changes"), "subject") == "Renamed"
			})
			r = s.do(t, "POST", base+"/group-event", a.Access, map[string]any{"group": g, "from": p1, "action": "remove", "participants": []string{p2}})
			wantStatus(t, r, http.StatusAccepted)
			st.waitFor(t, 0, "group.participants remove", func(e event) bool {
				return e.is(inst, "group.participants") && str(e.Data, "action") == "remove" && strings.Contains(fmt.Sprint(e.Data["participants"]), strings.TrimPrefix(p2, "+"))
			})
			r = s.do(t, "POST", base+"/group-event", a.Access, map[string]any{"group": g, "from": p1, "action": "leave"})
			wantStatus(t, r, http.StatusAccepted)
			st.waitFor(t, 0, "group.participants leave", func(e event) bool {
				return e.is(inst, "group.participants") && str(e.Data, "action") == "leave"
			})
			// A phone no longer in the group is refused by the network.
			wantProblem(t, s.do(t, "POST", base+"/group-event", a.Access, map[string]any{"group": g, "from": p2, "action": "subject", "value": "x"}),
				http.StatusConflict, "group_event_refused")
			wantFieldError(t, s.do(t, "POST", base+"/group-event", a.Access, map[string]any{"group": "nope", "from": p1, "action": "dance"}), "action")
			wantFieldError(t, s.do(t, "POST", base+"/inbound", a.Access, map[string]any{"from": p1, "text": "x", "group": "bad"}), "group")
			// Another tenant's group: 404 whatever the phone.
			other := s.register(t)
			otherInst := linkedInstance(t, s, other.Access, "other")
			wantStatus(t, s.do(t, "POST", "/api/v1/sandbox/instances/"+otherInst+"/group-event", other.Access,
				map[string]any{"group": g, "from": p1, "action": "subject", "value": "hijack"}), http.StatusNotFound)
			wantStatus(t, s.do(t, "POST", base+"/group-event", other.Access,
				map[string]any{"group": g, "from": p1, "action": "subject", "value": "hijack"}), http.StatusNotFound)
		})
	}
}
