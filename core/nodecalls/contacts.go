package nodecalls

import (
	"context"

	"github.com/wagate/wagate/ports"
)

// ContactsAdapter is what NewContacts wraps: the address book, profiles
// and block list, and the instance's own profile.
type ContactsAdapter interface {
	ports.WAContacts
	ports.WAProfile
}

// Contacts is the contacts and profile ports with every call run on the
// node holding the instance: each reads or changes the live connection's
// state (SPEC §16, §14).
type Contacts struct {
	contacts   func(context.Context, ports.InstanceID, struct{}) ([]ports.WAContact, error)
	profile    func(context.Context, ports.InstanceID, string) (ports.WAContactProfile, error)
	blocklist  func(context.Context, ports.InstanceID, struct{}) ([]string, error)
	setBlocked func(context.Context, ports.InstanceID, blockReq) ([]string, error)
	pushName   func(context.Context, ports.InstanceID, string) error
	about      func(context.Context, ports.InstanceID, string) error
	picture    func(context.Context, ports.InstanceID, []byte) error
}

var (
	_ ports.WAContacts = (*Contacts)(nil)
	_ ports.WAProfile  = (*Contacts)(nil)
)

type blockReq struct {
	Phone   string
	Blocked bool
}

// NewContacts registers wa's contact and profile calls on r and returns
// the ports that route them.
func NewContacts(r *Router, wa ContactsAdapter) *Contacts {
	return &Contacts{
		contacts: Route(r, "contacts.list", func(ctx context.Context, id ports.InstanceID, _ struct{}) ([]ports.WAContact, error) {
			return wa.Contacts(ctx, id)
		}),
		profile: Route(r, "contacts.profile", wa.ContactProfile),
		blocklist: Route(r, "contacts.blocklist", func(ctx context.Context, id ports.InstanceID, _ struct{}) ([]string, error) {
			return wa.Blocklist(ctx, id)
		}),
		setBlocked: Route(r, "contacts.set-blocked", func(ctx context.Context, id ports.InstanceID, q blockReq) ([]string, error) {
			return wa.SetBlocked(ctx, id, q.Phone, q.Blocked)
		}),
		pushName: RouteErr(r, "profile.push-name", wa.SetPushName),
		about:    RouteErr(r, "profile.about", wa.SetAbout),
		picture:  RouteErr(r, "profile.picture", wa.SetPicture),
	}
}

// Contacts runs on the instance's holder.
func (c *Contacts) Contacts(ctx context.Context, id ports.InstanceID) ([]ports.WAContact, error) {
	return c.contacts(ctx, id, struct{}{})
}

// ContactProfile runs on the instance's holder.
func (c *Contacts) ContactProfile(ctx context.Context, id ports.InstanceID, phone string) (ports.WAContactProfile, error) {
	return c.profile(ctx, id, phone)
}

// Blocklist runs on the instance's holder.
func (c *Contacts) Blocklist(ctx context.Context, id ports.InstanceID) ([]string, error) {
	return c.blocklist(ctx, id, struct{}{})
}

// SetBlocked runs on the instance's holder.
func (c *Contacts) SetBlocked(ctx context.Context, id ports.InstanceID, phone string, blocked bool) ([]string, error) {
	return c.setBlocked(ctx, id, blockReq{Phone: phone, Blocked: blocked})
}

// SetPushName runs on the instance's holder.
func (c *Contacts) SetPushName(ctx context.Context, id ports.InstanceID, name string) error {
	return c.pushName(ctx, id, name)
}

// SetAbout runs on the instance's holder.
func (c *Contacts) SetAbout(ctx context.Context, id ports.InstanceID, text string) error {
	return c.about(ctx, id, text)
}

// SetPicture runs on the instance's holder.
func (c *Contacts) SetPicture(ctx context.Context, id ports.InstanceID, jpeg []byte) error {
	return c.picture(ctx, id, jpeg)
}
