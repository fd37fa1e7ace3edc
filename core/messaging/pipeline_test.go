package messaging_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wagate/wagate/core/messaging"
	"github.com/wagate/wagate/ports"
)

// TestNextIsClaimedWhileTheSendIsOnTheWire: while a send waits for
// WhatsApp's answer, the messages after it are claimed already, in one
// batch, under their WhatsApp ids; while the later ones go out the
// outcomes of the sends before are recorded; each goes out only once the
// answer to the one before is in.
func TestNextIsClaimedWhileTheSendIsOnTheWire(t *testing.T) {
	e := newEnv(t, ports.StatusConnected)
	a, b, c, d := e.send(t, "+15550000001"), e.send(t, "+15550000002"), e.send(t, "+15550000003"), e.send(t, "+15550000004")
	all := []ports.Message{a, b, c, d}
	seen := map[string]map[ports.MessageID]ports.Message{} // by recipient on the wire: the stored a, b, c, d
	e.wa.SendFunc = func(out ports.WAOutbound) (ports.WASent, error) {
		to := strings.TrimSuffix(out.To, "@s.whatsapp.net")
		if to == "15550000004" {
			// Hold d, the last claimed, on the wire until a's outcome
			// is in: the look-ahead that started with b's send records it.
			waitFor(t, "a recorded", func() bool { return e.get(t, a.ID).Status == ports.MsgSent })
		}
		seen[to] = map[ports.MessageID]ports.Message{}
		for _, m := range all {
			seen[to][m.ID] = e.get(t, m.ID)
		}
		return echo(out)
	}
	if err := e.run(t, a.ID); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"15550000001", "15550000002", "15550000003", "15550000004"}, sentTo(e.wa)); diff != "" {
		t.Errorf("sends (-want +got):\n%s", diff)
	}
	onB, onD := seen["15550000002"], seen["15550000004"]
	for _, m := range []ports.Message{c, d} {
		if got := onB[m.ID]; got.Status != ports.MsgSending || got.WAMessageID == "" || got.Attempts != 1 {
			t.Errorf("%s while b is on the wire: got %s %q after %d attempts, want claimed under its id (with b, while a was on the wire)", m.To, got.Status, got.WAMessageID, got.Attempts)
		}
	}
	if got := onD[a.ID]; got.Status != ports.MsgSent {
		t.Errorf("a while d is on the wire: got %s, want sent (recorded meanwhile)", got.Status)
	}
	for _, m := range all {
		got := e.get(t, m.ID)
		if got.Status != ports.MsgSent || got.Attempts != 1 {
			t.Errorf("%s: got %s after %d attempts, want sent after 1", m.To, got.Status, got.Attempts)
		}
		if s := strings.Join(statuses(e.bus, m.ID), ">"); s != "sending>sent" {
			t.Errorf("%s: got events %s, want sending>sent", m.To, s)
		}
	}
	if got := e.get(t, d.ID); got.WAMessageID != onB[d.ID].WAMessageID {
		t.Errorf("d went out under %q, want the id claimed ahead %q", got.WAMessageID, onB[d.ID].WAMessageID)
	}
}

