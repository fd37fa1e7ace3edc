package entstore

import (
	"context"
	"time"

	"github.com/wagate/wagate/ent"
	"github.com/wagate/wagate/ent/predicate"
	"github.com/wagate/wagate/ent/webhookdelivery"
	"github.com/wagate/wagate/ent/webhookendpoint"
	"github.com/wagate/wagate/ports"
)

type webhookStore struct{ s *conn }

type deliveryStore struct{ s *conn }

// deliveryOutbox answers the relay's query, which crosses subscriptions on
// purpose.
type deliveryOutbox struct{ s *conn }

var (
	_ ports.WebhookStore   = (*webhookStore)(nil)
	_ ports.DeliveryStore  = (*deliveryStore)(nil)
	_ ports.DeliveryOutbox = (*deliveryOutbox)(nil)
)

// DeliveryOutbox returns the system-level view of the delivery backlog.
func (s *Store) DeliveryOutbox() ports.DeliveryOutbox { return &deliveryOutbox{s.pool} }

func (st *webhookStore) CreateWebhook(ctx context.Context, sub ports.SubscriptionID, w ports.WebhookEndpoint) error {
	err := st.s.client.WebhookEndpoint.Create().
		SetID(string(w.ID)).
		SetSubscriptionID(string(sub)).
		SetInstanceID(string(w.InstanceID)).
		SetURL(w.URL).
		SetEvents(nonNil(w.Events)).
		SetDescription(w.Description).
		SetEnabled(w.Enabled).
		SetSecret(w.Secret).
		SetPreviousSecret(w.PreviousSecret).
		SetNillableRotatedAt(dbTimePtr(zeroNil(w.RotatedAt))).
		SetCreatedAt(dbTime(w.CreatedAt)).
		SetUpdatedAt(dbTime(w.UpdatedAt)).
		SetNillableLastSuccessAt(dbTimePtr(w.LastSuccessAt)).
		SetNillableFirstFailureAt(dbTimePtr(w.FirstFailureAt)).
		SetDisabledReason(w.DisabledReason).
		Exec(ctx)
	return dbError("create webhook", "webhook", err)
}

func (st *webhookStore) GetWebhook(ctx context.Context, sub ports.SubscriptionID, id ports.WebhookID) (ports.WebhookEndpoint, error) {
	e, err := st.s.client.WebhookEndpoint.Query().Where(ownWebhook(sub, id)...).Only(ctx)
	if err != nil {
		return ports.WebhookEndpoint{}, dbError("get webhook", "webhook", err)
	}
	return toWebhook(e), nil
}

func (st *webhookStore) ListWebhooks(ctx context.Context, sub ports.SubscriptionID, inst ports.InstanceID) ([]ports.WebhookEndpoint, error) {
	rows, err := st.s.client.WebhookEndpoint.Query().
		Where(webhookendpoint.SubscriptionID(string(sub)), webhookendpoint.InstanceID(string(inst))).
		Order(ent.Asc(webhookendpoint.FieldID)).All(ctx)
	if err != nil {
		return nil, dbError("list webhooks", "webhook", err)
	}
	out := make([]ports.WebhookEndpoint, len(rows))
	for i, r := range rows {
		out[i] = toWebhook(r)
	}
	return out, nil
}

func (st *webhookStore) UpdateWebhook(ctx context.Context, sub ports.SubscriptionID, id ports.WebhookID, fn func(*ports.WebhookEndpoint) error) (ports.WebhookEndpoint, error) {
	var out ports.WebhookEndpoint
	err := st.s.inTx(ctx, func(tx *conn) error {
		q := tx.client.WebhookEndpoint.Query().Where(ownWebhook(sub, id)...)
		if tx.postgres() {
			q = q.ForUpdate()
		}
		e, err := q.Only(ctx)
		if err != nil {
			return dbError("update webhook", "webhook", err)
		}
		w := toWebhook(e)
		if err := fn(&w); err != nil {
			return err
		}
		u := e.Update().
			SetURL(w.URL).
			SetEvents(nonNil(w.Events)).
			SetDescription(w.Description).
			SetEnabled(w.Enabled).
			SetSecret(w.Secret).
			SetPreviousSecret(w.PreviousSecret).
			SetUpdatedAt(dbTime(w.UpdatedAt)).
			SetDisabledReason(w.DisabledReason)
		setOptionalTime(zeroNil(w.RotatedAt), u.SetRotatedAt, u.ClearRotatedAt)
		setOptionalTime(w.LastSuccessAt, u.SetLastSuccessAt, u.ClearLastSuccessAt)
		setOptionalTime(w.FirstFailureAt, u.SetFirstFailureAt, u.ClearFirstFailureAt)
		e, err = u.Save(ctx)
		if err != nil {
			return dbError("update webhook", "webhook", err)
		}
		out = toWebhook(e)
		return nil
	})
	return out, err
}

