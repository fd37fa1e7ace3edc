package httpgin

import (
	"encoding/json"
	"fmt"

	"github.com/wagate/wagate/ports"
)

// EncodeEvent returns the JSON envelope of an event (SPEC §10). It is the
// one encoding of events: the realtime stream writes it as a frame, and
// the composition root hands it to the webhooks core, which stores it as a
// delivery's payload. It lives here because the envelope's data are the
// HTTP DTOs (a message.received event carries the Message DTO of the
// messages routes). An error for data without a wire form.
func EncodeEvent(e ports.Event) ([]byte, error) {
	dto, ok := eventDTO(e)
	if !ok {
		return nil, fmt.Errorf("event %s: %T has no wire form", e.Type, e.Data)
	}
	b, err := json.Marshal(dto)
	if err != nil {
		return nil, fmt.Errorf("encode event %s: %w", e.Type, err)
	}
	return b, nil
}
