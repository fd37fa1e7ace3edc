package ports

import "context"

// Revocation names callers that lost some of their rights: every
// authenticated principal it covers must be looked up again. Nodes cache
// principals for a few seconds, so whatever takes rights away (a revoked
// API key, a logout, a password, tier or role change, a deleted instance)
// sends one. A field left empty matches nothing; a principal is covered
// when any set field matches it.
type Revocation struct {
	SubscriptionID SubscriptionID // its tier changed, it was suspended
	UserID         UserID         // their password or role changed
	TokenFamily    string         // a refresh family was revoked
	TokenID        string         // one access token was denied
	APIKeyID       APIKeyID       // the key was revoked
	InstanceID     InstanceID     // the instance, and so its keys, went away
}

// Empty reports whether r covers no one.
func (r Revocation) Empty() bool { return r == Revocation{} }

// Covers reports whether r takes rights from p.
func (r Revocation) Covers(p Principal) bool {
	user, key := p.Kind == PrincipalUser, p.Kind == PrincipalAPIKey
	return r.SubscriptionID != "" && r.SubscriptionID == p.SubscriptionID ||
		user && r.UserID != "" && r.UserID == p.UserID ||
		user && r.TokenFamily != "" && r.TokenFamily == p.TokenFamily ||
		user && r.TokenID != "" && r.TokenID == p.TokenID ||
		key && r.APIKeyID != "" && r.APIKeyID == p.APIKeyID ||
		key && r.InstanceID != "" && r.InstanceID == p.InstanceID
}

// RevocationBus carries revocations to the other nodes of a deployment,
// whose caches then drop what they hold of the callers concerned.
type RevocationBus interface {
	// PublishRevocation sends r to every other node. EUnavailable when it
	// could not be sent: the other nodes then keep their cached principals
	// until these expire on their own.
	PublishRevocation(ctx context.Context, r Revocation) error
}