func (st *webhookStore) DeleteWebhook(ctx context.Context, sub ports.SubscriptionID, id ports.WebhookID) error {
	return st.s.inTx(ctx, func(tx *conn) error {
		c := tx.client
		n, err := c.WebhookEndpoint.Delete().Where(ownWebhook(sub, id)...).Exec(ctx)
		if err != nil {
			return dbError("delete webhook", "webhook", err)
		}
		if n == 0 {
			return ports.Errorf(ports.ENotFound, "webhook not found")
		}
		_, err = c.WebhookDelivery.Delete().
			Where(webhookdelivery.SubscriptionID(string(sub)), webhookdelivery.EndpointID(string(id))).Exec(ctx)
		return dbError("delete webhook deliveries", "delivery", err)
	})
}

// deleteInstanceWebhooks removes an instance's endpoints and their
// deliveries, within the caller's transaction (the instance's delete). The
// deliveries go by endpoint, which their index leads with.
func deleteInstanceWebhooks(ctx context.Context, c *ent.Client, sub ports.SubscriptionID, inst ports.InstanceID) error {
	ids, err := c.WebhookEndpoint.Query().
		Where(webhookendpoint.SubscriptionID(string(sub)), webhookendpoint.InstanceID(string(inst))).
		IDs(ctx)
	if err != nil || len(ids) == 0 {
		return dbError("list instance webhooks", "webhook", err)
	}
	_, err = c.WebhookDelivery.Delete().
		Where(webhookdelivery.SubscriptionID(string(sub)), webhookdelivery.EndpointIDIn(ids...)).Exec(ctx)
	if err != nil {
		return dbError("delete instance deliveries", "delivery", err)
	}
	_, err = c.WebhookEndpoint.Delete().
		Where(webhookendpoint.SubscriptionID(string(sub)), webhookendpoint.IDIn(ids...)).Exec(ctx)
	return dbError("delete instance webhooks", "webhook", err)
}

func (st *deliveryStore) CreateDelivery(ctx context.Context, sub ports.SubscriptionID, d ports.WebhookDelivery) error {
	err := newDelivery(st.s.client, sub, d).Exec(ctx)
	return dbError("create delivery", "delivery", err)
}

// maxInsertRows bounds one multi-row INSERT: 17 columns a row stay well
// under SQLite's and PostgreSQL's limits on bound parameters.
const maxInsertRows = 500

func (st *deliveryStore) CreateDeliveries(ctx context.Context, sub ports.SubscriptionID, ds []ports.WebhookDelivery) error {
	for from := 0; from < len(ds); from += maxInsertRows {
		chunk := ds[from:min(len(ds), from+maxInsertRows)]
		builders := make([]*ent.WebhookDeliveryCreate, len(chunk))
		for i, d := range chunk {
			builders[i] = newDelivery(st.s.client, sub, d)
		}
		if err := st.s.client.WebhookDelivery.CreateBulk(builders...).Exec(ctx); err != nil {
			return dbError("create deliveries", "delivery", err)
		}
	}
	return nil
}

