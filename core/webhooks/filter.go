package webhooks

import (
	"fmt"
	"slices"
	"strings"

	"github.com/wagate/wagate/ports"
)

// AllEvents is the filter element that matches every event type.
const AllEvents = "*"

// Matches reports whether an endpoint with the given event filter receives
// events of type t: the filter holds "*" or t itself. An empty filter
// matches nothing (ValidateEvents never lets one be stored).
func Matches(filter []string, t ports.EventType) bool {
	for _, f := range filter {
		if f == AllEvents || f == string(t) {
			return true
		}
	}
	return false
}

// ValidateEvents checks an endpoint's event filter: ["*"], or a list of
// distinct event types of SPEC §10. EInvalid (field "events") for an empty
// list, an unknown type, a duplicate, or "*" alongside other entries.
func ValidateEvents(events []string) error {
	if msg := checkEvents(events); msg != "" {
		return ports.InvalidFields(ports.FieldError{Field: "events", Message: msg})
	}
	return nil
}

func checkEvents(events []string) string {
	if len(events) == 0 {
		return `must list event types, or be ["*"]`
	}
	seen := make(map[string]bool, len(events))
	for _, e := range events {
		switch {
		case e == AllEvents && len(events) > 1:
			return `"*" must be the only entry`
		case seen[e]:
			return fmt.Sprintf("lists %q twice", e)
		case e != AllEvents && !slices.Contains(eventTypes(), ports.EventType(e)):
			return fmt.Sprintf("%q is not an event type (%s)", e, knownList())
		}
		seen[e] = true
	}
	return ""
}

// eventTypes returns the event types of SPEC §10.
func eventTypes() []ports.EventType {
	return []ports.EventType{
		ports.EventInstanceStatus, ports.EventInstanceQR, ports.EventMessageReceived,
		ports.EventMessageStatus, ports.EventBulkStatus, ports.EventWebhookTest,
		ports.EventMessagePollVote,
		ports.EventGroupParticipants, ports.EventGroupUpdated,
	}
}

// knownList names the event types for an error message.
func knownList() string {
	var b strings.Builder
	for i, t := range eventTypes() {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(string(t))
	}
	return b.String()
}
