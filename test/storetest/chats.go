package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wagate/wagate/ports"
)

// ChatsBackend is a Backend that also lists chats from stored messages.
type ChatsBackend interface {
	Backend
	Chats() ports.ChatStore
}

// RunChats runs the conformance tests of ports.ChatStore. open is called
// once per test and must return an empty, migrated backend of its own,
// closed when t ends.
func RunChats(t *testing.T, open func(t *testing.T) ChatsBackend) {
	tests := []struct {
		name string
		fn   func(t *testing.T, f *fixture, c ports.ChatStore)
	}{
		{"Empty", testChatsEmpty},
		{"GroupAndUnread", testChatsGroupAndUnread},
		{"Paging", testChatsPaging},
		{"Isolation", testChatsIsolation},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := open(t)
			tc.fn(t, &fixture{t: t, ctx: t.Context(), b: b, s: b.Stores()}, b.Chats())
		})
	}
}

const (
	chatAda   = "4915112345678@s.whatsapp.net"
	chatBob   = "4915187654321@s.whatsapp.net"
	chatGroup = "120363021234567890@g.us"
)

// inbound makes a message received in chat.
func inbound(chat string, read *time.Time) func(*ports.Message) {
	return func(m *ports.Message) {
		m.Direction, m.Status, m.Chat, m.From, m.To = ports.DirectionInbound, ports.MsgReceived, chat, chat, ""
		m.ReadAt = read
	}
}

func outbound(chat string) func(*ports.Message) {
	return func(m *ports.Message) { m.Chat, m.To = chat, chat }
}

func testChatsEmpty(t *testing.T, f *fixture, c ports.ChatStore) {
	inst := f.instance(f.subscription().ID, "one")
	page, err := c.ListChats(f.ctx, inst.SubscriptionID, inst.ID, ports.PageRequest{})
	if err != nil || len(page.Items) != 0 || page.Next != "" {
		t.Errorf("chats of an instance without messages: got %+v, %v, want none", page, err)
	}
}

// testChatsGroupAndUnread: one row per chat, newest chat first, with the
// time of its newest message and the count of inbound messages not read.
func testChatsGroupAndUnread(t *testing.T, f *fixture, c ports.ChatStore) {
	sub := f.subscription()
	inst := f.instance(sub.ID, "one")
	read := base.Add(time.Hour)
	f.message(inst, base, inbound(chatAda, nil))
	f.message(inst, base.Add(time.Second), inbound(chatAda, &read))
	f.message(inst, base.Add(2*time.Second), inbound(chatAda, nil))
	f.message(inst, base.Add(3*time.Second), outbound(chatBob))
	f.message(inst, base.Add(4*time.Second), inbound(chatGroup, nil))
	f.message(inst, base.Add(5*time.Second), outbound(chatAda))

	page, err := c.ListChats(f.ctx, sub.ID, inst.ID, ports.PageRequest{})
	if err != nil {
		t.Fatalf("list chats: %v", err)
	}
	want := []ports.Chat{
		{Chat: chatAda, LastMessageAt: base.Add(5 * time.Second).UTC().Truncate(time.Microsecond), UnreadCount: 2},
		{Chat: chatGroup, IsGroup: true, LastMessageAt: base.Add(4 * time.Second).UTC().Truncate(time.Microsecond), UnreadCount: 1},
		{Chat: chatBob, LastMessageAt: base.Add(3 * time.Second).UTC().Truncate(time.Microsecond)},
	}
	if diff := cmp.Diff(want, page.Items); diff != "" {
		t.Errorf("chats (-want +got):\n%s", diff)
	}
	if page.Next != "" {
		t.Errorf("next cursor of the only page: got %q, want none", page.Next)
	}
	for _, ch := range page.Items {
		if ch.LastMessageAt.Location() != time.UTC {
			t.Errorf("lastMessageAt of %s: got zone %v, want UTC", ch.Chat, ch.LastMessageAt.Location())
		}
	}
}

// testChatsPaging: pages follow each other without gap or repeat, and a
// bad cursor is EInvalid.
func testChatsPaging(t *testing.T, f *fixture, c ports.ChatStore) {
	sub := f.subscription()
	inst := f.instance(sub.ID, "one")
	var want []string
	for i := range 5 {
		chat := "49151000000" + string(rune('0'+i)) + "@s.whatsapp.net"
		f.message(inst, base.Add(time.Duration(i)*time.Second), inbound(chat, nil))
		want = append([]string{chat}, want...)
	}
	var got []string
	after := ""
	for range 5 {
		page, err := c.ListChats(f.ctx, sub.ID, inst.ID, ports.PageRequest{Limit: 2, After: after})
		if err != nil {
			t.Fatalf("list chats after %q: %v", after, err)
		}
		for _, ch := range page.Items {
			got = append(got, ch.Chat)
		}
		if after = page.Next; after == "" {
			break
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("chats over pages of 2 (-want +got):\n%s", diff)
	}
	_, err := c.ListChats(f.ctx, sub.ID, inst.ID, ports.PageRequest{After: "not a cursor!"})
	wantCode(t, "a bad cursor", err, ports.EInvalid)
}

// testChatsIsolation: another instance's or tenant's messages never show.
func testChatsIsolation(t *testing.T, f *fixture, c ports.ChatStore) {
	a, b := f.subscription(), f.subscription()
	ia, ia2, ib := f.instance(a.ID, "one"), f.instance(a.ID, "two"), f.instance(b.ID, "one")
	f.message(ia, base, inbound(chatAda, nil))
	f.message(ia2, base, inbound(chatBob, nil))
	f.message(ib, base, inbound(chatGroup, nil))
	page, err := c.ListChats(f.ctx, a.ID, ia.ID, ports.PageRequest{})
	if err != nil || len(page.Items) != 1 || page.Items[0].Chat != chatAda {
		t.Errorf("chats of one instance: got %+v, %v, want only %s", page.Items, err, chatAda)
	}
	page, err = c.ListChats(f.ctx, a.ID, ib.ID, ports.PageRequest{})
	if err != nil || len(page.Items) != 0 {
		t.Errorf("another tenant's instance: got %+v, %v, want no chats", page.Items, err)
	}
}