// newDelivery is the INSERT of d, of sub whatever d says.
func newDelivery(c *ent.Client, sub ports.SubscriptionID, d ports.WebhookDelivery) *ent.WebhookDeliveryCreate {
	return c.WebhookDelivery.Create().
		SetID(string(d.ID)).
		SetSubscriptionID(string(sub)).
		SetInstanceID(string(d.InstanceID)).
		SetEndpointID(string(d.EndpointID)).
		SetEventID(d.EventID).
		SetEventType(string(d.EventType)).
		SetPayload(d.Payload).
		SetStatus(string(d.Status)).
		SetAttempts(d.Attempts).
		SetLastStatusCode(d.LastStatusCode).
		SetLastError(d.LastError).
		SetLastResponse(d.LastResponse).
		SetLatencyMs(d.LatencyMS).
		SetNillableNextAttemptAt(dbTimePtr(d.NextAttemptAt)).
		SetCreatedAt(dbTime(d.CreatedAt)).
		SetUpdatedAt(dbTime(d.UpdatedAt))
}

func (st *deliveryStore) GetDelivery(ctx context.Context, sub ports.SubscriptionID, id ports.DeliveryID) (ports.WebhookDelivery, error) {
	e, err := st.s.client.WebhookDelivery.Query().Where(ownDelivery(sub, id)...).Only(ctx)
	if err != nil {
		return ports.WebhookDelivery{}, dbError("get delivery", "delivery", err)
	}
	return toDelivery(e), nil
}

func (st *deliveryStore) ListDeliveries(ctx context.Context, sub ports.SubscriptionID, endpoint ports.WebhookID, page ports.PageRequest) (ports.Page[ports.WebhookDelivery], error) {
	before, err := decodeCursor(page.After)
	if err != nil {
		return ports.Page[ports.WebhookDelivery]{}, err
	}
	where := []predicate.WebhookDelivery{webhookdelivery.SubscriptionID(string(sub)), webhookdelivery.EndpointID(string(endpoint))}
	if before != "" {
		// Newest first: the next page holds the older, smaller ids.
		where = append(where, webhookdelivery.IDLT(before))
	}
	limit := pageLimit(page)
	rows, err := st.s.client.WebhookDelivery.Query().Where(where...).
		Order(ent.Desc(webhookdelivery.FieldID)).Limit(limit + 1).All(ctx)
	if err != nil {
		return ports.Page[ports.WebhookDelivery]{}, dbError("list deliveries", "delivery", err)
	}
	return makePage(rows, limit, toDelivery, func(e *ent.WebhookDelivery) string { return e.ID }), nil
}

func (st *deliveryStore) UpdateDelivery(ctx context.Context, sub ports.SubscriptionID, id ports.DeliveryID, fn func(*ports.WebhookDelivery) error) (ports.WebhookDelivery, error) {
	var out ports.WebhookDelivery
	err := st.s.inTx(ctx, func(tx *conn) error {
		q := tx.client.WebhookDelivery.Query().Where(ownDelivery(sub, id)...)
		if tx.postgres() {
			q = q.ForUpdate()
		}
		e, err := q.Only(ctx)
		if err != nil {
			return dbError("update delivery", "delivery", err)
		}
		d := toDelivery(e)
		if err := fn(&d); err != nil {
			return err
		}
		u := e.Update().
			SetStatus(string(d.Status)).
			SetAttempts(d.Attempts).
			SetLastStatusCode(d.LastStatusCode).
			SetLastError(d.LastError).
			SetLastResponse(d.LastResponse).
			SetLatencyMs(d.LatencyMS).
			SetUpdatedAt(dbTime(d.UpdatedAt))
		setOptionalTime(d.NextAttemptAt, u.SetNextAttemptAt, u.ClearNextAttemptAt)
		e, err = u.Save(ctx)
		if err != nil {
			return dbError("update delivery", "delivery", err)
		}
		out = toDelivery(e)
		return nil
	})
	return out, err
}

