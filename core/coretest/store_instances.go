package coretest

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/wagate/wagate/ports"
)

func cloneInstance(i ports.Instance) ports.Instance {
	i.Metadata = maps.Clone(i.Metadata)
	return i
}

func cloneKey(k ports.APIKey) ports.APIKey {
	k.Hash = slices.Clone(k.Hash)
	k.Scopes = slices.Clone(k.Scopes)
	return k
}

func nameTaken() error {
	return ports.ReasonError(ports.EConflict, "name_taken", "an instance with this name exists")
}

// nameUsed reports whether another instance of sub has the name.
func (d *state) nameUsed(sub ports.SubscriptionID, self ports.InstanceID, name string) bool {
	for _, other := range d.instances {
		if other.SubscriptionID == sub && other.ID != self && other.Name == name {
			return true
		}
	}
	return false
}

// CreateInstance stores i under sub; EConflict (name_taken) for a used name.
func (v view) CreateInstance(_ context.Context, sub ports.SubscriptionID, i ports.Instance) error {
	d, done, err := v.enter("CreateInstance")
	if err != nil {
		return err
	}
	defer done()
	if _, ok := d.subs[sub]; !ok {
		return notFound("subscription")
	}
	if _, ok := d.instances[i.ID]; ok {
		return ports.Errorf(ports.EConflict, "instance %s exists", i.ID)
	}
	if d.nameUsed(sub, i.ID, i.Name) {
		return nameTaken()
	}
	i.SubscriptionID = sub
	d.instances[i.ID] = cloneInstance(i)
	return nil
}

// GetInstance returns ENotFound if missing or another tenant's.
func (v view) GetInstance(_ context.Context, sub ports.SubscriptionID, id ports.InstanceID) (ports.Instance, error) {
	d, done, err := v.enter("GetInstance")
	if err != nil {
		return ports.Instance{}, err
	}
	defer done()
	i, ok := d.instances[id]
	if !ok || i.SubscriptionID != sub {
		return ports.Instance{}, notFound("instance")
	}
	return cloneInstance(i), nil
}

// ListInstances pages through sub's instances, oldest first.
func (v view) ListInstances(_ context.Context, sub ports.SubscriptionID, page ports.PageRequest) (ports.Page[ports.Instance], error) {
	d, done, err := v.enter("ListInstances")
	if err != nil {
		return ports.Page[ports.Instance]{}, err
	}
	defer done()
	var mine []ports.Instance
	for _, i := range d.instances {
		if i.SubscriptionID == sub {
			mine = append(mine, cloneInstance(i))
		}
	}
	slices.SortFunc(mine, func(a, b ports.Instance) int {
		return byAge(a.CreatedAt, b.CreatedAt, string(a.ID), string(b.ID))
	})
	return pageOf(mine, func(i ports.Instance) string { return string(i.ID) }, page)
}

// CountInstances counts sub's instances.
func (v view) CountInstances(_ context.Context, sub ports.SubscriptionID) (int, error) {
	d, done, err := v.enter("CountInstances")
	if err != nil {
		return 0, err
	}
	defer done()
	n := 0
	for _, i := range d.instances {
		if i.SubscriptionID == sub {
			n++
		}
	}
	return n, nil
}

// UpdateInstance applies fn to a copy and saves it when fn succeeds and the
// name is still free.
func (v view) UpdateInstance(_ context.Context, sub ports.SubscriptionID, id ports.InstanceID, fn func(*ports.Instance) error) (ports.Instance, error) {
	d, done, err := v.enter("UpdateInstance")
	if err != nil {
		return ports.Instance{}, err
	}
	defer done()
	i, ok := d.instances[id]
	if !ok || i.SubscriptionID != sub {
		return ports.Instance{}, notFound("instance")
	}
	i = cloneInstance(i)
	if err := fn(&i); err != nil {
		return ports.Instance{}, err
	}
	i.ID, i.SubscriptionID = id, sub
	if d.nameUsed(sub, id, i.Name) {
		return ports.Instance{}, nameTaken()
	}
	d.instances[id] = cloneInstance(i)
	return i, nil
}

