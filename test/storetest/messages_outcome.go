package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wagate/wagate/ports"
)

// testMessageSendOutcome: the outcome of a send is written to a message
// still as claimed, and what SetSendOutcome returns is what a read
// returns, whatever the message holds; a message that moved on since its
// claim, or another tenant's, is left alone.
func testMessageSendOutcome(t *testing.T, f *fixture, _ ports.MessageOutbox) {
	sub, other := f.subscription(), f.subscription()
	inst := f.instance(sub.ID, "one")
	at := base.Add(time.Minute + 123456789*time.Nanosecond)
	claim := func(m ports.Message) ports.Message {
		t.Helper()
		c, err := f.s.Messages.ClaimForSend(f.ctx, sub.ID, m.ID, at, at, "3EB0CLAIM"+string(m.ID)[:6])
		mustOK(t, "claim", err)
		return c
	}
	edited, deleted := base.Add(time.Second), base.Add(2*time.Second)
	rich := func(m *ports.Message) {
		m.Type, m.Text, m.Caption = ports.MessagePoll, "", "cap"
		m.Poll = &ports.Poll{Question: "Drink?", Options: []string{"tea", "coffee"},
			Votes: []ports.PollVote{{Voter: "15550001111@s.whatsapp.net", Selected: []string{"tea"}, At: base}}}
		m.Contacts = []ports.ContactCard{{Name: "Ada", Phones: []ports.ContactPhone{{Number: "+44 20"}}}}
		m.Location = &ports.WALocation{Latitude: 52.52, Longitude: 13.405, Name: "Berlin"}
		m.ReplyTo, m.ChatLID, m.FromLID, m.RawType = "3EB0QUOTED", "123@lid", "456@lid", "x"
		m.Reactions = []ports.Reaction{{From: "15550001111@s.whatsapp.net", Emoji: "👍", At: base}}
		m.Mentions, m.IsForwarded, m.NoLinkPreview = []string{"15550002222@s.whatsapp.net"}, true, true
		m.EditedAt, m.DeletedAt, m.DeletedBy = &edited, &deleted, "15550001111@s.whatsapp.net"
	}
	outcomes := []struct {
		name string
		move func(*ports.Message)
	}{
		{"sent", func(m *ports.Message) {
			sentAt := at.Add(333 * time.Nanosecond)
			m.Status, m.SentAt, m.WAMessageID = ports.MsgSent, &sentAt, "3EB0OTHER"
		}},
		{"failed", func(m *ports.Message) {
			m.Status, m.ErrorCode, m.ErrorMessage = ports.MsgFailed, "recipient_rejected", "not on WhatsApp"
		}},
		{"queued again", func(m *ports.Message) { m.Status, m.Attempts = ports.MsgQueued, m.Attempts-1 }},
	}
	for _, o := range outcomes {
		for _, m := range []ports.Message{f.message(inst, base, rich), f.message(inst, base, nil)} {
			known := claim(m)
			out := known
			o.move(&out)
			out.UpdatedAt = at.Add(time.Second + 999*time.Nanosecond)
			got, ok, err := f.s.Messages.SetSendOutcome(f.ctx, known, out)
			if err != nil || !ok {
				t.Fatalf("%s: got %v, %v; want written", o.name, ok, err)
			}
			read, err := f.s.Messages.GetMessage(f.ctx, sub.ID, m.ID)
			mustOK(t, "read after the outcome", err)
			if d := cmp.Diff(read, got); d != "" {
				t.Errorf("%s: returned vs read (-read +returned):\n%s", o.name, d)
			}
			if read.Status != out.Status || read.Attempts != out.Attempts || read.ErrorCode != out.ErrorCode || read.WAMessageID != out.WAMessageID {
				t.Errorf("%s: stored %s/%d/%q/%q, want %s/%d/%q/%q", o.name, read.Status, read.Attempts, read.ErrorCode, read.WAMessageID,
					out.Status, out.Attempts, out.ErrorCode, out.WAMessageID)
			}
		}
	}

	// The message moved on since the claim: a receipt, another claim.
	m := claim(f.message(inst, base, nil))
	moved, err := f.s.Messages.UpdateMessage(f.ctx, sub.ID, m.ID, func(m *ports.Message) error {
		m.Status, m.UpdatedAt = ports.MsgDelivered, at.Add(time.Second)
		return nil
	})
	mustOK(t, "a receipt", err)
	out := m
	out.Status, out.UpdatedAt = ports.MsgSent, at.Add(2*time.Second)
	for name, known := range map[string]ports.Message{
		"moved on":       m,
		"another tenant": func() ports.Message { k := moved; k.SubscriptionID = other.ID; return k }(),
		"missing":        func() ports.Message { k := moved; k.ID = ports.MessageID(newID()); return k }(),
	} {
		if _, ok, err := f.s.Messages.SetSendOutcome(f.ctx, known, out); ok || err != nil {
			t.Errorf("%s: got %v, %v; want not written", name, ok, err)
		}
	}
	if read, _ := f.s.Messages.GetMessage(f.ctx, sub.ID, m.ID); read.Status != ports.MsgDelivered {
		t.Errorf("after the refused outcomes: %s, want delivered (left alone)", read.Status)
	}
}

