// Package eventjson is the one wire form of an event's envelope (SPEC §10):
// {"id","type","instanceId","timestamp","data"}. The realtime stream
// writes it as a frame, redisbus carries it between nodes and decodes it
// back, and the webhooks core stores it as each delivery's payload (the
// composition root hands it Encode), so the three cannot drift apart.
//
// The envelope's data is already JSON in ports.Event (encoded once when
// the event is appended, by the HTTP adapter's DTOs, since a
// message.received event carries the Message of the messages routes):
// this package only frames it.
package eventjson

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/wagate/wagate/ports"
)

// envelope is the wire form. The subscription is not part of it: a
// receiver knows whose events it gets.
type envelope struct {
	ID         string          `json:"id"`
	Type       string          `json:"type"`
	InstanceID string          `json:"instanceId"`
	Timestamp  time.Time       `json:"timestamp"`
	Data       json.RawMessage `json:"data"`
}

// emptyData is the data of an event without any ("data":{}, never null).
var emptyData = json.RawMessage(`{}`)

// Encode returns e's envelope. An error if Data is not valid JSON.
func Encode(e ports.Event) ([]byte, error) {
	data := e.Data
	if len(data) == 0 {
		data = emptyData
	}
	b, err := json.Marshal(envelope{
		ID: e.ID, Type: string(e.Type), InstanceID: string(e.InstanceID), Timestamp: e.At.UTC(), Data: data,
	})
	if err != nil {
		return nil, fmt.Errorf("encode event %s: %w", e.ID, err)
	}
	return b, nil
}

// Decode reads an envelope back; the subscription is left to the caller.
// An error when b is not an envelope (no id or type).
func Decode(b []byte) (ports.Event, error) {
	var env envelope
	if err := json.Unmarshal(b, &env); err != nil {
		return ports.Event{}, fmt.Errorf("decode event: %w", err)
	}
	if env.ID == "" || env.Type == "" {
		return ports.Event{}, errors.New("decode event: no id or type")
	}
	data := env.Data
	if len(data) == 0 || string(data) == "null" {
		data = emptyData
	}
	return ports.Event{
		ID: env.ID, Type: ports.EventType(env.Type), InstanceID: ports.InstanceID(env.InstanceID),
		At: env.Timestamp, Data: data,
	}, nil
}
