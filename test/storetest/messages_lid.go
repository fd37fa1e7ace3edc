package storetest

import (
	"slices"
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

// testMessageChatForms: a chat filter matches a message whose chat or
// chat LID is either form given (SPEC §6a: a chat is named by its phone
// number or its LID alike), and nothing of another chat.
func testMessageChatForms(t *testing.T, f *fixture, _ ports.MessageOutbox) {
	sub := f.subscription()
	inst := f.instance(sub.ID, "one")
	const pn, lid = "15550009999@s.whatsapp.net", "100000000000099@lid"
	byPN := f.message(inst, base, func(m *ports.Message) { m.Chat, m.To = pn, pn })                        // sent to the number
	both := f.message(inst, base, func(m *ports.Message) { m.Chat, m.ChatLID = pn, lid })                  // a LID chat, number known
	byLID := f.message(inst, base, func(m *ports.Message) { m.Chat, m.ChatLID, m.To = lid, lid, lid })     // number not known then
	f.message(inst, base, func(m *ports.Message) { m.Chat, m.ChatLID = "15550008888@s.whatsapp.net", "" }) // another chat
	list := func(chat, alt string) []ports.MessageID {
		p, err := f.s.Messages.ListMessages(f.ctx, sub.ID, ports.MessageFilter{InstanceID: inst.ID, Chat: chat, ChatAlt: alt}, ports.PageRequest{Limit: 10})
		mustOK(t, "list by chat", err)
		var ids []ports.MessageID
		for _, m := range p.Items {
			ids = append(ids, m.ID)
		}
		slices.Sort(ids)
		return ids
	}
	sorted := func(ids ...ports.MessageID) []ports.MessageID { slices.Sort(ids); return ids }
	for _, c := range []struct {
		chat, alt string
		want      []ports.MessageID
	}{
		{pn, "", sorted(byPN.ID, both.ID)},
		{lid, "", sorted(both.ID, byLID.ID)},
		{pn, lid, sorted(byPN.ID, both.ID, byLID.ID)},
		{lid, pn, sorted(byPN.ID, both.ID, byLID.ID)},
		{"15550007777@s.whatsapp.net", "", nil},
	} {
		if got := list(c.chat, c.alt); !slices.Equal(got, c.want) {
			t.Errorf("chat %q (or %q): got %v, want %v", c.chat, c.alt, got, c.want)
		}
	}
}
