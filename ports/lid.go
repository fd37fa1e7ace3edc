package ports

import "context"

// WALIDResolver is the port, implemented by the WhatsApp adapter, that
// gives the phone number behind a LID (…@lid), WhatsApp's anonymous user
// id, as far as WhatsApp made it known (SPEC §6a). It is wired on its own
// (messaging.Deps.LIDs), like WAActions, not found on the WhatsApp port. Mappings are facts about WhatsApp
// users, the same for every instance, so no instance is named.
type WALIDResolver interface {
	// PhoneForLID returns the phone-number JID (…@s.whatsapp.net) of lid,
	// or "" when it is not known; an error only when the lookup failed.
	PhoneForLID(ctx context.Context, lid string) (string, error)
	// LIDForPhone returns the LID (…@lid) of a phone-number JID, or ""
	// when it is not known; an error only when the lookup failed.
	LIDForPhone(ctx context.Context, phone string) (string, error)
}
