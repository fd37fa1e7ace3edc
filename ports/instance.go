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
}
