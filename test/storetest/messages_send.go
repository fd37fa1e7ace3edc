package storetest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wagate/wagate/ports"
)

// The send path's contract: a claim gives a message its WhatsApp id before
// anything is sent, a stale claim can be taken over (keeping the id), a
// fresh one cannot, and an instance's messages are sent oldest first.

func testMessageClaim(t *testing.T, f *fixture, _ ports.MessageOutbox) {
	sub, other := f.subscription(), f.subscription()
	m := f.message(f.instance(sub.ID, "one"), base, nil)
	at := base.Add(time.Minute)
	got, err := f.s.Messages.ClaimForSend(f.ctx, sub.ID, m.ID, at, at.Add(-30*time.Second), "3EB0FIRST")
	if err != nil || got.Status != ports.MsgSending || got.Attempts != 1 || !got.UpdatedAt.Equal(at.Truncate(time.Microsecond)) || got.WAMessageID != "3EB0FIRST" {
		t.Fatalf("claim: got %s attempts %d updated %v id %q, %v; want sending, 1, %v, 3EB0FIRST",
			got.Status, got.Attempts, got.UpdatedAt, got.WAMessageID, err, at)
	}
	if read, _ := f.s.Messages.GetMessage(f.ctx, sub.ID, m.ID); read.WAMessageID != "3EB0FIRST" || read.Status != ports.MsgSending {
		t.Errorf("read after the claim: got %s %q, want sending 3EB0FIRST stored", read.Status, read.WAMessageID)
	}
	// The claim is fresh: at is not before staleBefore.
	_, err = f.s.Messages.ClaimForSend(f.ctx, sub.ID, m.ID, at, at, "3EB0SECOND")
	wantCode(t, "claim a message being sent", err, ports.EConflict)
	if again, _ := f.s.Messages.GetMessage(f.ctx, sub.ID, m.ID); again.Attempts != 1 || again.WAMessageID != "3EB0FIRST" {
		t.Errorf("after a refused claim: got %d attempts and id %q, want 1 and 3EB0FIRST", again.Attempts, again.WAMessageID)
	}
	_, err = f.s.Messages.ClaimForSend(f.ctx, other.ID, m.ID, at, at.Add(time.Hour), "3EB0X")
	wantCode(t, "claim another tenant's message", err, ports.ENotFound)
	_, err = f.s.Messages.ClaimForSend(f.ctx, sub.ID, ports.MessageID(newID()), at, at, "3EB0X")
	wantCode(t, "claim a missing message", err, ports.ENotFound)
	_, err = f.s.Messages.ClaimForSend(f.ctx, sub.ID, m.ID, at, at.Add(time.Hour), "")
	wantCode(t, "claim without a WhatsApp id", err, ports.EInvalid)

	// A message queued again after an unanswered send keeps its id.
	retried := f.message(f.instance(sub.ID, "two"), base, func(m *ports.Message) { m.WAMessageID, m.Attempts = "3EB0KEPT", 1 })
	got, err = f.s.Messages.ClaimForSend(f.ctx, sub.ID, retried.ID, at, at, "3EB0NEW")
	if err != nil || got.WAMessageID != "3EB0KEPT" || got.Attempts != 2 {
		t.Errorf("claim a retried message: got id %q attempts %d, %v; want 3EB0KEPT and 2", got.WAMessageID, got.Attempts, err)
	}
	for _, st := range []ports.MessageStatus{ports.MsgSent, ports.MsgDelivered, ports.MsgRead, ports.MsgFailed, ports.MsgReceived} {
		done := f.message(f.instance(sub.ID, "s-"+string(st)), base, func(m *ports.Message) { m.Status = st })
		_, err := f.s.Messages.ClaimForSend(f.ctx, sub.ID, done.ID, at, at.Add(time.Hour), "3EB0X")
		wantCode(t, "claim a "+string(st)+" message", err, ports.EConflict)
	}
}

