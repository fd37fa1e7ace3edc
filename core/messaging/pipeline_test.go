package messaging_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wagate/wagate/ports"
)

// TestNextIsClaimedWhileTheSendIsOnTheWire: while a send waits for
// WhatsApp's answer, the message after it is claimed already, under its
// WhatsApp id, and the outcome of the send before it is recorded; it goes
// out only once the answer is in.
func TestNextIsClaimedWhileTheSendIsOnTheWire(t *testing.T) {
	e := newEnv(t, ports.StatusConnected)
	a, b, c := e.send(t, "+15550000001"), e.send(t, "+15550000002"), e.send(t, "+15550000003")
	seen := map[string]map[ports.MessageID]ports.Message{} // by recipient on the wire: the stored a, b, c
	e.wa.SendFunc = func(out ports.WAOutbound) (ports.WASent, error) {
		to := strings.TrimSuffix(out.To, "@s.whatsapp.net")
		if to == "15550000002" {
			// Hold b on the wire until c is claimed (ahead runs meanwhile).
			waitFor(t, "c claimed", func() bool { return e.get(t, c.ID).Status == ports.MsgSending })
		}
		seen[to] = map[ports.MessageID]ports.Message{a.ID: e.get(t, a.ID), b.ID: e.get(t, b.ID), c.ID: e.get(t, c.ID)}
		return echo(out)
	}
	if err := e.run(t, a.ID); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"15550000001", "15550000002", "15550000003"}, sentTo(e.wa)); d != "" {
		t.Errorf("sends (-want +got):\n%s", d)
	}
	onB := seen["15550000002"]
	if got := onB[a.ID]; got.Status != ports.MsgSent {
		t.Errorf("a while b is on the wire: got %s, want sent (recorded meanwhile)", got.Status)
	}
	if got := onB[c.ID]; got.Status != ports.MsgSending || got.WAMessageID == "" || got.Attempts != 1 {
		t.Errorf("c while b is on the wire: got %s %q after %d attempts, want claimed under its id", got.Status, got.WAMessageID, got.Attempts)
	}
	for _, m := range []ports.Message{a, b, c} {
		got := e.get(t, m.ID)
		if got.Status != ports.MsgSent || got.Attempts != 1 {
			t.Errorf("%s: got %s after %d attempts, want sent after 1", m.To, got.Status, got.Attempts)
		}
		if s := strings.Join(statuses(e.bus, m.ID), ">"); s != "sending>sent" {
			t.Errorf("%s: got events %s, want sending>sent", m.To, s)
		}
	}
	if got := e.get(t, c.ID); got.WAMessageID != onB[c.ID].WAMessageID {
		t.Errorf("c went out under %q, want the id claimed ahead %q", got.WAMessageID, onB[c.ID].WAMessageID)
	}
}

// TestClaimAheadGivenBackWhenTheSendFails: the send in flight finds the
// instance disconnected, so the run stops; the message claimed behind it
// never went out and is queued again, its attempt not counted (it can
// still be cancelled), and the next run sends both in order under the
// ids they were given.
func TestClaimAheadGivenBackWhenTheSendFails(t *testing.T) {
	e := newEnv(t, ports.StatusConnected)
	connected := false
	a, b := e.send(t, "+15550000001"), e.send(t, "+15550000002")
	var bOnWire ports.Message
	e.wa.SendFunc = func(out ports.WAOutbound) (ports.WASent, error) {
		if !connected {
			waitFor(t, "b claimed", func() bool { return e.get(t, b.ID).Status == ports.MsgSending })
			bOnWire = e.get(t, b.ID)
			return ports.WASent{}, ports.ErrNotConnected()
		}
		return echo(out)
	}
	if err := e.run(t, a.ID); !ports.IsCode(err, ports.EUnavailable) {
		t.Fatalf("while disconnected: got %v, want unavailable (retried)", err)
	}
	for _, m := range []ports.Message{a, b} {
		if got := e.get(t, m.ID); got.Status != ports.MsgQueued || got.Attempts != 0 {
			t.Errorf("%s after the failed send: got %s with %d attempts, want queued with 0", m.To, got.Status, got.Attempts)
		}
	}
	if d := cmp.Diff([]string{"15550000001"}, sentTo(e.wa)); d != "" {
		t.Errorf("sends while disconnected (-want +got):\n%s", d)
	}
	connected = true
	e.requeue(a.ID)
	if err := e.run(t, a.ID); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"15550000001", "15550000001", "15550000002"}, sentTo(e.wa)); d != "" {
		t.Errorf("sends (-want +got):\n%s", d)
	}
	if got := e.get(t, b.ID); got.Status != ports.MsgSent || got.Attempts != 1 || got.WAMessageID != bOnWire.WAMessageID {
		t.Errorf("b: got %s %q after %d attempts, want sent under %q after 1", got.Status, got.WAMessageID, got.Attempts, bOnWire.WAMessageID)
	}
	if s := strings.Join(statuses(e.bus, b.ID), ">"); s != "sending>queued>sending>sent" {
		t.Errorf("b's events: got %s, want sending>queued>sending>sent", s)
	}
}

// waitFor polls cond for a few seconds, as a send on the wire would wait.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for stop := time.Now().Add(5 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(stop) {
			t.Errorf("%s: not after 5 s", what)
			return
		}
	}
}