// testMessageClaimKnown: a message still as read is claimed in one write,
// and what ClaimKnown returns is what a read returns; a message claimed
// or changed since it was read, one whose claim is fresh, another
// tenant's or a missing one is not claimed.
func testMessageClaimKnown(t *testing.T, f *fixture, _ ports.MessageOutbox) {
	sub, other := f.subscription(), f.subscription()
	inst := f.instance(sub.ID, "one")
	at := base.Add(time.Minute + 123456789*time.Nanosecond)
	read := func(id ports.MessageID) ports.Message {
		t.Helper()
		m, err := f.s.Messages.GetMessage(f.ctx, sub.ID, id)
		mustOK(t, "read", err)
		return m
	}
	fresh := read(f.message(inst, base, nil).ID)
	got, ok, err := f.s.Messages.ClaimKnown(f.ctx, fresh, at, at, "3EB0FIRST")
	if err != nil || !ok || got.Status != ports.MsgSending || got.Attempts != 1 || got.WAMessageID != "3EB0FIRST" {
		t.Fatalf("claim a queued message: got %s/%d/%q, %v, %v; want sending/1/3EB0FIRST", got.Status, got.Attempts, got.WAMessageID, ok, err)
	}
	if d := cmp.Diff(read(fresh.ID), got); d != "" {
		t.Errorf("returned vs read (-read +returned):\n%s", d)
	}
	// Read before that claim: it no longer stands for the row.
	if _, ok, err := f.s.Messages.ClaimKnown(f.ctx, fresh, at, at.Add(time.Hour), "3EB0X"); ok || err != nil {
		t.Errorf("claim with a read from before a claim: got %v, %v; want not claimed", ok, err)
	}
	// The claim is fresh at staleBefore = at.
	if _, ok, err := f.s.Messages.ClaimKnown(f.ctx, got, at, at, "3EB0X"); ok || err != nil {
		t.Errorf("claim a message whose claim is fresh: got %v, %v; want not claimed", ok, err)
	}
	later := at.Add(time.Minute)
	again, ok, err := f.s.Messages.ClaimKnown(f.ctx, got, later, later, "3EB0X")
	if err != nil || !ok || again.Attempts != 2 || again.WAMessageID != "3EB0FIRST" {
		t.Errorf("reclaim a stale claim: got %d attempts, id %q, %v, %v; want 2 and the first id", again.Attempts, again.WAMessageID, ok, err)
	}
	if d := cmp.Diff(read(fresh.ID), again); d != "" {
		t.Errorf("reclaim: returned vs read (-read +returned):\n%s", d)
	}
	kept := read(f.message(inst, base, func(m *ports.Message) { m.WAMessageID, m.Attempts = "3EB0KEPT", 1 }).ID)
	if got, ok, err := f.s.Messages.ClaimKnown(f.ctx, kept, at, at, "3EB0NEW"); err != nil || !ok || got.WAMessageID != "3EB0KEPT" || got.Attempts != 2 {
		t.Errorf("claim a retried message: got %q and %d attempts, %v, %v; want 3EB0KEPT and 2", got.WAMessageID, got.Attempts, ok, err)
	}
	m := read(f.message(inst, base, nil).ID)
	for name, known := range map[string]ports.Message{
		"another tenant's": func() ports.Message { k := m; k.SubscriptionID = other.ID; return k }(),
		"a missing":        func() ports.Message { k := m; k.ID = ports.MessageID(newID()); return k }(),
		"a sent":           read(f.message(inst, base, func(m *ports.Message) { m.Status = ports.MsgSent }).ID),
	} {
		if _, ok, err := f.s.Messages.ClaimKnown(f.ctx, known, at, at.Add(time.Hour), "3EB0X"); ok || err != nil {
			t.Errorf("claim %s message: got %v, %v; want not claimed", name, ok, err)
		}
	}
	if read(m.ID).Status != ports.MsgQueued {
		t.Errorf("the message named by the refused claims: no longer queued")
	}
	_, _, err = f.s.Messages.ClaimKnown(f.ctx, m, at, at, "")
	wantCode(t, "claim without a WhatsApp id", err, ports.EInvalid)
}
