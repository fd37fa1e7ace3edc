package prom_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/wagate/wagate/adapters/prom"
	"github.com/wagate/wagate/ports"
)

// recordingBus keeps what was published.
type recordingBus struct{ events []ports.Event }

func (b *recordingBus) Publish(_ context.Context, e ports.Event) error {
	b.events = append(b.events, e)
	return nil
}

func (b *recordingBus) Subscribe(context.Context, ports.EventFilter) (<-chan ports.Event, error) {
	return nil, ports.Errorf(ports.EInvalid, "recording only")
}

func TestEventsCountStatusChanges(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := prom.NewEvents(reg)
	if err != nil {
		t.Fatal(err)
	}
	next := &recordingBus{}
	bus := m.Bus(next)
	for _, e := range []ports.Event{
		{Type: ports.EventMessageStatus, Data: json.RawMessage(`{"messageId":"m1","status":"sent"}`)},
		{Type: ports.EventMessageStatus, Data: json.RawMessage(`{"messageId":"m2","status":"sent"}`)},
		{Type: ports.EventMessageStatus, Data: json.RawMessage(`{"messageId":"m3","status":"failed","error":{"code":"x"}}`)},
		{Type: ports.EventMessageStatus, Data: json.RawMessage(`{"status":"+15550001111"}`)}, // never a label of its own
		{Type: ports.EventMessageReceived, Data: json.RawMessage(`{"id":"m4","status":"received"}`)},
		{Type: ports.EventInstanceStatus, Data: json.RawMessage(`{"status":"connected","previousStatus":null}`)},
		{Type: ports.EventInstanceStatus, Data: json.RawMessage(`{"status":"disconnected"}`)},
		{Type: ports.EventInstanceQR, Data: json.RawMessage(`{"qr":"2@abc"}`)},
		{Type: ports.EventWebhookTest},
	} {
		if err := bus.Publish(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	if len(next.events) != 9 {
		t.Errorf("got %d events passed on, want all 9", len(next.events))
	}
	if _, err := bus.Subscribe(t.Context(), ports.EventFilter{}); !ports.IsCode(err, ports.EInvalid) {
		t.Errorf("subscribe: got %v, want the next bus's answer", err)
	}
	want := `
# HELP wagate_message_status_changes_total Messages that reached a status (message.status events), and inbound messages (received), by status.
# TYPE wagate_message_status_changes_total counter
wagate_message_status_changes_total{status="delivered"} 0
wagate_message_status_changes_total{status="failed"} 1
wagate_message_status_changes_total{status="other"} 1
wagate_message_status_changes_total{status="queued"} 0
wagate_message_status_changes_total{status="read"} 0
wagate_message_status_changes_total{status="received"} 1
wagate_message_status_changes_total{status="sending"} 0
wagate_message_status_changes_total{status="sent"} 2
# HELP wagate_session_status_changes_total Instances that reached a connection status (instance.status events), by status.
# TYPE wagate_session_status_changes_total counter
wagate_session_status_changes_total{status="connected"} 1
wagate_session_status_changes_total{status="connecting"} 0
wagate_session_status_changes_total{status="created"} 0
wagate_session_status_changes_total{status="disconnected"} 1
wagate_session_status_changes_total{status="logged_out"} 0
wagate_session_status_changes_total{status="qr"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}
