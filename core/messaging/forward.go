package messaging

import (
	"context"
	"fmt"

	"github.com/wagate/wagate/ports"
)

// ForwardCmd forwards a stored message to another chat.
type ForwardCmd struct {
	To string
	// Idempotency is as in SendTextCmd.
	Idempotency *ports.IdempotencyClaim[ports.Message]
}

// Forward sends a copy of a stored message of the instance, sent or
// received, media included, marked forwarded: a new outbound message that
// goes through the outbox like any send. EInvalid for a bad recipient;
// ENotFound for another instance's or tenant's message; EConflict for a
// deleted message or one whose file is gone.
func (s *Service) Forward(ctx context.Context, p ports.Principal, inst ports.InstanceID, id ports.MessageID, cmd ForwardCmd) (ports.Message, error) {
	to, fe := NormaliseTo(cmd.To)
	if fe != nil {
		return ports.Message{}, ports.InvalidFields(*fe)
	}
	src, _, err := s.actionTarget(ctx, p, inst, id)
	if err != nil {
		return ports.Message{}, err
	}
	if src.DeletedAt != nil || src.Status == ports.MsgDeleted {
		return ports.Message{}, ports.ReasonError(ports.EConflict, "message_deleted", "the message was deleted")
	}
	draft := ports.Message{To: to, Type: src.Type, Text: src.Text, Caption: src.Caption, Location: copyLocation(src.Location),
		IsForwarded: true, NoLinkPreview: src.NoLinkPreview}
	if mediaKind(src.Type) == "" {
		return s.accept(ctx, p, inst, draft, "", cmd.Idempotency)
	}
	md, err := s.d.Stores.Media.GetMedia(ctx, p.SubscriptionID, src.ID)
	if ports.IsCode(err, ports.ENotFound) {
		return ports.Message{}, ports.ReasonError(ports.EConflict, "media_missing", "the file of the message is gone")
	}
	if err != nil {
		return ports.Message{}, fmt.Errorf("get media of %s: %w", src.ID, err)
	}
	return s.acceptWith(ctx, p, inst, draft, "", cmd.Idempotency, func(ctx context.Context, st ports.Stores, m ports.Message) error {
		md.MessageID, md.CreatedAt = m.ID, m.CreatedAt
		if err := st.Media.PutMedia(ctx, m.SubscriptionID, md); err != nil {
			return fmt.Errorf("store media: %w", err)
		}
		return nil
	})
}
