package app

import (
	"log/slog"

	"github.com/wagate/wagate/core/contacts"
)

// buildContacts wires the chat list, the address book, profiles and the
// block list (SPEC §16).
func (s *system) buildContacts(log *slog.Logger) {
	d := contacts.Deps{
		Instances: s.store.Stores().Instances, Chats: s.store.Chats(),
		Log: log.With("component", "contacts"),
	}
	if s.whatsapp != nil {
		d.Contacts, d.Profile = s.whatsapp, s.whatsapp
	}
	s.contacts = contacts.New(d)
}
