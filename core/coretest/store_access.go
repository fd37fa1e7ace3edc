package coretest

import (
	"context"

	"github.com/wagate/wagate/ports"
)

var _ ports.AccessStore = view{}

// GetUserAccess returns the user (without password hash), the subscription
// and whether jti or family is denied; ENotFound if the user is missing.
func (v view) GetUserAccess(_ context.Context, id ports.UserID, jti, family string) (ports.UserAccess, error) {
	d, done, err := v.enter("GetUserAccess")
	if err != nil {
		return ports.UserAccess{}, err
	}
	defer done()
	u, sub, err := d.userAndSub(id)
	if err != nil {
		return ports.UserAccess{}, err
	}
	_, denied := d.denied[jti]
	if _, fam := d.denied[family]; fam {
		denied = true
	}
	return ports.UserAccess{User: u, Subscription: sub, Denied: denied}, nil
}

// GetUserAccount returns the user (without password hash), the subscription
// and its instance count; ENotFound if missing or another tenant's.
func (v view) GetUserAccount(_ context.Context, sub ports.SubscriptionID, id ports.UserID) (ports.UserAccount, error) {
	d, done, err := v.enter("GetUserAccount")
	if err != nil {
		return ports.UserAccount{}, err
	}
	defer done()
	u, s, err := d.userAndSub(id)
	if err != nil || u.SubscriptionID != sub {
		return ports.UserAccount{}, notFound("user")
	}
	n := 0
	for _, i := range d.instances {
		if i.SubscriptionID == sub {
			n++
		}
	}
	return ports.UserAccount{User: u, Subscription: s, Instances: n}, nil
}

// GetAPIKeyAccess finds a key by hash with its subscription; ENotFound if
// none.
func (v view) GetAPIKeyAccess(_ context.Context, hash []byte) (ports.APIKeyAccess, error) {
	d, done, err := v.enter("GetAPIKeyAccess")
	if err != nil {
		return ports.APIKeyAccess{}, err
	}
	defer done()
	for _, k := range d.keys {
		if string(k.Hash) != string(hash) {
			continue
		}
		// Like the join of the real store: a key whose subscription is gone
		// is not found.
		sub, ok := d.subs[k.SubscriptionID]
		if !ok {
			break
		}
		return ports.APIKeyAccess{Key: cloneKey(k), Subscription: sub}, nil
	}
	return ports.APIKeyAccess{}, notFound("api key")
}

// userAndSub is the join of users and subscriptions the access reads make.
func (d *state) userAndSub(id ports.UserID) (ports.User, ports.Subscription, error) {
	u, ok := d.users[id]
	if !ok {
		return ports.User{}, ports.Subscription{}, notFound("user")
	}
	sub, ok := d.subs[u.SubscriptionID]
	if !ok {
		return ports.User{}, ports.Subscription{}, notFound("user")
	}
	u.PasswordHash = ""
	return u, sub, nil
}
