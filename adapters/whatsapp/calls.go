package whatsapp

import (
	"context"

	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/wagate/wagate/ports"
)

// Calls and presence (WHATSAPP-SIM-FEATURES §4, §2): whatsmeow cannot
// place or accept calls; it sees offers and can reject them.

var _ ports.WACalls = (*Manager)(nil)

// callEvent maps a call offer: the caller by phone number when WhatsApp
// named it, video when the offer carries a video stream.
func (s *session) callEvent(evt *events.CallOffer) ports.WAEvent {
	from := evt.CallCreator
	if from.Server != types.DefaultUserServer && evt.CallCreatorAlt.Server == types.DefaultUserServer {
		from = evt.CallCreatorAlt
	}
	if from.IsEmpty() {
		from = evt.From
	}
	video := false
	if evt.Data != nil {
		_, video = evt.Data.GetOptionalChildByTag("video")
	}
	return ports.WAEvent{
		Instance: s.id, Kind: ports.WACallKind, At: s.m.now(),
		Call: &ports.WACall{
			ID: evt.CallID, From: from.ToNonAD().String(), IsVideo: video,
			IsGroup: !evt.GroupJID.IsEmpty(), At: evt.Timestamp,
		},
	}
}

// RejectCall declines the call; WhatsApp tells the caller.
func (m *Manager) RejectCall(ctx context.Context, id ports.InstanceID, call ports.WACall) error {
	cli, err := m.loggedIn(id)
	if err != nil {
		return err
	}
	from, err := types.ParseJID(call.From)
	if err != nil || call.ID == "" {
		return ports.Errorf(ports.EInvalid, "the call %q from %q is not usable", call.ID, call.From)
	}
	if err := cli.RejectCall(ctx, from, call.ID); err != nil {
		return sendError("reject the call", err)
	}
	return nil
}

// SetOnline sends the account's presence; whatsmeow needs a push name for
// it, which a linked device has from the phone.
func (m *Manager) SetOnline(ctx context.Context, id ports.InstanceID, online bool) error {
	cli, err := m.loggedIn(id)
	if err != nil {
		return err
	}
	p := types.PresenceUnavailable
	if online {
		p = types.PresenceAvailable
	}
	if err := cli.SendPresence(ctx, p); err != nil {
		return sendError("send the presence", err)
	}
	return nil
}
