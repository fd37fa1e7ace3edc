package whatsapp

import (
	"context"
	"fmt"

	wa "go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/types"

	"github.com/wagate/wagate/ports"
)

// SPEC §6a, "Phone numbers, not LIDs": WhatsApp addresses many chats by an
// anonymous id (…@lid). The gateway reports phone numbers whenever the
// mapping is known, from the event's alternative address (sender_pn, which
// whatsmeow also records) or from whatsmeow's LID store, and keeps the LID
// beside it.

// phoneOf returns the phone-number form of a user JID (without device)
// and, when jid is a LID, that LID. alt is the event's alternative address
// of jid (may be empty). A LID whose phone number is not known is returned
// as it is, in both results: the chat still works under it.
func phoneOf(ctx context.Context, cli *wa.Client, jid, alt types.JID) (pn, lid types.JID) {
	jid = jid.ToNonAD()
	if jid.Server != types.HiddenUserServer {
		return jid, types.EmptyJID
	}
	if alt.Server == types.DefaultUserServer && alt.User != "" {
		return alt.ToNonAD(), jid
	}
	if cli != nil && cli.Store != nil && cli.Store.LIDs != nil {
		if found, err := cli.Store.LIDs.GetPNForLID(ctx, jid); err == nil && !found.IsEmpty() {
			return found.ToNonAD(), jid
		}
	}
	return jid, jid
}

// jidString is a JID's string, empty for the empty JID.
func jidString(j types.JID) string {
	if j.IsEmpty() {
		return ""
	}
	return j.String()
}

var _ ports.WALIDResolver = (*Manager)(nil)

// PhoneForLID looks a LID up in whatsmeow's LID map, which every device of
// the store shares: whatever any instance learned of it counts.
func (m *Manager) PhoneForLID(ctx context.Context, lid string) (string, error) {
	jid, err := types.ParseJID(lid)
	if err != nil || jid.Server != types.HiddenUserServer || jid.User == "" {
		return "", ports.Errorf(ports.EInvalid, "%q is not a LID", lid)
	}
	pn, err := m.container.LIDMap.GetPNForLID(ctx, jid.ToNonAD())
	if err != nil {
		return "", fmt.Errorf("look up LID %s: %w", jid, err)
	}
	return jidString(pn.ToNonAD()), nil
}

// LIDForPhone looks a phone number up in whatsmeow's LID map.
func (m *Manager) LIDForPhone(ctx context.Context, phone string) (string, error) {
	jid, err := types.ParseJID(phone)
	if err != nil || jid.Server != types.DefaultUserServer || jid.User == "" {
		return "", ports.Errorf(ports.EInvalid, "%q is not a phone-number JID", phone)
	}
	lid, err := m.container.LIDMap.GetLIDForPN(ctx, jid.ToNonAD())
	if err != nil {
		return "", fmt.Errorf("look up the LID of %s: %w", jid, err)
	}
	return jidString(lid.ToNonAD()), nil
}
