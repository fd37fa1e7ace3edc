package coretest

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/wagate/wagate/ports"
)

// CreateSubscription stores sub; EConflict if the id exists.
func (v view) CreateSubscription(_ context.Context, sub ports.Subscription) error {
	d, done, err := v.enter("CreateSubscription")
	if err != nil {
		return err
	}
	defer done()
	if _, ok := d.subs[sub.ID]; ok {
		return ports.Errorf(ports.EConflict, "subscription %s exists", sub.ID)
	}
	d.subs[sub.ID] = sub
	return nil
}

// GetSubscription returns ENotFound if missing.
func (v view) GetSubscription(_ context.Context, id ports.SubscriptionID) (ports.Subscription, error) {
	d, done, err := v.enter("GetSubscription")
	if err != nil {
		return ports.Subscription{}, err
	}
	defer done()
	sub, ok := d.subs[id]
	if !ok {
		return ports.Subscription{}, notFound("subscription")
	}
	return sub, nil
}

// LockSubscription is GetSubscription: transactions are serialized anyway.
func (v view) LockSubscription(_ context.Context, id ports.SubscriptionID) (ports.Subscription, error) {
	d, done, err := v.enter("LockSubscription")
	if err != nil {
		return ports.Subscription{}, err
	}
	defer done()
	sub, ok := d.subs[id]
	if !ok {
		return ports.Subscription{}, notFound("subscription")
	}
	return sub, nil
}

// ListSubscriptions pages through subscriptions, oldest first.
func (v view) ListSubscriptions(_ context.Context, page ports.PageRequest) (ports.Page[ports.Subscription], error) {
	d, done, err := v.enter("ListSubscriptions")
	if err != nil {
		return ports.Page[ports.Subscription]{}, err
	}
	defer done()
	all := slices.Collect(maps.Values(d.subs))
	slices.SortFunc(all, func(a, b ports.Subscription) int {
		return byAge(a.CreatedAt, b.CreatedAt, string(a.ID), string(b.ID))
	})
	return pageOf(all, func(s ports.Subscription) string { return string(s.ID) }, page)
}

// UpdateSubscription applies fn to a copy and saves it when fn succeeds.
func (v view) UpdateSubscription(_ context.Context, id ports.SubscriptionID, fn func(*ports.Subscription) error) (ports.Subscription, error) {
	d, done, err := v.enter("UpdateSubscription")
	if err != nil {
		return ports.Subscription{}, err
	}
	defer done()
	sub, ok := d.subs[id]
	if !ok {
		return ports.Subscription{}, notFound("subscription")
	}
	if err := fn(&sub); err != nil {
		return ports.Subscription{}, err
	}
	sub.ID = id
	d.subs[id] = sub
	return sub, nil
}

// CreateUser stores u; EConflict (email_taken) for a used email.
func (v view) CreateUser(_ context.Context, u ports.User) error {
	d, done, err := v.enter("CreateUser")
	if err != nil {
		return err
	}
	defer done()
	if _, ok := d.users[u.ID]; ok {
		return ports.Errorf(ports.EConflict, "user %s exists", u.ID)
	}
	if u.MemberRole == "" {
		u.MemberRole = ports.MemberOwner // the column's default
	}
	if _, ok := d.subs[u.SubscriptionID]; !ok {
		return notFound("subscription")
	}
	for _, other := range d.users {
		if other.Email == u.Email {
			return ports.ReasonError(ports.EConflict, "email_taken", "the email is already registered")
		}
	}
	d.users[u.ID] = u
	return nil
}

// GetUser returns ENotFound if missing.
func (v view) GetUser(_ context.Context, id ports.UserID) (ports.User, error) {
	d, done, err := v.enter("GetUser")
	if err != nil {
		return ports.User{}, err
	}
	defer done()
	u, ok := d.users[id]
	if !ok {
		return ports.User{}, notFound("user")
	}
	return u, nil
}

// GetUserByEmail returns ENotFound if no user has the email.
func (v view) GetUserByEmail(_ context.Context, email string) (ports.User, error) {
	d, done, err := v.enter("GetUserByEmail")
	if err != nil {
		return ports.User{}, err
	}
	defer done()
	for _, u := range d.users {
		if u.Email == email {
			return u, nil
		}
	}
	return ports.User{}, notFound("user")
}

// UpdateUser applies fn to a copy and saves it when fn succeeds.
func (v view) UpdateUser(_ context.Context, id ports.UserID, fn func(*ports.User) error) (ports.User, error) {
	d, done, err := v.enter("UpdateUser")
	if err != nil {
		return ports.User{}, err
	}
	defer done()
	u, ok := d.users[id]
	if !ok {
		return ports.User{}, notFound("user")
	}
	if err := fn(&u); err != nil {
		return ports.User{}, err
	}
	for _, other := range d.users {
		if other.ID != id && other.Email == u.Email {
			return ports.User{}, ports.ReasonError(ports.EConflict, "email_taken", "the email is already registered")
		}
	}
	u.ID = id
	d.users[id] = u
	return u, nil
}

