// Package keys manages instance API keys: creation (the key is shown once,
// only its SHA-256 is kept), listing, immediate revocation, and turning a
// presented key into a principal.
package keys

import (
	"context"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"time"

	"github.com/wagate/wagate/core/tenancy"
	"github.com/wagate/wagate/ports"
)

// Deps are the ports the service uses.
type Deps struct {
	Tx     ports.TxRunner
	Stores ports.Stores
	Clock  ports.Clock
	IDs    ports.IDGen
	Log    *slog.Logger
	// Principals caches authenticated keys; nil caches nothing.
	Principals *tenancy.Principals
}

// Service is the keys module.
type Service struct {
	d       Deps
	touches *toucher
}

// New returns a Service. Call Run to record lastUsedAt in the background.
func New(d Deps) *Service {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	return &Service{d: d, touches: newToucher()}
}

// CreateCmd creates a key. Nil Scopes means all scopes; an empty, non-nil
// list is invalid.
type CreateCmd struct {
	Name      string
	Scopes    []ports.Scope
	ExpiresAt *time.Time
}

// Created is a new key with its secret value, shown once.
type Created struct {
	ports.APIKey
	Key string
}

// Create makes a key for one of the caller's instances. EForbidden for API
// keys; ENotFound for another tenant's instance; EInvalid for a bad name,
// unknown scope or an expiry in the past. Audited.
func (s *Service) Create(ctx context.Context, p ports.Principal, inst ports.InstanceID, cmd CreateCmd) (Created, error) {
	if err := p.RequireUser(); err != nil {
		return Created{}, err
	}
	now := s.d.Clock.Now()
	if err := validate(&cmd, now); err != nil {
		return Created{}, err
	}
	value, err := newKeyValue()
	if err != nil {
		return Created{}, err
	}
	k := ports.APIKey{
		ID:             ports.APIKeyID(s.d.IDs.NewID()),
		SubscriptionID: p.SubscriptionID,
		InstanceID:     inst,
		Name:           cmd.Name,
		Prefix:         value[:prefixLen],
		Hash:           hashKey(value),
		Scopes:         cmd.Scopes,
		CreatedAt:      now,
		ExpiresAt:      cmd.ExpiresAt,
	}
	err = s.d.Tx.InTx(ctx, func(ctx context.Context, st ports.Stores) error {
		if _, err := st.Instances.GetInstance(ctx, p.SubscriptionID, inst); err != nil {
			return fmt.Errorf("get instance: %w", err)
		}
		if err := st.APIKeys.CreateAPIKey(ctx, k); err != nil {
			return fmt.Errorf("create api key: %w", err)
		}
		e := s.entry(p, "api_key.created", k)
		e.Details["name"], e.Details["scopes"], e.Details["prefix"] = k.Name, scopeNames(k.Scopes), k.Prefix
		return s.audit(ctx, st.Audit, e)
	})
	if err != nil {
		return Created{}, err
	}
	k.Hash = nil
	return Created{APIKey: k, Key: value}, nil
}

// List lists an instance's keys (never their values).
func (s *Service) List(ctx context.Context, p ports.Principal, inst ports.InstanceID, page ports.PageRequest) (ports.Page[ports.APIKey], error) {
	if err := p.RequireUser(); err != nil {
		return ports.Page[ports.APIKey]{}, err
	}
	if _, err := s.d.Stores.Instances.GetInstance(ctx, p.SubscriptionID, inst); err != nil {
		return ports.Page[ports.APIKey]{}, fmt.Errorf("get instance: %w", err)
	}
	out, err := s.d.Stores.APIKeys.ListAPIKeys(ctx, p.SubscriptionID, inst, page)
	if err != nil {
		return ports.Page[ports.APIKey]{}, fmt.Errorf("list api keys: %w", err)
	}
	for i := range out.Items {
		out.Items[i].Hash = nil
	}
	return out, nil
}

