package whatsapp

import (
	"context"
	"errors"
	"strings"

	wa "go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/appstate"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/wagate/wagate/ports"
)

// The address book, profiles, block list and own profile of SPEC §16,
// through whatsmeow's contact store, usync, profile-picture, blocklist and
// status IQs (WHATSAPP-SIM-FEATURES §5–§7).

var (
	_ ports.WAContacts = (*Manager)(nil)
	_ ports.WAProfile  = (*Manager)(nil)
)

// Contacts reads whatsmeow's contact store: the contacts the phone shared
// by app state and the accounts whose push names the device has seen.
func (m *Manager) Contacts(ctx context.Context, id ports.InstanceID) ([]ports.WAContact, error) {
	cli, err := m.loggedIn(id)
	if err != nil {
		return nil, err
	}
	all, err := cli.Store.Contacts.GetAllContacts(ctx)
	if err != nil {
		return nil, ports.Errorf(ports.EUnavailable, "read the contact store: %v", err)
	}
	out := make([]ports.WAContact, 0, len(all))
	for jid, c := range all {
		if jid.Server != types.DefaultUserServer {
			continue // LIDs and groups are not address-book entries
		}
		name := c.FullName
		if name == "" {
			name = c.FirstName
		}
		out = append(out, ports.WAContact{
			PhoneNumber: jid.User, JID: jid.ToNonAD().String(), Name: name, PushName: c.PushName,
			IsBusiness: c.BusinessName != "",
		})
	}
	return out, nil
}

// ContactProfile asks usync whether the number exists and for its about
// text, then the picture IQ for its URL.
func (m *Manager) ContactProfile(ctx context.Context, id ports.InstanceID, phone string) (ports.WAContactProfile, error) {
	cli, err := m.loggedIn(id)
	if err != nil {
		return ports.WAContactProfile{}, err
	}
	out := ports.WAContactProfile{PhoneNumber: phone}
	found, err := cli.IsOnWhatsApp(ctx, []string{"+" + phone})
	if err != nil {
		return out, sendError("check the number", err)
	}
	if len(found) == 0 || !found[0].IsIn {
		return out, nil
	}
	jid := found[0].JID.ToNonAD()
	out.Exists, out.JID = true, jid.String()
	info, err := cli.GetUserInfo(ctx, []types.JID{jid})
	if err != nil {
		return out, sendError("get user info", err)
	}
	out.About = info[jid].Status
	if c, err := cli.Store.Contacts.GetContact(ctx, jid); err == nil {
		out.PushName = c.PushName
	}
	pic, err := cli.GetProfilePictureInfo(ctx, jid, &wa.GetProfilePictureParams{})
	switch {
	case errors.Is(err, wa.ErrProfilePictureNotSet), errors.Is(err, wa.ErrProfilePictureUnauthorized):
		// No picture, or hidden from this account: none to show.
	case err != nil:
		return out, sendError("get the profile picture", err)
	case pic != nil:
		out.PictureURL = pic.URL
	}
	return out, nil
}

// Blocklist asks WhatsApp for the account's block list.
func (m *Manager) Blocklist(ctx context.Context, id ports.InstanceID) ([]string, error) {
	cli, err := m.loggedIn(id)
	if err != nil {
		return nil, err
	}
	list, err := cli.GetBlocklist(ctx)
	if err != nil {
		return nil, sendError("get the block list", err)
	}
	return blockedJIDs(list), nil
}

// SetBlocked blocks or unblocks a number; WhatsApp answers the whole list.
func (m *Manager) SetBlocked(ctx context.Context, id ports.InstanceID, phone string, blocked bool) ([]string, error) {
	cli, err := m.loggedIn(id)
	if err != nil {
		return nil, err
	}
	action := events.BlocklistChangeActionUnblock
	if blocked {
		action = events.BlocklistChangeActionBlock
	}
	list, err := cli.UpdateBlocklist(ctx, types.NewJID(strings.TrimPrefix(phone, "+"), types.DefaultUserServer), action)
	if err != nil {
		return nil, sendError("update the block list", err)
	}
	return blockedJIDs(list), nil
}

func blockedJIDs(list *types.Blocklist) []string {
	if list == nil {
		return []string{}
	}
	out := make([]string, 0, len(list.JIDs))
	for _, j := range list.JIDs {
		out = append(out, j.ToNonAD().String())
	}
	return out
}

// SetPushName changes the account's push name by an app-state patch, as
// the phone does. whatsmeow encrypts the patch with the app-state keys the
// phone shares with its linked devices and cannot make keys of its own: a
// device that holds none gets not_supported, never a silent no-op.
func (m *Manager) SetPushName(ctx context.Context, id ports.InstanceID, name string) error {
	cli, err := m.loggedIn(id)
	if err != nil {
		return err
	}
	key, err := cli.Store.AppStateKeys.GetLatestAppStateSyncKeyID(ctx)
	if err != nil {
		return ports.Errorf(ports.EUnavailable, "read the app-state keys: %v", err)
	}
	if key == nil {
		return ports.ReasonError(ports.EUnsupported, "not_supported",
			"changing the push name needs app-state keys from the phone, which this linked device has not received, and whatsmeow cannot create them")
	}
	// whatsmeow fetches the collection after sending and applies the patch
	// as WhatsApp keeps it, which sets Store.PushName before the
	// PushNameSetting event reaches the session; writing it here as well
	// would race with the session's reads (SendPresence).
	if err := cli.SendAppState(ctx, appstate.BuildSettingPushName(name)); err != nil {
		return sendError("set the push name", err)
	}
	return nil
}

// SetAbout changes the account's about text (the status IQ).
func (m *Manager) SetAbout(ctx context.Context, id ports.InstanceID, text string) error {
	cli, err := m.loggedIn(id)
	if err != nil {
		return err
	}
	if err := cli.SetStatusMessage(ctx, text); err != nil {
		return sendError("set the about text", err)
	}
	return nil
}

// SetPicture is not supported: whatsmeow sets group pictures only
// (SetGroupPhoto) and has no call for the account's own picture.
func (m *Manager) SetPicture(ctx context.Context, id ports.InstanceID, _ []byte) error {
	if _, err := m.loggedIn(id); err != nil {
		return err
	}
	return ports.ReasonError(ports.EUnsupported, "not_supported",
		"whatsmeow has no call to set the account's own profile picture (only SetGroupPhoto for groups)")
}
