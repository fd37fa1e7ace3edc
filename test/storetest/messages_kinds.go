package storetest

import (
	"reflect"
	"testing"

	"github.com/wagate/wagate/ports"
)

// testMessageKinds: contact cards, a poll with its votes and an
// unsupported kind's raw type survive create, get and update.
func testMessageKinds(t *testing.T, f *fixture, _ ports.MessageOutbox) {
	sub := f.subscription()
	inst := f.instance(sub.ID, "one")
	cards := []ports.ContactCard{{Name: "Ada; L", Phones: []ports.ContactPhone{{Number: "+44 20", Type: "WORK"}, {Number: "1"}},
		Email: "ada@example.com", Organization: "Engines"}}
	contact := f.message(inst, base, func(m *ports.Message) { m.Type, m.Text, m.Contacts = ports.MessageContact, "", cards })
	poll := f.message(inst, base, func(m *ports.Message) {
		m.Type, m.Text, m.Poll = ports.MessagePoll, "", &ports.Poll{Question: "Drink?", Options: []string{"tea", "coffee"}, MultipleAnswers: true}
	})
	raw := f.message(inst, base, func(m *ports.Message) { m.Type, m.Text, m.RawType = ports.MessageUnsupported, "", "eventMessage" })

	got, err := f.s.Messages.GetMessage(f.ctx, sub.ID, contact.ID)
	mustOK(t, "get contact message", err)
	if !reflect.DeepEqual(got.Contacts, cards) || got.Poll != nil {
		t.Errorf("contact message: got %+v poll %+v, want %+v", got.Contacts, got.Poll, cards)
	}
	vote := ports.PollVote{Voter: "15550001111@s.whatsapp.net", Selected: []string{"tea"}, At: base}
	upd, err := f.s.Messages.UpdateMessage(f.ctx, sub.ID, poll.ID, func(m *ports.Message) error {
		m.Poll.Votes = append(m.Poll.Votes, vote)
		return nil
	})
	mustOK(t, "vote on the poll", err)
	got, err = f.s.Messages.GetMessage(f.ctx, sub.ID, poll.ID)
	mustOK(t, "get poll", err)
	for _, m := range []ports.Message{upd, got} {
		if m.Poll == nil || m.Poll.Question != "Drink?" || !m.Poll.MultipleAnswers || len(m.Poll.Votes) != 1 ||
			m.Poll.Votes[0].Voter != vote.Voter || !m.Poll.Votes[0].At.Equal(base) || !reflect.DeepEqual(m.Poll.Votes[0].Selected, vote.Selected) {
			t.Errorf("poll: got %+v, want the poll with one vote %+v", m.Poll, vote)
		}
	}
	got, err = f.s.Messages.GetMessage(f.ctx, sub.ID, raw.ID)
	mustOK(t, "get unsupported message", err)
	if got.Type != ports.MessageUnsupported || got.RawType != "eventMessage" || got.Contacts != nil {
		t.Errorf("unsupported message: got %s %q, want unsupported eventMessage", got.Type, got.RawType)
	}
}
