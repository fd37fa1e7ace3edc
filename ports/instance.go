package ports

import "time"

// InstanceID identifies an instance: one linked WhatsApp number.
type InstanceID string

// InstanceStatus is the connection state of an instance.
type InstanceStatus string

// The instance statuses (SPEC §4).
const (
	StatusCreated      InstanceStatus = "created"
	StatusConnecting   InstanceStatus = "connecting"
	StatusQR           InstanceStatus = "qr"
	StatusConnected    InstanceStatus = "connected"
	StatusDisconnected InstanceStatus = "disconnected"
	StatusLoggedOut    InstanceStatus = "logged_out"
)

// WantsConnection reports whether an instance in status s should have a
// connection: one is under way or up. Restores, lease claims and sends
// all ask this one question.
func (s InstanceStatus) WantsConnection() bool {
	return s == StatusConnecting || s == StatusQR || s == StatusConnected
}

// ConnectionWanted lists the statuses for which WantsConnection holds, to
// find such instances in a store. A new slice each call: callers may keep
// it.
func ConnectionWanted() []InstanceStatus {
	return []InstanceStatus{StatusConnecting, StatusQR, StatusConnected}
}

// Unlinked reports whether an instance in status s has no linked device:
// never linked, or unlinked since. It cannot send, and a connect must pair
// a new device.
func (s InstanceStatus) Unlinked() bool {
	return s == StatusCreated || s == StatusLoggedOut
}

// ReasonNotConnected is the API reason of an action that needs a connected
// instance.
const ReasonNotConnected = "instance_not_connected"

// ErrNotConnected is the EConflict error of an action that needs a
// connected instance.
func ErrNotConnected() *Error {
	return ReasonError(EConflict, ReasonNotConnected, "the instance is not connected to WhatsApp")
}

// Instance is a WhatsApp linked device owned by a subscription.
type Instance struct {
	ID              InstanceID
	SubscriptionID  SubscriptionID
	Name            string
	Status          InstanceStatus
	StatusReason    string
	PhoneNumber     string
	JID             string
	PushName        string
	Metadata        map[string]any
	ProxyURL        string
	CreatedAt       time.Time
	UpdatedAt       time.Time
	LastConnectedAt *time.Time
	Settings        InstanceSettings
}