// CountUsers counts a subscription's users.
func (v view) CountUsers(_ context.Context, sub ports.SubscriptionID) (int, error) {
	d, done, err := v.enter("CountUsers")
	if err != nil {
		return 0, err
	}
	defer done()
	n := 0
	for _, u := range d.users {
		if u.SubscriptionID == sub {
			n++
		}
	}
	return n, nil
}

// CreateRefreshToken stores t; EConflict if the id or hash exists.
func (v view) CreateRefreshToken(_ context.Context, t ports.RefreshToken) error {
	d, done, err := v.enter("CreateRefreshToken")
	if err != nil {
		return err
	}
	defer done()
	if _, ok := d.refresh[t.ID]; ok {
		return ports.Errorf(ports.EConflict, "refresh token %s exists", t.ID)
	}
	for _, other := range d.refresh {
		if string(other.Hash) == string(t.Hash) {
			return ports.Errorf(ports.EConflict, "refresh token hash exists")
		}
	}
	t.Hash = slices.Clone(t.Hash)
	d.refresh[t.ID] = t
	return nil
}

// GetRefreshToken finds a token by hash; ENotFound if none.
func (v view) GetRefreshToken(_ context.Context, hash []byte) (ports.RefreshToken, error) {
	d, done, err := v.enter("GetRefreshToken")
	if err != nil {
		return ports.RefreshToken{}, err
	}
	defer done()
	for _, t := range d.refresh {
		if string(t.Hash) == string(hash) {
			t.Hash = slices.Clone(t.Hash)
			return t, nil
		}
	}
	return ports.RefreshToken{}, notFound("refresh token")
}

// UseRefreshToken marks the token spent; EConflict if spent or revoked.
func (v view) UseRefreshToken(_ context.Context, id string, at time.Time) error {
	d, done, err := v.enter("UseRefreshToken")
	if err != nil {
		return err
	}
	defer done()
	t, ok := d.refresh[id]
	if !ok {
		return notFound("refresh token")
	}
	if t.UsedAt != nil || t.RevokedAt != nil {
		return ports.Errorf(ports.EConflict, "refresh token already used")
	}
	t.UsedAt = timePtr(at)
	d.refresh[id] = t
	return nil
}

// RevokeRefreshFamily revokes the family's unrevoked tokens.
func (v view) RevokeRefreshFamily(_ context.Context, familyID string, at time.Time) error {
	return v.revokeWhere("RevokeRefreshFamily", at, func(t ports.RefreshToken) bool { return t.FamilyID == familyID })
}

// RevokeUserRefreshTokens revokes the user's unrevoked tokens.
func (v view) RevokeUserRefreshTokens(_ context.Context, user ports.UserID, at time.Time) error {
	return v.revokeWhere("RevokeUserRefreshTokens", at, func(t ports.RefreshToken) bool { return t.UserID == user })
}

func (v view) revokeWhere(method string, at time.Time, match func(ports.RefreshToken) bool) error {
	d, done, err := v.enter(method)
	if err != nil {
		return err
	}
	defer done()
	for id, t := range d.refresh {
		if t.RevokedAt == nil && match(t) {
			t.RevokedAt = timePtr(at)
			d.refresh[id] = t
		}
	}
	return nil
}

// DenyAccessToken puts jti on the deny-list.
func (v view) DenyAccessToken(_ context.Context, jti string, expiresAt time.Time) error {
	d, done, err := v.enter("DenyAccessToken")
	if err != nil {
		return err
	}
	defer done()
	d.denied[jti] = expiresAt
	return nil
}

// PurgeExpiredTokens deletes what expired before the given time.
func (v view) PurgeExpiredTokens(_ context.Context, before time.Time) (int, error) {
	d, done, err := v.enter("PurgeExpiredTokens")
	if err != nil {
		return 0, err
	}
	defer done()
	n := 0
	for id, t := range d.refresh {
		if t.ExpiresAt.Before(before) {
			delete(d.refresh, id)
			n++
		}
	}
	for jti, exp := range d.denied {
		if exp.Before(before) {
			delete(d.denied, jti)
			n++
		}
	}
	return n, nil
}

// AppendAudit stores one entry.
func (v view) AppendAudit(_ context.Context, e ports.AuditEntry) error {
	d, done, err := v.enter("AppendAudit")
	if err != nil {
		return err
	}
	defer done()
	e.Details = maps.Clone(e.Details)
	d.audit = append(d.audit, e)
	return nil
}

// ListAudit pages through a subscription's entries, newest first.
func (v view) ListAudit(_ context.Context, sub ports.SubscriptionID, page ports.PageRequest) (ports.Page[ports.AuditEntry], error) {
	d, done, err := v.enter("ListAudit")
	if err != nil {
		return ports.Page[ports.AuditEntry]{}, err
	}
	defer done()
	var mine []ports.AuditEntry
	for _, e := range d.audit {
		if e.SubscriptionID == sub {
			mine = append(mine, e)
		}
	}
	slices.SortFunc(mine, func(a, b ports.AuditEntry) int { return -byAge(a.At, b.At, a.ID, b.ID) })
	return pageOf(mine, func(e ports.AuditEntry) string { return e.ID }, page)
}
