package messaging

import (
	"context"
	"fmt"

	"github.com/wagate/wagate/ports"
)

// Get returns one message of the instance; ENotFound for another
// instance's or tenant's. API keys need messages:read.
func (s *Service) Get(ctx context.Context, p ports.Principal, inst ports.InstanceID, id ports.MessageID) (ports.Message, error) {
	if err := s.canRead(ctx, p, inst); err != nil {
		return ports.Message{}, err
	}
	m, err := s.d.Stores.Messages.GetMessage(ctx, p.SubscriptionID, id)
	if err != nil {
		return ports.Message{}, fmt.Errorf("get message: %w", err)
	}
	if m.InstanceID != inst {
		return ports.Message{}, ports.Errorf(ports.ENotFound, "message not found")
	}
	return m, nil
}

// List pages through the instance's messages, newest first. API keys need
// messages:read. EInvalid for an unknown direction or status.
func (s *Service) List(ctx context.Context, p ports.Principal, inst ports.InstanceID, f ports.MessageFilter, page ports.PageRequest) (ports.Page[ports.Message], error) {
	if err := s.canRead(ctx, p, inst); err != nil {
		return ports.Page[ports.Message]{}, err
	}
	if err := checkFilter(&f); err != nil {
		return ports.Page[ports.Message]{}, err
	}
	f.InstanceID = inst
	f.ChatAlt = s.otherForm(ctx, f.Chat)
	out, err := s.d.Stores.Messages.ListMessages(ctx, p.SubscriptionID, f, page)
	if err != nil {
		return ports.Page[ports.Message]{}, fmt.Errorf("list messages: %w", err)
	}
	return out, nil
}

// canRead checks the scope and that the instance is the caller's.
func (s *Service) canRead(ctx context.Context, p ports.Principal, inst ports.InstanceID) error {
	if err := p.CanActOn(inst); err != nil {
		return err
	}
	if err := p.RequireScope(ports.ScopeMessagesRead); err != nil {
		return err
	}
	if _, err := s.d.Stores.Instances.GetInstance(ctx, p.SubscriptionID, inst); err != nil {
		return fmt.Errorf("get instance: %w", err)
	}
	return nil
}

func checkFilter(f *ports.MessageFilter) error {
	var errs []*ports.FieldError
	switch f.Direction {
	case "", ports.DirectionInbound, ports.DirectionOutbound:
	default:
		errs = append(errs, &ports.FieldError{Field: "direction", Message: "must be inbound or outbound"})
	}
	switch f.Status {
	case "", ports.MsgQueued, ports.MsgSending, ports.MsgSent, ports.MsgDelivered, ports.MsgRead, ports.MsgFailed, ports.MsgReceived:
	default:
		errs = append(errs, &ports.FieldError{Field: "status", Message: "is not a message status"})
	}
	if f.Chat != "" {
		chat, err := NormaliseTo(f.Chat)
		if err != nil {
			err.Field = "chat"
			errs = append(errs, err)
		}
		f.Chat = chat
	}
	return ports.FieldErrors(errs...)
}
