package app

import (
	"log/slog"

	"github.com/wagate/wagate/core/events"
	"github.com/wagate/wagate/ports"

	"github.com/wagate/wagate/core/contacts"
)

// buildContacts wires the chat list, the address book, profiles and the
// block list (SPEC §16).
func (s *system) buildContacts(clock ports.Clock, evlog *events.Log, log *slog.Logger) {
	d := contacts.Deps{
		Instances: s.store.Stores().Instances, Chats: s.store.Chats(),
		Log: log.With("component", "contacts"),
	}
	b := contacts.BehaviourDeps{
		Tx: s.store, Messages: s.store.Stores().Messages, Events: evlog, Clock: clock,
	}
	if s.whatsapp != nil {
		// Address book, profiles and block list live on the connection:
		// they run on the instance's holder (SPEC §14).
		d.Contacts, d.Profile = s.forwardedContacts, s.forwardedContacts
		b.Calls, b.Actions, b.WhatsApp = s.whatsapp, s.whatsapp, s.whatsapp
	}
	s.contacts = contacts.New(d).WithBehaviour(b)
}
