package entstore

import (
	"github.com/wagate/wagate/ent/schema"

	"context"

	"github.com/wagate/wagate/ent"
	"github.com/wagate/wagate/ent/apikey"
	"github.com/wagate/wagate/ent/instance"
	"github.com/wagate/wagate/ent/predicate"
	"github.com/wagate/wagate/ports"
)

type instanceStore struct{ s *conn }

var _ ports.InstanceStore = (*instanceStore)(nil)

func (st *instanceStore) CreateInstance(ctx context.Context, sub ports.SubscriptionID, i ports.Instance) error {
	c := st.s.client.Instance.Create().
		SetID(string(i.ID)).
		SetSubscriptionID(string(sub)).
		SetName(i.Name).
		SetStatus(string(i.Status)).
		SetStatusReason(i.StatusReason).
		SetPhoneNumber(i.PhoneNumber).
		SetJid(i.JID).
		SetPushName(i.PushName).
		SetProxyURL(i.ProxyURL).
		SetCreatedAt(dbTime(i.CreatedAt)).
		SetUpdatedAt(dbTime(i.UpdatedAt)).
		SetNillableLastConnectedAt(dbTimePtr(i.LastConnectedAt)).
		SetSettings(settingsRow(i.Settings))
	if i.Metadata != nil {
		c.SetMetadata(i.Metadata)
	}
	err := c.Exec(ctx)
	if uniqueOn(err, "name") {
		return errNameTaken()
	}
	return dbError("create instance", "instance", err)
}

func (st *instanceStore) GetInstance(ctx context.Context, sub ports.SubscriptionID, id ports.InstanceID) (ports.Instance, error) {
	e, err := st.s.client.Instance.Query().Where(ownInstance(sub, id)...).Only(ctx)
	if err != nil {
		return ports.Instance{}, dbError("get instance", "instance", err)
	}
	return toInstance(e), nil
}

func (st *instanceStore) ListInstances(ctx context.Context, sub ports.SubscriptionID, page ports.PageRequest) (ports.Page[ports.Instance], error) {
	after, err := decodeCursor(page.After)
	if err != nil {
		return ports.Page[ports.Instance]{}, err
	}
	limit := pageLimit(page)
	q := st.s.client.Instance.Query().
		Where(instance.SubscriptionID(string(sub))).
		Order(ent.Asc(instance.FieldID)).
		Limit(limit + 1)
	if after != "" {
		q = q.Where(instance.IDGT(after))
	}
	rows, err := q.All(ctx)
	if err != nil {
		return ports.Page[ports.Instance]{}, dbError("list instances", "instance", err)
	}
	return makePage(rows, limit, toInstance, func(e *ent.Instance) string { return e.ID }), nil
}

func (st *instanceStore) CountInstances(ctx context.Context, sub ports.SubscriptionID) (int, error) {
	n, err := st.s.client.Instance.Query().Where(instance.SubscriptionID(string(sub))).Count(ctx)
	return n, dbError("count instances", "instance", err)
}

func (st *instanceStore) UpdateInstance(ctx context.Context, sub ports.SubscriptionID, id ports.InstanceID, fn func(*ports.Instance) error) (ports.Instance, error) {
	var out ports.Instance
	err := st.s.inTx(ctx, func(tx *conn) error {
		q := tx.client.Instance.Query().Where(ownInstance(sub, id)...)
		if tx.postgres() {
			q = q.ForUpdate()
		}
		e, err := q.Only(ctx)
		if err != nil {
			return dbError("update instance", "instance", err)
		}
		in := toInstance(e)
		if err := fn(&in); err != nil {
			return err
		}
		u := e.Update().
			SetName(in.Name).
			SetStatus(string(in.Status)).
			SetStatusReason(in.StatusReason).
			SetPhoneNumber(in.PhoneNumber).
			SetJid(in.JID).
			SetPushName(in.PushName).
			SetProxyURL(in.ProxyURL).
			SetUpdatedAt(dbTime(in.UpdatedAt)).
			SetSettings(settingsRow(in.Settings))
		if in.Metadata != nil {
			u.SetMetadata(in.Metadata)
		} else {
			u.ClearMetadata()
		}
		if in.LastConnectedAt != nil {
			u.SetLastConnectedAt(dbTime(*in.LastConnectedAt))
		} else {
			u.ClearLastConnectedAt()
		}
		e, err = u.Save(ctx)
		if uniqueOn(err, "name") {
			return errNameTaken()
		}
		if err != nil {
			return dbError("update instance", "instance", err)
		}
		out = toInstance(e)
		return nil
	})
	return out, err
}

// DeleteInstance removes the keys and the webhooks with the instance in one
// transaction, so that no key outlives its instance and no event is
// delivered for an instance that is gone.
func (st *instanceStore) DeleteInstance(ctx context.Context, sub ports.SubscriptionID, id ports.InstanceID) error {
	return st.s.inTx(ctx, func(tx *conn) error {
		c := tx.client
		n, err := c.Instance.Delete().Where(ownInstance(sub, id)...).Exec(ctx)
		if err != nil {
			return dbError("delete instance", "instance", err)
		}
		if n == 0 {
			return ports.Errorf(ports.ENotFound, "instance not found")
		}
		_, err = c.APIKey.Delete().
			Where(apikey.SubscriptionID(string(sub)), apikey.InstanceID(string(id))).
			Exec(ctx)
		if err != nil {
			return dbError("delete instance keys", "api key", err)
		}
		return deleteInstanceWebhooks(ctx, c, sub, id)
	})
}

// ownInstance selects an instance only within its subscription, so that
// another tenant's id reads as missing.
func ownInstance(sub ports.SubscriptionID, id ports.InstanceID) []predicate.Instance {
	return []predicate.Instance{instance.ID(string(id)), instance.SubscriptionID(string(sub))}
}

func settingsRow(s ports.InstanceSettings) schema.InstanceSettings {
	return schema.InstanceSettings{
		RejectCalls: s.RejectCalls, RejectCallMessage: s.RejectCallMessage, AutoRead: s.AutoRead,
		AlwaysOnline: s.AlwaysOnline, IgnoreGroups: s.IgnoreGroups, IgnoreStatusBroadcasts: s.IgnoreStatusBroadcasts,
	}
}

func toSettings(s schema.InstanceSettings) ports.InstanceSettings {
	return ports.InstanceSettings{
		RejectCalls: s.RejectCalls, RejectCallMessage: s.RejectCallMessage, AutoRead: s.AutoRead,
		AlwaysOnline: s.AlwaysOnline, IgnoreGroups: s.IgnoreGroups, IgnoreStatusBroadcasts: s.IgnoreStatusBroadcasts,
	}
}
