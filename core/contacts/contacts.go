// Package contacts is the address side of an instance (SPEC §16): the chat
// list read from stored messages, the device's address book, contacts'
// profiles, the block list and the instance's own profile. What WhatsApp
// knows is asked of the WhatsApp adapter through ports.WAContacts and
// ports.WAProfile; every call checks the caller may act on the instance.
package contacts

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/wagate/wagate/ports"
)

// Deps are the ports the service uses.
type Deps struct {
	Instances ports.InstanceStore
	Chats     ports.ChatStore
	// Contacts reads the address book, profiles and the block list; nil:
	// those routes answer not_supported.
	Contacts ports.WAContacts
	// Profile changes the instance's own profile; nil: not_supported.
	Profile ports.WAProfile
	Log     *slog.Logger
}

// Service is the contacts module.
type Service struct {
	d Deps
	b BehaviourDeps
}

// New returns a Service.
func New(d Deps) *Service {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	return &Service{d: d}
}

// instance checks that p may use scope on the instance and returns it:
// ENotFound for another tenant's or another key's instance.
func (s *Service) instance(ctx context.Context, p ports.Principal, id ports.InstanceID, scope ports.Scope) (ports.Instance, error) {
	if err := p.CanActOn(id); err != nil {
		return ports.Instance{}, err
	}
	if err := p.RequireScope(scope); err != nil {
		return ports.Instance{}, err
	}
	inst, err := s.d.Instances.GetInstance(ctx, p.SubscriptionID, id)
	if err != nil {
		return ports.Instance{}, fmt.Errorf("get instance: %w", err)
	}
	return inst, nil
}

// connected is instance for the calls that ask WhatsApp: EConflict
// (instance_not_connected) unless the instance is connected.
func (s *Service) connected(ctx context.Context, p ports.Principal, id ports.InstanceID, scope ports.Scope) error {
	inst, err := s.instance(ctx, p, id, scope)
	if err != nil {
		return err
	}
	if inst.Status != ports.StatusConnected {
		return ports.ErrNotConnected()
	}
	return nil
}

// ListChats pages through the instance's chats, the most recent first
// (scope messages:read). A chat's name comes from the address book when
// the instance is connected and the contact is in it.
func (s *Service) ListChats(ctx context.Context, p ports.Principal, id ports.InstanceID, page ports.PageRequest) (ports.Page[ports.Chat], error) {
	inst, err := s.instance(ctx, p, id, ports.ScopeMessagesRead)
	if err != nil {
		return ports.Page[ports.Chat]{}, err
	}
	out, err := s.d.Chats.ListChats(ctx, p.SubscriptionID, id, page)
	if err != nil {
		return ports.Page[ports.Chat]{}, fmt.Errorf("list chats: %w", err)
	}
	if s.d.Contacts == nil || inst.Status != ports.StatusConnected || len(out.Items) == 0 {
		return out, nil
	}
	// Names are a courtesy: a chat list without them beats none.
	book, err := s.d.Contacts.Contacts(ctx, id)
	if err != nil {
		s.d.Log.WarnContext(ctx, "chat names from the address book", slog.String("instance", string(id)), slog.Any("error", err))
		return out, nil
	}
	names := make(map[string]string, len(book))
	for _, c := range book {
		names[c.JID] = c.DisplayName()
	}
	for i := range out.Items {
		out.Items[i].Name = names[out.Items[i].Chat]
	}
	return out, nil
}