// testMessageReclaim: a sending message whose claim is older than
// staleBefore is claimed again, under the WhatsApp id it has.
func testMessageReclaim(t *testing.T, f *fixture, _ ports.MessageOutbox) {
	sub, other := f.subscription(), f.subscription()
	m := f.message(f.instance(sub.ID, "one"), base, nil)
	if _, err := f.s.Messages.ClaimForSend(f.ctx, sub.ID, m.ID, base, base.Add(-time.Minute), "3EB0DEAD"); err != nil {
		t.Fatalf("first claim: %v", err)
	}
	later := base.Add(31 * time.Second)
	// Stale means updated strictly before staleBefore.
	_, err := f.s.Messages.ClaimForSend(f.ctx, sub.ID, m.ID, later, base, "3EB0X")
	wantCode(t, "reclaim at the stale threshold itself", err, ports.EConflict)
	_, err = f.s.Messages.ClaimForSend(f.ctx, other.ID, m.ID, later, later, "3EB0X")
	wantCode(t, "reclaim another tenant's stale message", err, ports.ENotFound)
	got, err := f.s.Messages.ClaimForSend(f.ctx, sub.ID, m.ID, later, base.Add(time.Microsecond), "3EB0NEW")
	if err != nil || got.Status != ports.MsgSending || got.WAMessageID != "3EB0DEAD" || got.Attempts != 2 || !got.UpdatedAt.Equal(later.Truncate(time.Microsecond)) {
		t.Fatalf("reclaim a stale claim: got %s %q attempts %d updated %v, %v; want sending 3EB0DEAD, 2, %v",
			got.Status, got.WAMessageID, got.Attempts, got.UpdatedAt, err, later)
	}
	_, err = f.s.Messages.ClaimForSend(f.ctx, sub.ID, m.ID, later, base.Add(time.Microsecond), "3EB0X")
	wantCode(t, "reclaim a claim just renewed", err, ports.EConflict)
}

// testMessageClaimRace: of many concurrent claims exactly one wins, and
// the stored WhatsApp id is the winner's.
func testMessageClaimRace(t *testing.T, f *fixture, _ ports.MessageOutbox) {
	sub := f.subscription()
	m := f.message(f.instance(sub.ID, "one"), base, nil)
	claimRace(t, f, sub.ID, m.ID, base, base.Add(-time.Minute), 1, "")
}

// testMessageReclaimRace: of many concurrent takeovers of a stale claim
// exactly one wins, and the id of the first claim stays.
func testMessageReclaimRace(t *testing.T, f *fixture, _ ports.MessageOutbox) {
	sub := f.subscription()
	m := f.message(f.instance(sub.ID, "one"), base, func(m *ports.Message) {
		m.Status, m.WAMessageID, m.Attempts = ports.MsgSending, "3EB0DEAD", 1
	})
	at := base.Add(time.Minute)
	claimRace(t, f, sub.ID, m.ID, at, at.Add(-30*time.Second), 2, "3EB0DEAD")
}

// claimRace runs concurrent claims of one message, each with its own
// WhatsApp id, and checks that one won, with attempts and the id
// (wantWA, or the winner's when empty) stored.
func claimRace(t *testing.T, f *fixture, sub ports.SubscriptionID, id ports.MessageID, at, staleBefore time.Time, attempts int, wantWA string) {
	t.Helper()
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	claimed := make([]ports.Message, n)
	for i := range n {
		wg.Go(func() {
			claimed[i], errs[i] = f.s.Messages.ClaimForSend(f.ctx, sub, id, at, staleBefore, fmt.Sprintf("3EB0RACE%d", i))
		})
	}
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
			if wantWA == "" {
				wantWA = fmt.Sprintf("3EB0RACE%d", i)
			}
			if claimed[i].WAMessageID != wantWA {
				t.Errorf("the winner: got id %q, want %q", claimed[i].WAMessageID, wantWA)
			}
		case !ports.IsCode(err, ports.EConflict):
			t.Errorf("a losing claim: got %v, want conflict", err)
		}
	}
	got, _ := f.s.Messages.GetMessage(f.ctx, sub, id)
	if won != 1 || got.Attempts != attempts || got.WAMessageID != wantWA {
		t.Errorf("concurrent claims: got %d winners, %d attempts, id %q; want 1, %d, %q", won, got.Attempts, got.WAMessageID, attempts, wantWA)
	}
}