// Delete revokes a key at once. ENotFound if it is not that instance's.
// Audited.
func (s *Service) Delete(ctx context.Context, p ports.Principal, inst ports.InstanceID, id ports.APIKeyID) error {
	if err := p.RequireUser(); err != nil {
		return err
	}
	err := s.d.Tx.InTx(ctx, func(ctx context.Context, st ports.Stores) error {
		if err := st.APIKeys.DeleteAPIKey(ctx, p.SubscriptionID, inst, id); err != nil {
			return fmt.Errorf("delete api key: %w", err)
		}
		return s.audit(ctx, st.Audit, s.entry(p, "api_key.revoked", ports.APIKey{ID: id, InstanceID: inst}))
	})
	if err != nil {
		return err
	}
	s.d.Principals.Revoke(ctx, ports.Revocation{APIKeyID: id})
	return nil
}

// Authenticate turns a presented key into a principal. EUnauthorized for an
// unknown, malformed or expired key. lastUsedAt is recorded asynchronously.
func (s *Service) Authenticate(ctx context.Context, key string) (ports.Principal, error) {
	if !wellFormed(key) {
		return ports.Principal{}, unauthorized()
	}
	ck := tenancy.CredentialKey(key) // the SHA-256 the store keeps
	hash := ck[:]
	p, gen, ok := s.d.Principals.Lookup(ck)
	if ok {
		s.touches.queue(p.APIKeyID, s.d.Clock.Now())
		return p, nil
	}
	p, until, err := s.authenticate(ctx, hash)
	if err == nil {
		s.d.Principals.Store(ck, p, until, gen)
	}
	return p, err
}

// authenticate is Authenticate without the cache: one read of the key
// by its hash. It returns the key's expiry too, which bounds how long the
// principal may be cached.
func (s *Service) authenticate(ctx context.Context, hash []byte) (ports.Principal, time.Time, error) {
	// One read: the key with its subscription's tier.
	a, err := s.d.Stores.Access.GetAPIKeyAccess(ctx, hash)
	k := a.Key
	switch {
	case ports.IsCode(err, ports.ENotFound):
		return ports.Principal{}, time.Time{}, unauthorized()
	case err != nil:
		return ports.Principal{}, time.Time{}, fmt.Errorf("get api key: %w", err)
	case subtle.ConstantTimeCompare(k.Hash, hash) != 1:
		// The store matched on the hash already; this guards against a
		// store that matches loosely (a prefix, a collation).
		return ports.Principal{}, time.Time{}, unauthorized()
	}
	now := s.d.Clock.Now()
	var until time.Time
	if k.ExpiresAt != nil {
		until = *k.ExpiresAt
	}
	if k.ExpiresAt != nil && !now.Before(until) {
		return ports.Principal{}, time.Time{}, ports.ReasonError(ports.EUnauthorized, "token_expired", "the API key has expired")
	}
	s.touches.queue(k.ID, now)
	return ports.Principal{
		Kind:           ports.PrincipalAPIKey,
		SubscriptionID: k.SubscriptionID,
		Tier:           a.Subscription.Tier,
		APIKeyID:       k.ID,
		InstanceID:     k.InstanceID,
		Scopes:         k.Scopes,
	}, until, nil
}

// Run records lastUsedAt updates until ctx ends, then flushes what is left.
func (s *Service) Run(ctx context.Context) {
	s.run(ctx)
}

func unauthorized() error {
	return ports.ReasonError(ports.EUnauthorized, "unauthorized", "invalid API key")
}

func scopeNames(scopes []ports.Scope) []string {
	out := make([]string, len(scopes))
	for i, sc := range scopes {
		out[i] = string(sc)
	}
	return out
}

// entry starts an audit entry about key k by the caller.
func (s *Service) entry(p ports.Principal, action string, k ports.APIKey) ports.AuditEntry {
	e := p.AuditEntry(action, "api_key", string(k.ID))
	e.Details = map[string]any{"instanceId": string(k.InstanceID)}
	return e
}

// audit stamps the entry with an id and the time and stores it.
func (s *Service) audit(ctx context.Context, st ports.AuditStore, e ports.AuditEntry) error {
	return ports.AppendAudit(ctx, st, s.d.IDs, s.d.Clock, e)
}
