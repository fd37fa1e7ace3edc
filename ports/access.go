package ports

import "context"

// AccessStore answers the reads that authenticated requests make, each in
// one query: they run on every request, where round trips to the database
// are most of the cost. Users come back without their password hash.
type AccessStore interface {
	// GetUserAccess returns the user with their subscription and whether
	// the access token id jti or its refresh family is on the deny-list.
	// ENotFound if there is no such user.
	GetUserAccess(ctx context.Context, id UserID, jti, family string) (UserAccess, error)
	// GetUserAccount returns the subscription's user with the subscription
	// and how many instances it has. ENotFound if the user is missing or
	// another tenant's.
	GetUserAccount(ctx context.Context, sub SubscriptionID, id UserID) (UserAccount, error)
	// GetAPIKeyAccess finds a key by its SHA-256, with its subscription
	// (authentication happens before the tenant is known). ENotFound if none.
	GetAPIKeyAccess(ctx context.Context, hash []byte) (APIKeyAccess, error)
}

// UserAccess is what checking a user's access token needs.
type UserAccess struct {
	User         User
	Subscription Subscription
	Denied       bool // the token id or its family is on the deny-list
}

// UserAccount is a user with their subscription and its usage.
type UserAccount struct {
	User         User
	Subscription Subscription
	Instances    int
}

// APIKeyAccess is an API key with the subscription it belongs to.
type APIKeyAccess struct {
	Key          APIKey
	Subscription Subscription
}