func testMessageNextToSend(t *testing.T, f *fixture, _ ports.MessageOutbox) {
	sub, other := f.subscription(), f.subscription()
	inst, inst2 := f.instance(sub.ID, "one"), f.instance(sub.ID, "two")
	next := func(sub ports.SubscriptionID, inst ports.InstanceID) (ports.Message, error) {
		t.Helper()
		return f.s.Messages.NextToSend(f.ctx, sub, inst, "")
	}
	_, err := next(sub.ID, inst.ID)
	wantCode(t, "next of an instance without messages", err, ports.ENotFound)

	// Older rows that are not to be sent by send jobs.
	f.message(inst, base, func(m *ports.Message) { m.Status = ports.MsgSent })
	f.message(inst, base, func(m *ports.Message) { m.Status = ports.MsgFailed })
	f.message(inst, base, func(m *ports.Message) { m.Direction, m.Status = ports.DirectionInbound, ports.MsgReceived })
	f.message(inst, base, func(m *ports.Message) { m.BulkID, m.BulkSeq = ports.BulkID(newID()), 0 })
	f.message(inst2, base, nil)
	_, err = next(sub.ID, inst.ID)
	wantCode(t, "next with only sent, failed, inbound and bulk messages", err, ports.ENotFound)

	// first has the smaller id though created later: ids order, not times.
	first := f.message(inst, base.Add(time.Minute), nil)
	second := f.message(inst, base, nil)
	f.message(inst, base, func(m *ports.Message) { m.BulkID, m.BulkSeq = ports.BulkID(newID()), 1 })
	if got, err := next(sub.ID, inst.ID); err != nil || got.ID != first.ID {
		t.Errorf("next: got %q, %v; want the smallest id %q", got.ID, err, first.ID)
	}
	if _, err := f.s.Messages.ClaimForSend(f.ctx, sub.ID, first.ID, base, base.Add(-time.Minute), "3EB0A"); err != nil {
		t.Fatal(err)
	}
	if got, err := next(sub.ID, inst.ID); err != nil || got.ID != first.ID || got.Status != ports.MsgSending {
		t.Errorf("next while the oldest is being sent: got %q %s, %v; want it (%q), sending: the later ones wait", got.ID, got.Status, err, first.ID)
	}
	// The send of the one in flight looks at what follows it.
	if got, err := f.s.Messages.NextToSend(f.ctx, sub.ID, inst.ID, first.ID); err != nil || got.ID != second.ID {
		t.Errorf("next after the one being sent: got %q, %v; want %q", got.ID, err, second.ID)
	}
	_, err = f.s.Messages.NextToSend(f.ctx, sub.ID, inst.ID, second.ID)
	wantCode(t, "next after the newest", err, ports.ENotFound)
	following := func(after ports.MessageID, limit int) string {
		t.Helper()
		ms, err := f.s.Messages.FollowingToSend(f.ctx, sub.ID, inst.ID, after, limit)
		if err != nil {
			t.Fatalf("following %q, limit %d: %v", after, limit, err)
		}
		ids := make([]string, len(ms))
		for i, m := range ms {
			ids[i] = string(m.ID)
		}
		return strings.Join(ids, ",")
	}
	for _, c := range []struct {
		after ports.MessageID
		limit int
		want  string
	}{
		{"", 10, string(first.ID) + "," + string(second.ID)},
		{"", 1, string(first.ID)},
		{first.ID, 10, string(second.ID)},
		{second.ID, 10, ""},
		{"", 0, ""},
	} {
		if got := following(c.after, c.limit); got != c.want {
			t.Errorf("following %q, limit %d: got [%s], want [%s] (no bulk, sent, failed, inbound or other instance's)", c.after, c.limit, got, c.want)
		}
	}
	if _, err := f.s.Messages.UpdateMessage(f.ctx, sub.ID, first.ID, func(m *ports.Message) error {
		m.Status = ports.MsgSent
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got, err := next(sub.ID, inst.ID); err != nil || got.ID != second.ID {
		t.Errorf("next once the oldest is sent: got %q, %v; want %q", got.ID, err, second.ID)
	}
	_, err = next(other.ID, inst.ID)
	wantCode(t, "next of another tenant's instance", err, ports.ENotFound)
}
