package messaging

import (
	"context"
	"fmt"

	"github.com/wagate/wagate/ports"
)

// Delete cancels a queued message, which is then never sent, or deletes a
// sent one for everyone (status deleted, message.deleted). The cancel and
// the send worker's claim are both conditional writes on the queued row,
// so exactly one of them wins: a message being claimed is sent (the
// caller gets EConflict and may delete it once it is sent), a cancelled
// one is skipped by every worker. EInvalid for a message the instance
// received (a contact's message cannot be deleted for everyone);
// ENotFound for another instance's or tenant's; EConflict for one being
// sent or that failed. Deleting a cancelled or deleted message again
// returns it unchanged. A queued message that had a send attempt already
// (one that timed out) is EConflict too: that attempt may have reached
// WhatsApp under the message's fixed id, so "cancelled" could be a lie.
func (s *Service) Delete(ctx context.Context, p ports.Principal, inst ports.InstanceID, id ports.MessageID) (ports.Message, error) {
	m, i, err := s.actionTarget(ctx, p, inst, id)
	if err != nil {
		return ports.Message{}, err
	}
	if m.Direction != ports.DirectionOutbound {
		return ports.Message{}, ports.InvalidFields(ports.FieldError{Field: "id", Message: "only messages the instance sent can be deleted for everyone"})
	}
	switch m.Status {
	case ports.MsgCancelled, ports.MsgDeleted:
		return m, nil
	case ports.MsgQueued:
		if m.Attempts > 0 {
			return ports.Message{}, errMaySent()
		}
		return s.cancel(ctx, m)
	case ports.MsgSending:
		return ports.Message{}, errBeingSent()
	}
	if err := onWhatsApp(m); err != nil {
		return ports.Message{}, err
	}
	wa, err := s.actions()
	if err != nil {
		return ports.Message{}, err
	}
	if err := wa.Revoke(ctx, inst, waKey(m)); err != nil {
		return ports.Message{}, fmt.Errorf("delete %s: %w", id, err)
	}
	now := s.d.Clock.Now()
	return s.updateWithEvent(ctx, p.SubscriptionID, id, func(m *ports.Message) error {
		m.Status, m.DeletedAt, m.DeletedBy, m.UpdatedAt = ports.MsgDeleted, &now, i.JID, now
		return nil
	}, ports.EventMessageDeleted, deletedData)
}

// cancel moves a queued message to cancelled, checked again under the
// row's lock: a worker that claimed it meanwhile made it sending, and an
// attempt that timed out meanwhile left it queued with attempts counted.
func (s *Service) cancel(ctx context.Context, m ports.Message) (ports.Message, error) {
	return s.updateWithEvent(ctx, m.SubscriptionID, m.ID, func(m *ports.Message) error {
		if m.Status != ports.MsgQueued {
			return errBeingSent()
		}
		if m.Attempts > 0 {
			return errMaySent()
		}
		m.Status, m.UpdatedAt = ports.MsgCancelled, s.d.Clock.Now()
		return nil
	}, "", nil)
}

func errBeingSent() error {
	return ports.ReasonError(ports.EConflict, "message_sending", "the message is being sent; delete it once it is sent")
}

// errMaySent refuses to cancel a message an earlier, timed-out attempt
// may have delivered. Revoking it by its fixed id instead was rejected: a
// revoke leaves "this message was deleted" on the phone whether or not the
// message arrived (not what cancelled promises), and it needs the
// instance connected now, while the retry may succeed minutes later.
func errMaySent() error {
	return ports.ReasonError(ports.EConflict, "message_sending",
		"an earlier attempt may have reached WhatsApp; delete it once it is sent")
}

// deletedData is the message.deleted event of a deleted message.
func deletedData(m ports.Message) any {
	d := ports.MessageDeletedData{MessageID: m.ID, By: m.DeletedBy}
	if m.DeletedAt != nil {
		d.DeletedAt = *m.DeletedAt
	}
	return d
}
