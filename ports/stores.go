package ports

import (
	"context"
	"time"
)

// Every store method that touches tenant data takes the subscription id right
// after ctx and treats another tenant's row as missing (ENotFound).
// Driver errors are translated: a unique violation is EConflict, a missing
// row ENotFound, anything else is wrapped and surfaces as EInternal.

// SubscriptionStore keeps subscriptions.
type SubscriptionStore interface {
	// CreateSubscription stores s; EConflict if the id exists.
	CreateSubscription(ctx context.Context, s Subscription) error
	// GetSubscription returns ENotFound if there is no such subscription.
	GetSubscription(ctx context.Context, id SubscriptionID) (Subscription, error)
	// LockSubscription returns the subscription and, inside a transaction,
	// holds a write lock on it until commit, so that rules counting its
	// children (the instance limit) cannot race. ENotFound if missing.
	LockSubscription(ctx context.Context, id SubscriptionID) (Subscription, error)
	// ListSubscriptions pages through all subscriptions, oldest first.
	ListSubscriptions(ctx context.Context, page PageRequest) (Page[Subscription], error)
	// UpdateSubscription loads the row under a lock, applies fn and saves it.
	// ENotFound if missing; fn's error aborts the update and is returned.
	UpdateSubscription(ctx context.Context, id SubscriptionID, fn func(*Subscription) error) (Subscription, error)
}

// UserStore keeps users. Emails are unique across the platform.
type UserStore interface {
	// CreateUser stores u; EConflict (reason email_taken) if the email exists.
	CreateUser(ctx context.Context, u User) error
	// GetUser returns ENotFound if there is no such user.
	GetUser(ctx context.Context, id UserID) (User, error)
	// GetUserByEmail looks a user up by lower-cased email; ENotFound if none.
	GetUserByEmail(ctx context.Context, email string) (User, error)
	// UpdateUser loads the user under a lock, applies fn and saves it.
	UpdateUser(ctx context.Context, id UserID, fn func(*User) error) (User, error)
	// CountUsers returns how many users a subscription has.
	CountUsers(ctx context.Context, sub SubscriptionID) (int, error)
}

// TokenStore keeps refresh tokens and the access-token deny-list (which
// AccessStore.GetUserAccess reads).
type TokenStore interface {
	// CreateRefreshToken stores t; EConflict if the hash exists.
	CreateRefreshToken(ctx context.Context, t RefreshToken) error
	// GetRefreshToken finds a token by the SHA-256 of its value; ENotFound if none.
	GetRefreshToken(ctx context.Context, hash []byte) (RefreshToken, error)
	// UseRefreshToken marks the token spent at the given time, atomically:
	// EConflict if it was already spent or revoked (a reuse).
	UseRefreshToken(ctx context.Context, id string, at time.Time) error
	// RevokeRefreshFamily revokes every unrevoked token of the family.
	RevokeRefreshFamily(ctx context.Context, familyID string, at time.Time) error
	// RevokeUserRefreshTokens revokes every unrevoked token of the user.
	RevokeUserRefreshTokens(ctx context.Context, user UserID, at time.Time) error
	// DenyAccessToken puts an id on the deny-list until expiresAt: a
	// token's jti denies that token, a refresh family's id every access
	// token of the family. Denying an id twice is not an error.
	DenyAccessToken(ctx context.Context, jti string, expiresAt time.Time) error
	// PurgeExpiredTokens deletes refresh tokens and deny-list entries that
	// expired before the given time; it returns how many rows went.
	PurgeExpiredTokens(ctx context.Context, before time.Time) (int, error)
}

// InstanceStore keeps instance records. Names are unique per subscription.
type InstanceStore interface {
	// CreateInstance stores i; EConflict (reason name_taken) if the name exists.
	CreateInstance(ctx context.Context, sub SubscriptionID, i Instance) error
	// GetInstance returns ENotFound if missing or another tenant's.
	GetInstance(ctx context.Context, sub SubscriptionID, id InstanceID) (Instance, error)
	// ListInstances pages through a subscription's instances, oldest first.
	ListInstances(ctx context.Context, sub SubscriptionID, page PageRequest) (Page[Instance], error)
	// CountInstances returns how many instances a subscription has.
	CountInstances(ctx context.Context, sub SubscriptionID) (int, error)
	// UpdateInstance loads the instance under a lock, applies fn and saves
	// it. ENotFound if missing; EConflict (name_taken) on a duplicate name.
	UpdateInstance(ctx context.Context, sub SubscriptionID, id InstanceID, fn func(*Instance) error) (Instance, error)
	// DeleteInstance removes the instance, its API keys and its webhook
	// endpoints with their deliveries, at once; ENotFound if missing.
	DeleteInstance(ctx context.Context, sub SubscriptionID, id InstanceID) error
}

// APIKeyStore keeps API keys.
type APIKeyStore interface {
	// CreateAPIKey stores k; EConflict if the hash exists.
	CreateAPIKey(ctx context.Context, k APIKey) error
	// ListAPIKeys pages through one instance's keys, oldest first.
	ListAPIKeys(ctx context.Context, sub SubscriptionID, inst InstanceID, page PageRequest) (Page[APIKey], error)
	// DeleteAPIKey removes a key; ENotFound if it is not that instance's.
	DeleteAPIKey(ctx context.Context, sub SubscriptionID, inst InstanceID, id APIKeyID) error
	// GetAPIKeyByHash finds a key by its SHA-256 (authentication happens
	// before the tenant is known); ENotFound if none.
	GetAPIKeyByHash(ctx context.Context, hash []byte) (APIKey, error)
	// TouchAPIKey sets lastUsedAt; a missing key is not an error.
	TouchAPIKey(ctx context.Context, id APIKeyID, at time.Time) error
}

// AuditStore keeps the audit log.
type AuditStore interface {
	// AppendAudit stores one entry.
	AppendAudit(ctx context.Context, e AuditEntry) error
	// ListAudit pages through a subscription's entries, newest first.
	ListAudit(ctx context.Context, sub SubscriptionID, page PageRequest) (Page[AuditEntry], error)
}

// Stores bundles the stores so that a transaction can hand them all over.
type Stores struct {
	Subscriptions SubscriptionStore
	Users         UserStore
	Tokens        TokenStore
	Instances     InstanceStore
	APIKeys       APIKeyStore
	Audit         AuditStore
	Access        AccessStore
	Messages      MessageStore
	Media         MediaStore
	Webhooks      WebhookStore
	Deliveries    DeliveryStore
	Stats         StatsStore
	Templates     TemplateStore
	Bulks         BulkStore
	Idempotency   IdempotencyStore
	Events        EventStore
	Members       MemberStore
	Invitations   InvitationStore
}

// TxRunner runs fn in one database transaction with stores bound to it.
// fn's error rolls back and is returned; side effects outside the database
// belong after InTx returns. Only the stores handed to fn take part in the
// transaction: ctx carries none, so other stores used inside fn (and a
// nested InTx) work outside it, and writing through them while fn runs may
// wait for the transaction to end (SQLite has one writer). Pass fn's
// stores down to whatever must join the transaction.
type TxRunner interface {
	InTx(ctx context.Context, fn func(ctx context.Context, s Stores) error) error
}

// Pinger checks that a dependency answers, for /readyz.
type Pinger interface {
	Ping(ctx context.Context) error
}
