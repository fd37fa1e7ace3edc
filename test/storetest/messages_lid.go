package storetest

import (
	"testing"

	"github.com/wagate/wagate/ports"
)

// testMessageLIDs: the LIDs a message's chat and sender were addressed by
// (SPEC §6a) are kept through create, get, an update and a list; a
// message without them reads back without them.
func testMessageLIDs(t *testing.T, f *fixture, _ ports.MessageOutbox) {
	sub := f.subscription()
	inst := f.instance(sub.ID, "one")
	const chatLID, fromLID = "100000000000001@lid", "100000000000002@lid"
	m := f.message(inst, base, func(m *ports.Message) { m.ChatLID, m.FromLID = chatLID, fromLID })
	got, err := f.s.Messages.GetMessage(f.ctx, sub.ID, m.ID)
	mustOK(t, "get message with LIDs", err)
	if got.ChatLID != chatLID || got.FromLID != fromLID {
		t.Fatalf("got chat LID %q and from LID %q, want %q and %q", got.ChatLID, got.FromLID, chatLID, fromLID)
	}
	upd, err := f.s.Messages.UpdateMessage(f.ctx, sub.ID, m.ID, func(m *ports.Message) error {
		m.Status = ports.MsgSent
		return nil
	})
	mustOK(t, "update message with LIDs", err)
	if upd.ChatLID != chatLID || upd.FromLID != fromLID {
		t.Errorf("after update: got %q and %q, want %q and %q", upd.ChatLID, upd.FromLID, chatLID, fromLID)
	}
	plain := f.message(inst, base, nil)
	page, err := f.s.Messages.ListMessages(f.ctx, sub.ID, ports.MessageFilter{InstanceID: inst.ID}, ports.PageRequest{Limit: 10})
	mustOK(t, "list messages", err)
	seen := 0
	for _, it := range page.Items {
		want := ""
		if it.ID == m.ID {
			want = chatLID
		}
		if it.ID == m.ID || it.ID == plain.ID {
			seen++
		}
		if it.ChatLID != want {
			t.Errorf("listed %s with chat LID %q, want %q", it.ID, it.ChatLID, want)
		}
	}
	if seen != 2 {
		t.Errorf("listed %d of the 2 messages", seen)
	}
}
