package messaging

import (
	"context"
	"fmt"
	"time"

	"github.com/wagate/wagate/ports"
)

// EditWindow is how long after its send WhatsApp lets a message be
// edited (SPEC §6a: 15 minutes; whatsmeow's own constant is 20, but phones
// refuse later edits).
const EditWindow = 15 * time.Minute

// Edit replaces the text of a text message the instance sent, or the
// caption of its image, video or document, and appends message.edited.
// EInvalid for bad text, an inbound message or a kind without text;
// ENotFound for another instance's or tenant's message; EConflict
// (edit_window_passed) once EditWindow has passed since the send, or when
// the message is not on WhatsApp.
func (s *Service) Edit(ctx context.Context, p ports.Principal, inst ports.InstanceID, id ports.MessageID, text string) (ports.Message, error) {
	if fe := CheckText(text); fe != nil {
		return ports.Message{}, ports.InvalidFields(*fe)
	}
	m, _, err := s.actionTarget(ctx, p, inst, id)
	if err != nil {
		return ports.Message{}, err
	}
	caption, err := editable(m)
	if err != nil {
		return ports.Message{}, err
	}
	if err := onWhatsApp(m); err != nil {
		return ports.Message{}, err
	}
	now := s.d.Clock.Now()
	if m.SentAt == nil || now.Sub(*m.SentAt) > EditWindow {
		return ports.Message{}, ports.ReasonError(ports.EConflict, "edit_window_passed", "WhatsApp allows edits for 15 minutes after the send")
	}
	wa, err := s.actions()
	if err != nil {
		return ports.Message{}, err
	}
	if err := wa.Edit(ctx, inst, waKey(m), text); err != nil {
		return ports.Message{}, fmt.Errorf("edit %s: %w", id, err)
	}
	return s.updateWithEvent(ctx, p.SubscriptionID, id, func(m *ports.Message) error {
		applyEdit(m, text, caption, now)
		return nil
	}, ports.EventMessageEdited, editedData)
}

// editable reports whether m can be edited and whether its caption (not
// its text) is what an edit replaces.
func editable(m ports.Message) (caption bool, err error) {
	if m.Direction != ports.DirectionOutbound {
		return false, ports.InvalidFields(ports.FieldError{Field: "id", Message: "only messages the instance sent can be edited"})
	}
	switch m.Type {
	case ports.MessageText:
		return false, nil
	case ports.MessageImage, ports.MessageDocument, ports.MessageVideo:
		return true, nil
	}
	return false, ports.InvalidFields(ports.FieldError{Field: "id", Message: "only texts and captions can be edited"})
}

// applyEdit puts the new content in place.
func applyEdit(m *ports.Message, text string, caption bool, at time.Time) {
	if caption {
		m.Caption = text
	} else {
		m.Text = text
	}
	m.EditedAt = &at
	m.UpdatedAt = at
}

// editedData is the message.edited event of an edited message.
func editedData(m ports.Message) any {
	text := m.Text
	if m.Type != ports.MessageText {
		text = m.Caption
	}
	var at time.Time
	if m.EditedAt != nil {
		at = *m.EditedAt
	}
	return ports.MessageEditedData{MessageID: m.ID, Text: text, EditedAt: at}
}
