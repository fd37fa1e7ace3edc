package httpgin

import (
	"encoding/json"
	"fmt"

	"github.com/wagate/wagate/ports"
)

// EncodeEventData returns the JSON of an event's data (the envelope's
// "data" member; the envelope itself is adapters/eventjson's). The
// composition root hands it to the event log, which encodes each event
// once, when it is appended. It lives here because the data are the HTTP
// DTOs: a message.received event carries the Message DTO of the messages
// routes. An error for data without a wire form, which must not reach
// clients under Go field names.
func EncodeEventData(data any) (json.RawMessage, error) {
	dto, ok := eventDataDTO(data)
	if !ok {
		return nil, fmt.Errorf("%T has no wire form", data)
	}
	b, err := json.Marshal(dto)
	if err != nil {
		return nil, fmt.Errorf("encode event data: %w", err)
	}
	return b, nil
}

// eventDataDTO converts the data of an event; false for data without a
// wire form.
func eventDataDTO(data any) (any, bool) {
	switch d := data.(type) {
	case ports.InstanceStatusData:
		return InstanceStatusDTO{Status: string(d.Status), PreviousStatus: optString(string(d.PreviousStatus)), Reason: optString(d.Reason)}, true
	case ports.InstanceQRData:
		return InstanceQRDTO{QR: d.QR, Attempt: d.Attempt, ExpiresAt: d.ExpiresAt.UTC()}, true
	case ports.MessageStatusData:
		return MessageStatusDTO{MessageID: string(d.MessageID), Status: string(d.Status), Error: messageError(d.ErrorCode, d.ErrorMessage)}, true
	case ports.Message:
		return messageDTO(d), true
	case ports.PollVoteData:
		return PollVoteDTO{MessageID: string(d.MessageID), From: d.From, Selected: d.Selected}, true
	case ports.BulkSummary:
		return bulkDTO(d), true
	case ports.CallReceivedData:
		return CallReceivedDTO{From: d.From, IsVideo: d.IsVideo, IsGroup: d.IsGroup, Rejected: d.Rejected}, true
	case ports.GroupParticipantsData:
		return GroupParticipantsEventDTO{Group: d.Group, Action: d.Action, Participants: nonNil(d.Participants), By: d.By}, true
	case ports.GroupUpdatedData:
		changes := d.Changes
		if changes == nil {
			changes = map[string]any{}
		}
		return GroupUpdatedEventDTO{Group: d.Group, Changes: changes, By: d.By}, true
	case struct{}, nil:
		return struct{}{}, true
	}
	return actionEventDTO(data)
}
