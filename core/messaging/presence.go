package messaging

import (
	"context"
	"fmt"

	"github.com/wagate/wagate/ports"
)

// SendPresence shows typing, recording or paused in a chat of the
// instance; WhatsApp lets it expire by itself after about 25 s. EInvalid
// for a bad chat or state; EConflict (instance_not_connected) when the
// instance is not connected.
func (s *Service) SendPresence(ctx context.Context, p ports.Principal, inst ports.InstanceID, chat string, state ports.ChatPresence) error {
	if err := canSend(p, inst); err != nil {
		return err
	}
	jid, fe := NormaliseTo(chat)
	if fe != nil {
		fe.Field = "chat"
	}
	var stateErr *ports.FieldError
	switch state {
	case ports.PresenceTyping, ports.PresenceRecording, ports.PresencePaused:
	default:
		stateErr = &ports.FieldError{Field: "state", Message: "must be typing, recording or paused"}
	}
	if err := ports.FieldErrors(fe, stateErr); err != nil {
		return err
	}
	if _, err := s.d.Stores.Instances.GetInstance(ctx, p.SubscriptionID, inst); err != nil {
		return fmt.Errorf("get instance: %w", err)
	}
	wa, err := s.actions()
	if err != nil {
		return err
	}
	if err := wa.SendChatPresence(ctx, inst, jid, state); err != nil {
		return fmt.Errorf("send presence: %w", err)
	}
	return nil
}