func (o *deliveryOutbox) ListDue(ctx context.Context, dueBefore time.Time, limit int) ([]ports.WebhookDelivery, error) {
	if limit <= 0 {
		return []ports.WebhookDelivery{}, nil
	}
	rows, err := o.s.client.WebhookDelivery.Query().
		Where(
			webhookdelivery.Status(string(ports.DeliveryPending)),
			webhookdelivery.NextAttemptAtLT(dbTime(dueBefore)),
		).
		Order(ent.Asc(webhookdelivery.FieldNextAttemptAt), ent.Asc(webhookdelivery.FieldID)).
		Limit(limit).All(ctx)
	if err != nil {
		return nil, dbError("list due deliveries", "delivery", err)
	}
	out := make([]ports.WebhookDelivery, len(rows))
	for i, r := range rows {
		out[i] = toDelivery(r)
	}
	return out, nil
}

func (o *deliveryOutbox) ListFailing(ctx context.Context, since time.Time, limit int) ([]ports.WebhookEndpoint, error) {
	if limit <= 0 {
		return []ports.WebhookEndpoint{}, nil
	}
	rows, err := o.s.client.WebhookEndpoint.Query().
		Where(webhookendpoint.Enabled(true), webhookendpoint.FirstFailureAtLTE(dbTime(since))).
		Order(ent.Asc(webhookendpoint.FieldFirstFailureAt), ent.Asc(webhookendpoint.FieldID)).
		Limit(limit).All(ctx)
	if err != nil {
		return nil, dbError("list failing webhooks", "webhook", err)
	}
	out := make([]ports.WebhookEndpoint, len(rows))
	for i, r := range rows {
		out[i] = toWebhook(r)
	}
	return out, nil
}

// ownWebhook and ownDelivery select a row only within its subscription, so
// that another tenant's id reads as missing.
func ownWebhook(sub ports.SubscriptionID, id ports.WebhookID) []predicate.WebhookEndpoint {
	return []predicate.WebhookEndpoint{webhookendpoint.ID(string(id)), webhookendpoint.SubscriptionID(string(sub))}
}

func ownDelivery(sub ports.SubscriptionID, id ports.DeliveryID) []predicate.WebhookDelivery {
	return []predicate.WebhookDelivery{webhookdelivery.ID(string(id)), webhookdelivery.SubscriptionID(string(sub))}
}

func toWebhook(e *ent.WebhookEndpoint) ports.WebhookEndpoint {
	w := ports.WebhookEndpoint{
		ID:             ports.WebhookID(e.ID),
		SubscriptionID: ports.SubscriptionID(e.SubscriptionID),
		InstanceID:     ports.InstanceID(e.InstanceID),
		URL:            e.URL,
		Events:         nonNil(e.Events),
		Description:    e.Description,
		Enabled:        e.Enabled,
		Secret:         e.Secret,
		PreviousSecret: e.PreviousSecret,
		CreatedAt:      e.CreatedAt.UTC(),
		UpdatedAt:      e.UpdatedAt.UTC(),
		LastSuccessAt:  utcPtr(e.LastSuccessAt),
		FirstFailureAt: utcPtr(e.FirstFailureAt),
		DisabledReason: e.DisabledReason,
	}
	if e.RotatedAt != nil {
		w.RotatedAt = e.RotatedAt.UTC()
	}
	return w
}

func toDelivery(e *ent.WebhookDelivery) ports.WebhookDelivery {
	return ports.WebhookDelivery{
		ID:             ports.DeliveryID(e.ID),
		SubscriptionID: ports.SubscriptionID(e.SubscriptionID),
		InstanceID:     ports.InstanceID(e.InstanceID),
		EndpointID:     ports.WebhookID(e.EndpointID),
		EventID:        e.EventID,
		EventType:      ports.EventType(e.EventType),
		Payload:        e.Payload,
		Status:         ports.DeliveryStatus(e.Status),
		Attempts:       e.Attempts,
		LastStatusCode: e.LastStatusCode,
		LastError:      e.LastError,
		LastResponse:   e.LastResponse,
		LatencyMS:      e.LatencyMs,
		NextAttemptAt:  utcPtr(e.NextAttemptAt),
		CreatedAt:      e.CreatedAt.UTC(),
		UpdatedAt:      e.UpdatedAt.UTC(),
	}
}

// zeroNil turns the zero time into nil, for optional columns.
func zeroNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// nonNil makes a nil list empty, so that it reads back the same.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
