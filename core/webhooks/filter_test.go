package webhooks_test

import (
	"strings"
	"testing"

	"github.com/wagate/wagate/core/webhooks"
	"github.com/wagate/wagate/ports"
)

func TestMatches(t *testing.T) {
	tests := []struct {
		name   string
		filter []string
		typ    ports.EventType
		want   bool
	}{
		{"star matches", []string{"*"}, ports.EventMessageReceived, true},
		{"star matches the test event", []string{"*"}, ports.EventWebhookTest, true},
		{"listed", []string{"message.received", "message.status"}, ports.EventMessageStatus, true},
		{"not listed", []string{"message.received"}, ports.EventMessageStatus, false},
		{"no prefix match", []string{"message"}, ports.EventMessageStatus, false},
		{"no pattern match", []string{"message.*"}, ports.EventMessageStatus, false},
		{"case matters", []string{"Message.Status"}, ports.EventMessageStatus, false},
		{"empty filter", nil, ports.EventInstanceQR, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := webhooks.Matches(tt.filter, tt.typ); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestValidateEvents(t *testing.T) {
	tests := []struct {
		name    string
		events  []string
		wantMsg string // "": valid
	}{
		{"star", []string{"*"}, ""},
		{"one type", []string{"message.received"}, ""},
		{"every type", []string{"instance.status", "instance.qr", "message.received", "message.status", "bulk.status", "webhook.test"}, ""},
		{"nil", nil, "must list event types"},
		{"empty", []string{}, "must list event types"},
		{"unknown type", []string{"message.deleted"}, `"message.deleted" is not an event type`},
		{"empty type", []string{""}, `"" is not an event type`},
		{"wrong case", []string{"MESSAGE.RECEIVED"}, "is not an event type"},
		{"padded", []string{" message.received"}, "is not an event type"},
		{"pattern", []string{"message.*"}, "is not an event type"},
		{"duplicate", []string{"message.received", "instance.qr", "message.received"}, `lists "message.received" twice`},
		{"star twice", []string{"*", "*"}, `"*" must be the only entry`},
		{"star first with a type", []string{"*", "message.received"}, `"*" must be the only entry`},
		{"star after a type", []string{"message.received", "*"}, `"*" must be the only entry`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := webhooks.ValidateEvents(tt.events)
			if tt.wantMsg == "" {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			e := ports.AsError(err)
			if e == nil || e.Code != ports.EInvalid || len(e.Fields) != 1 || e.Fields[0].Field != "events" {
				t.Fatalf("got %#v, want EInvalid on field events", err)
			}
			if !strings.Contains(e.Fields[0].Message, tt.wantMsg) {
				t.Errorf("got message %q, want it to contain %q", e.Fields[0].Message, tt.wantMsg)
			}
		})
	}
}

// TestValidateEventsNamesTypes: an unknown type's message lists the valid
// ones, so that a client can fix its request.
func TestValidateEventsNamesTypes(t *testing.T) {
	e := ports.AsError(webhooks.ValidateEvents([]string{"nope"}))
	if e == nil || len(e.Fields) != 1 {
		t.Fatalf("got %v, want one field error", e)
	}
	for _, typ := range []ports.EventType{ports.EventInstanceStatus, ports.EventInstanceQR, ports.EventMessageReceived, ports.EventMessageStatus, ports.EventBulkStatus, ports.EventWebhookTest} {
		if !strings.Contains(e.Fields[0].Message, string(typ)) {
			t.Errorf("got %q, want it to name %s", e.Fields[0].Message, typ)
		}
	}
}
