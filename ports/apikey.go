package ports

import "time"

// APIKeyID identifies an API key.
type APIKeyID string

// Scope is a permission an API key carries.
type Scope string

// The API key scopes.
const (
	ScopeMessagesSend Scope = "messages:send"
	ScopeMessagesRead Scope = "messages:read"
	ScopeContactsRead Scope = "contacts:read"
	ScopeInstanceRead Scope = "instance:read"
)

// AllScopes is every scope, the default of a new key.
var AllScopes = []Scope{ScopeMessagesSend, ScopeMessagesRead, ScopeContactsRead, ScopeInstanceRead}

// APIKey is an instance's API key. The key itself is never stored: Hash is
// its SHA-256, Prefix its first characters for recognition.
type APIKey struct {
	ID             APIKeyID
	SubscriptionID SubscriptionID
	InstanceID     InstanceID
	Name           string
	Prefix         string
	Hash           []byte
	Scopes         []Scope
	CreatedAt      time.Time
	ExpiresAt      *time.Time
	LastUsedAt     *time.Time
}
