package ports

import "context"

// WALIDResolver is an optional capability of a WhatsApp adapter: the phone
// number behind a LID (…@lid), WhatsApp's anonymous user id, as far as
// WhatsApp made it known (SPEC §6a). Mappings are facts about WhatsApp
// users, the same for every instance, so no instance is named.
type WALIDResolver interface {
	// PhoneForLID returns the phone-number JID (…@s.whatsapp.net) of lid,
	// or "" when it is not known; an error only when the lookup failed.
	PhoneForLID(ctx context.Context, lid string) (string, error)
}
