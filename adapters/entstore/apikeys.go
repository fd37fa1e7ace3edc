package entstore

import (
	"context"
	"time"

	"github.com/wagate/wagate/ent"
	"github.com/wagate/wagate/ent/apikey"
	"github.com/wagate/wagate/ports"
)

type apiKeyStore struct{ s *conn }

var _ ports.APIKeyStore = (*apiKeyStore)(nil)

func (st *apiKeyStore) CreateAPIKey(ctx context.Context, k ports.APIKey) error {
	err := st.s.client.APIKey.Create().
		SetID(string(k.ID)).
		SetSubscriptionID(string(k.SubscriptionID)).
		SetInstanceID(string(k.InstanceID)).
		SetName(k.Name).
		SetPrefix(k.Prefix).
		SetHash(k.Hash).
		SetScopes(fromScopes(k.Scopes)).
		SetCreatedAt(dbTime(k.CreatedAt)).
		SetNillableExpiresAt(dbTimePtr(k.ExpiresAt)).
		SetNillableLastUsedAt(dbTimePtr(k.LastUsedAt)).
		Exec(ctx)
	return dbError("create api key", "api key", err)
}

func (st *apiKeyStore) ListAPIKeys(ctx context.Context, sub ports.SubscriptionID, inst ports.InstanceID, page ports.PageRequest) (ports.Page[ports.APIKey], error) {
	after, err := decodeCursor(page.After)
	if err != nil {
		return ports.Page[ports.APIKey]{}, err
	}
	limit := pageLimit(page)
	q := st.s.client.APIKey.Query().
		Where(apikey.SubscriptionID(string(sub)), apikey.InstanceID(string(inst))).
		Order(ent.Asc(apikey.FieldID)).
		Limit(limit + 1)
	if after != "" {
		q = q.Where(apikey.IDGT(after))
	}
	rows, err := q.All(ctx)
	if err != nil {
		return ports.Page[ports.APIKey]{}, dbError("list api keys", "api key", err)
	}
	return makePage(rows, limit, toAPIKey, func(e *ent.APIKey) string { return e.ID }), nil
}

func (st *apiKeyStore) DeleteAPIKey(ctx context.Context, sub ports.SubscriptionID, inst ports.InstanceID, id ports.APIKeyID) error {
	n, err := st.s.client.APIKey.Delete().
		Where(apikey.ID(string(id)), apikey.SubscriptionID(string(sub)), apikey.InstanceID(string(inst))).
		Exec(ctx)
	if err != nil {
		return dbError("delete api key", "api key", err)
	}
	if n == 0 {
		return ports.Errorf(ports.ENotFound, "api key not found")
	}
	return nil
}

func (st *apiKeyStore) GetAPIKeyByHash(ctx context.Context, hash []byte) (ports.APIKey, error) {
	e, err := st.s.client.APIKey.Query().Where(apikey.Hash(hash)).Only(ctx)
	if err != nil {
		return ports.APIKey{}, dbError("get api key", "api key", err)
	}
	return toAPIKey(e), nil
}

func (st *apiKeyStore) TouchAPIKey(ctx context.Context, id ports.APIKeyID, at time.Time) error {
	_, err := st.s.client.APIKey.Update().
		Where(apikey.ID(string(id))).
		SetLastUsedAt(dbTime(at)).
		Save(ctx)
	return dbError("touch api key", "api key", err)
}
