package ports

import "context"

// WAContact is one entry of a linked device's address book (SPEC §16).
// Name is the name the phone saved the contact under; PushName the name
// the contact chose for itself.
type WAContact struct {
	PhoneNumber string // digits with country code
	JID         string
	Name        string
	PushName    string
	IsBusiness  bool
}

// DisplayName is the saved name, else the push name.
func (c WAContact) DisplayName() string {
	if c.Name != "" {
		return c.Name
	}
	return c.PushName
}

// WAContactProfile is what WhatsApp tells about a phone number: whether it
// is on WhatsApp and, if so, its push name (as far as the device has seen
// it), its about text and its profile picture's URL ("" when none or
// hidden).
type WAContactProfile struct {
	PhoneNumber string
	Exists      bool
	JID         string
	PushName    string
	About       string
	PictureURL  string
}

// WAContacts is the port, implemented by the WhatsApp adapter, that reads
// what the instance's device knows of other accounts and manages its block
// list. Wired on its own, like WAActions. Every method is EConflict
// (instance_not_connected) when the instance is not connected and
// EUnavailable when WhatsApp did not answer. Phone numbers are digits with
// country code.
type WAContacts interface {
	// Contacts returns the device's address book, in no set order.
	Contacts(ctx context.Context, id InstanceID) ([]WAContact, error)
	// ContactProfile asks WhatsApp about one number.
	ContactProfile(ctx context.Context, id InstanceID, phone string) (WAContactProfile, error)
	// Blocklist returns the JIDs the account blocked.
	Blocklist(ctx context.Context, id InstanceID) ([]string, error)
	// SetBlocked blocks (true) or unblocks the number and returns the
	// block list after the change.
	SetBlocked(ctx context.Context, id InstanceID, phone string, blocked bool) ([]string, error)
}

// WAProfile is the port, implemented by the WhatsApp adapter, that changes
// the instance's own profile. EUnsupported (reason not_supported) names
// what the client library cannot do; otherwise the errors of WAContacts.
type WAProfile interface {
	// SetPushName changes the name others see on the account's messages.
	SetPushName(ctx context.Context, id InstanceID, name string) error
	// SetAbout changes the account's about text.
	SetAbout(ctx context.Context, id InstanceID, text string) error
	// SetPicture changes the account's profile picture (a JPEG).
	SetPicture(ctx context.Context, id InstanceID, jpeg []byte) error
}