// TestNextBatchIsClaimedWhileThisOneGoesOut: the run claims the next
// batch while the sends of the one before still go out, not only once
// the last of them is on the wire, so that the claims' transaction hides
// behind several sends; every message still goes out once, in order,
// under the id it was claimed with.
func TestNextBatchIsClaimedWhileThisOneGoesOut(t *testing.T) {
	e := newEnv(t, ports.StatusConnected)
	all := e.sendMany(t, 12)
	// The first claim takes one, the look-ahead the next batch of 8
	// (2 to 9), and the look-ahead that starts with the 2nd send the 10th
	// on: the 5th is held on the wire until then.
	tenth := all[9]
	var claimedEarly ports.Message
	e.wa.SendFunc = func(out ports.WAOutbound) (ports.WASent, error) {
		if strings.HasPrefix(out.To, "15550000005") {
			waitFor(t, "the 10th claimed", func() bool { return e.get(t, tenth.ID).Status == ports.MsgSending })
			claimedEarly = e.get(t, tenth.ID)
		}
		return echo(out)
	}
	if err := e.run(t, all[0].ID); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, m := range all {
		want = append(want, strings.TrimSuffix(m.To, "@s.whatsapp.net"))
		got := e.get(t, m.ID)
		if got.Status != ports.MsgSent || got.Attempts != 1 {
			t.Errorf("%s: got %s after %d attempts, want sent after 1", m.To, got.Status, got.Attempts)
		}
		if s := strings.Join(statuses(e.bus, m.ID), ">"); s != "sending>sent" {
			t.Errorf("%s: got events %s, want sending>sent", m.To, s)
		}
	}
	if diff := cmp.Diff(want, sentTo(e.wa)); diff != "" {
		t.Errorf("sends (-want +got):\n%s", diff)
	}
	if got := e.get(t, tenth.ID); claimedEarly.WAMessageID == "" || got.WAMessageID != claimedEarly.WAMessageID {
		t.Errorf("the 10th went out under %q, want the id claimed while the 5th was on the wire (%q)", got.WAMessageID, claimedEarly.WAMessageID)
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

// TestBatchStopsAtAnotherWorkersClaim: the messages claimed ahead stop
// before one another worker holds a fresh claim on; the ones after it
// wait behind it, for order, and the run leaves them to a later try.
func TestBatchStopsAtAnotherWorkersClaim(t *testing.T) {
	e := newEnv(t, ports.StatusConnected)
	a, b, c, d := e.send(t, "+15550000001"), e.send(t, "+15550000002"), e.send(t, "+15550000003"), e.send(t, "+15550000004")
	now := e.clock.Now()
	if _, err := e.store.Stores().Messages.ClaimForSend(t.Context(), e.p.SubscriptionID, c.ID, now, now.Add(-time.Minute), "3EB0OTHER"); err != nil {
		t.Fatal(err)
	}
	err := e.run(t, a.ID)
	if !ports.IsCode(err, ports.ERateLimited) {
		t.Fatalf("run: got %v, want rate limited (c is being sent elsewhere)", err)
	}
	if diff := cmp.Diff([]string{"15550000001", "15550000002"}, sentTo(e.wa)); diff != "" {
		t.Errorf("sends (-want +got):\n%s", diff)
	}
	if got := e.get(t, c.ID); got.Status != ports.MsgSending || got.WAMessageID != "3EB0OTHER" || got.Attempts != 1 {
		t.Errorf("c: got %s %q after %d attempts, want the other worker's claim untouched", got.Status, got.WAMessageID, got.Attempts)
	}
	if got := e.get(t, d.ID); got.Status != ports.MsgQueued || got.Attempts != 0 {
		t.Errorf("d: got %s after %d attempts, want queued, never claimed", got.Status, got.Attempts)
	}
	for _, m := range []ports.Message{a, b} {
		if got := e.get(t, m.ID); got.Status != ports.MsgSent {
			t.Errorf("%s: got %s, want sent", m.To, got.Status)
		}
	}
}

// TestPacedRunClaimsOneAhead: with a pause between sends the run claims
// one message at a time behind the one on the wire, once the pause is
// over; a batch would wait out several pauses under claims going stale.
func TestPacedRunClaimsOneAhead(t *testing.T) {
	e := newEnvWith(t, ports.StatusConnected, messaging.Config{MaxAge: time.Hour, RelayAfter: 30 * time.Second,
		SendDelayMin: time.Millisecond, SendDelayMax: 2 * time.Millisecond})
	a, b, c := e.send(t, "+15550000001"), e.send(t, "+15550000002"), e.send(t, "+15550000003")
	var onA ports.Message
	e.wa.SendFunc = func(out ports.WAOutbound) (ports.WASent, error) {
		if strings.HasPrefix(out.To, "15550000001") {
			waitFor(t, "b claimed", func() bool { return e.get(t, b.ID).Status == ports.MsgSending })
			onA = e.get(t, c.ID)
		}
		return echo(out)
	}
	if err := e.run(t, a.ID); err != nil {
		t.Fatal(err)
	}
	if onA.Status != ports.MsgQueued {
		t.Errorf("c while a is on the wire: got %s, want queued (one claimed ahead at a time)", onA.Status)
	}
	if diff := cmp.Diff([]string{"15550000001", "15550000002", "15550000003"}, sentTo(e.wa)); diff != "" {
		t.Errorf("sends (-want +got):\n%s", diff)
	}
}

// TestSlowSendsClaimNoFurtherAhead: when sends are slow next to the send
// timeout, the run claims the next batch only once its queue is sent, so
// that no claim made ahead waits long enough to go stale (and be given
// back and claimed again, which a webhook would see as queued again).
func TestSlowSendsClaimNoFurtherAhead(t *testing.T) {
	e := newEnvWith(t, ports.StatusConnected, messaging.Config{MaxAge: time.Hour, RelayAfter: 30 * time.Second,
		SendTimeout: 2 * time.Second})
	all := e.sendMany(t, 12)
	tenth := all[9]
	var onFifth ports.Message
	e.wa.SendFunc = func(out ports.WAOutbound) (ports.WASent, error) {
		// 60 ms a send: a batch of 8 behind 7 more would wait 0.9 s,
		// over a quarter of the timeout.
		time.Sleep(60 * time.Millisecond)
		if strings.HasPrefix(out.To, "15550000005") {
			onFifth = e.get(t, tenth.ID)
		}
		return echo(out)
	}
	if err := e.run(t, all[0].ID); err != nil {
		t.Fatal(err)
	}
	if onFifth.Status != ports.MsgQueued {
		t.Errorf("the 10th while the 5th is on the wire: got %s, want queued (the batch before it not yet sent)", onFifth.Status)
	}
	for _, m := range all {
		if s := strings.Join(statuses(e.bus, m.ID), ">"); s != "sending>sent" {
			t.Errorf("%s: got events %s, want sending>sent (no claim given back)", m.To, s)
		}
	}
}

// sendMany accepts n texts to +15550000001, +15550000002 and so on.
func (e *env) sendMany(t *testing.T, n int) []ports.Message {
	t.Helper()
	all := make([]ports.Message, n)
	for i := range all {
		all[i] = e.send(t, fmt.Sprintf("+155500000%02d", i+1))
	}
	return all
}
