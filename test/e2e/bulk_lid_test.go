package e2e

import (
	"maps"
	"net/http"
	"testing"
	"time"

	"github.com/wagate/wagate/adapters/wasim"
)

// A bulk to contacts addressed by LID (SPEC §6a with §9's bulks): four
// recipients named by their LID JIDs, one of whose phones asks for a
// retry first, and two by their numbers; each phone gets its own text
// once, the LID ones in a LID-addressed chat; the receipts, sent from the
// LIDs, land on the right messages, so the bulk ends with every recipient
// read; the LID recipients' messages keep their chatLid. On each database.
func TestBulkToLIDs(t *testing.T) {
	sim := simulator(t, wasim.Options{ReceiptDelay: 100 * time.Millisecond})
	for _, b := range []backend{sqlite, postgres, postgresRedis} {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{
				"WAGATE_JWT_SECRET": jwtSecret, "WAGATE_AUTH_RATE_PER_MIN": "100000",
				"WAGATE_WHATSAPP": "sandbox", "WAGATE_SANDBOX_ADDR": sim.Addr(), "WAGATE_SEND_DELAY": "0",
				"WAGATE_TIERS": "basic=5:100000,pro=20:100000,max=40:100000",
			}
			maps.Copy(env, b.env(t))
			s := startOwned(t, b.name, env)
			a := s.register(t)
			inst := linkedInstance(t, s, a.Access, "bulk-lid")
			_, key := s.createKey(t, a.Access, inst, map[string]any{"name": "sender"})

			ps := phones(6)
			rs := make([]map[string]any, len(ps))
			lids := map[string]string{} // phone → LID, for the LID recipients
			for i, p := range ps {
				to := p
				if i < 4 {
					to = sim.Contact(p).LID().String()
					lids[p] = to
				}
				rs[i] = map[string]any{"to": to}
			}
			sim.Contact(ps[1]).RefuseNext(1)
			r := s.do(t, "POST", "/api/v1/bulk", key, map[string]any{"text": "bulk by lid", "recipients": rs, "pacing": map[string]any{"minDelayMs": 0, "maxDelayMs": 20}})
			wantStatus(t, r, http.StatusAccepted)
			id := str(r.JSON, "id")
			for _, p := range ps {
				got := nextReceived(t, sim.Contact(p))
				_, byLID := lids[p]
				if got.Text != "bulk by lid" || got.LID != byLID {
					t.Errorf("the phone %s got %q (by LID %v), want the bulk's text (by LID %v)", p, got.Text, got.LID, byLID)
				}
			}
			if n := sim.Contact(ps[1]).RetriesAsked(); n != 1 {
				t.Errorf("the phone %s asked for %d retries, want 1", ps[1], n)
			}
			got := waitBulk(t, s, key, id, "completed, all read", func(m map[string]any) bool { return num(m, "read") == 6 && str(m, "status") == "completed" })
			if str(got, "status") != "completed" || num(got, "failed") != 0 {
				t.Errorf("%v: want completed with every recipient read", got)
			}
			msgs, _ := list(t, s.do(t, "GET", "/api/v1/bulk/"+id+"/messages?limit=10", key, nil))
			if len(msgs) != 6 {
				t.Fatalf("the bulk lists %d messages, want 6", len(msgs))
			}
			for i, m := range msgs {
				want := lids[ps[i]]
				if str(m, "status") != "read" || str(m, "chatLid") != want {
					t.Errorf("bulk message %d: got %v, want read with chatLid %q", i, m, want)
				}
			}
			for _, p := range ps {
				noMore(t, sim, p)
			}
		})
	}
}