// DeleteInstance removes the instance, its keys and its webhooks.
func (v view) DeleteInstance(_ context.Context, sub ports.SubscriptionID, id ports.InstanceID) error {
	d, done, err := v.enter("DeleteInstance")
	if err != nil {
		return err
	}
	defer done()
	i, ok := d.instances[id]
	if !ok || i.SubscriptionID != sub {
		return notFound("instance")
	}
	delete(d.instances, id)
	for kid, k := range d.keys {
		if k.InstanceID == id {
			delete(d.keys, kid)
		}
	}
	for wid, w := range d.webhooks {
		if w.InstanceID == id {
			delete(d.webhooks, wid)
		}
	}
	for did, dl := range d.deliveries {
		if dl.InstanceID == id {
			delete(d.deliveries, did)
		}
	}
	return nil
}

// CreateAPIKey stores k; EConflict if the id or hash exists.
func (v view) CreateAPIKey(_ context.Context, k ports.APIKey) error {
	d, done, err := v.enter("CreateAPIKey")
	if err != nil {
		return err
	}
	defer done()
	if i, ok := d.instances[k.InstanceID]; !ok || i.SubscriptionID != k.SubscriptionID {
		return notFound("instance")
	}
	if _, ok := d.keys[k.ID]; ok {
		return ports.Errorf(ports.EConflict, "api key %s exists", k.ID)
	}
	for _, other := range d.keys {
		if string(other.Hash) == string(k.Hash) {
			return ports.Errorf(ports.EConflict, "api key hash exists")
		}
	}
	d.keys[k.ID] = cloneKey(k)
	return nil
}

// ListAPIKeys pages through one instance's keys, oldest first.
func (v view) ListAPIKeys(_ context.Context, sub ports.SubscriptionID, inst ports.InstanceID, page ports.PageRequest) (ports.Page[ports.APIKey], error) {
	d, done, err := v.enter("ListAPIKeys")
	if err != nil {
		return ports.Page[ports.APIKey]{}, err
	}
	defer done()
	var mine []ports.APIKey
	for _, k := range d.keys {
		if k.SubscriptionID == sub && k.InstanceID == inst {
			mine = append(mine, cloneKey(k))
		}
	}
	slices.SortFunc(mine, func(a, b ports.APIKey) int {
		return byAge(a.CreatedAt, b.CreatedAt, string(a.ID), string(b.ID))
	})
	return pageOf(mine, func(k ports.APIKey) string { return string(k.ID) }, page)
}

// DeleteAPIKey removes a key; ENotFound if it is not that instance's.
func (v view) DeleteAPIKey(_ context.Context, sub ports.SubscriptionID, inst ports.InstanceID, id ports.APIKeyID) error {
	d, done, err := v.enter("DeleteAPIKey")
	if err != nil {
		return err
	}
	defer done()
	k, ok := d.keys[id]
	if !ok || k.SubscriptionID != sub || k.InstanceID != inst {
		return notFound("api key")
	}
	delete(d.keys, id)
	return nil
}

// GetAPIKeyByHash finds a key by hash; ENotFound if none.
func (v view) GetAPIKeyByHash(_ context.Context, hash []byte) (ports.APIKey, error) {
	d, done, err := v.enter("GetAPIKeyByHash")
	if err != nil {
		return ports.APIKey{}, err
	}
	defer done()
	for _, k := range d.keys {
		if string(k.Hash) == string(hash) {
			return cloneKey(k), nil
		}
	}
	return ports.APIKey{}, notFound("api key")
}

// TouchAPIKey sets lastUsedAt; a missing key is not an error.
func (v view) TouchAPIKey(_ context.Context, id ports.APIKeyID, at time.Time) error {
	d, done, err := v.enter("TouchAPIKey")
	if err != nil {
		return err
	}
	defer done()
	if k, ok := d.keys[id]; ok {
		k.LastUsedAt = timePtr(at)
		d.keys[id] = k
	}
	return nil
}
