package entstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"entgo.io/ent/dialect"

	"github.com/wagate/wagate/ports"
)

// accessStore answers the reads of every authenticated request with one
// hand-written query each, joining what ent's builders would fetch in
// several round trips. The SQL is plain enough for both dialects; only the
// placeholders differ (see rebind).
type accessStore struct {
	s       *conn
	queries accessQueries
}

var _ ports.AccessStore = (*accessStore)(nil)

// accessQueries is the SQL of accessStore in the store's dialect.
type accessQueries struct {
	userAccess, userAccount, apiKeyAccess string
}

// The user columns leave out password_hash: nothing on these paths needs it.
const (
	userColumns = `u.id, u.subscription_id, u.email, u.name, u.role, u.member_role, u.token_version, u.created_at, u.updated_at`
	subColumns  = `s.tier, s.created_at, s.updated_at`
	keyColumns  = `k.id, k.subscription_id, k.instance_id, k.name, k.prefix, k.hash, k.scopes, k.created_at, k.expires_at, k.last_used_at`

	userAccessSQL = `SELECT ` + userColumns + `, ` + subColumns + `,
		EXISTS (SELECT 1 FROM denied_tokens d WHERE d.id IN (?, ?))
		FROM users u JOIN subscriptions s ON s.id = u.subscription_id
		WHERE u.id = ?`
	userAccountSQL = `SELECT ` + userColumns + `, ` + subColumns + `,
		(SELECT COUNT(*) FROM instances i WHERE i.subscription_id = s.id)
		FROM users u JOIN subscriptions s ON s.id = u.subscription_id
		WHERE u.id = ? AND u.subscription_id = ?`
	apiKeyAccessSQL = `SELECT ` + keyColumns + `, ` + subColumns + `
		FROM api_keys k JOIN subscriptions s ON s.id = k.subscription_id
		WHERE k.hash = ?`
)

func newAccessStore(s *conn) *accessStore {
	return &accessStore{s: s, queries: accessQueries{
		userAccess:   rebind(s.dialect, userAccessSQL),
		userAccount:  rebind(s.dialect, userAccountSQL),
		apiKeyAccess: rebind(s.dialect, apiKeyAccessSQL),
	}}
}

// rebind turns the ? placeholders into PostgreSQL's $1, $2, …; the queries
// hold no string literals, so every ? is a placeholder.
func rebind(dia, q string) string {
	if dia != dialect.Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (st *accessStore) GetUserAccess(ctx context.Context, id ports.UserID, jti, family string) (ports.UserAccess, error) {
	var a ports.UserAccess
	err := st.s.queryRow(ctx, st.queries.userAccess, []any{jti, family, string(id)}, func(sc scanner) error {
		return scanUserAndSub(sc, &a.User, &a.Subscription, &a.Denied)
	})
	return a, accessError("get user access", "user", err)
}

func (st *accessStore) GetUserAccount(ctx context.Context, sub ports.SubscriptionID, id ports.UserID) (ports.UserAccount, error) {
	var a ports.UserAccount
	err := st.s.queryRow(ctx, st.queries.userAccount, []any{string(id), string(sub)}, func(sc scanner) error {
		return scanUserAndSub(sc, &a.User, &a.Subscription, &a.Instances)
	})
	return a, accessError("get user account", "user", err)
}

func (st *accessStore) GetAPIKeyAccess(ctx context.Context, hash []byte) (ports.APIKeyAccess, error) {
	var (
		a                    ports.APIKeyAccess
		scopes               []byte
		created              time.Time
		expires, used        sql.NullTime
		tier                 string
		subCreated, subUpdtd time.Time
	)
	err := st.s.queryRow(ctx, st.queries.apiKeyAccess, []any{hash}, func(sc scanner) error {
		k := &a.Key
		return sc.Scan(&k.ID, &k.SubscriptionID, &k.InstanceID, &k.Name, &k.Prefix, &k.Hash, &scopes,
			&created, &expires, &used, &tier, &subCreated, &subUpdtd)
	})
	if err != nil {
		return ports.APIKeyAccess{}, accessError("get api key access", "api key", err)
	}
	var names []string
	if err := json.Unmarshal(scopes, &names); err != nil {
		return ports.APIKeyAccess{}, fmt.Errorf("get api key access: scopes: %w", err)
	}
	a.Key.Scopes = make([]ports.Scope, len(names))
	for i, n := range names {
		a.Key.Scopes[i] = ports.Scope(n)
	}
	a.Key.CreatedAt = created.UTC()
	a.Key.ExpiresAt = nullTime(expires)
	a.Key.LastUsedAt = nullTime(used)
	a.Subscription = ports.Subscription{
		ID: a.Key.SubscriptionID, Tier: ports.Tier(tier), CreatedAt: subCreated.UTC(), UpdatedAt: subUpdtd.UTC(),
	}
	return a, nil
}

// scanUserAndSub scans the user and subscription columns of a row and then
// extra, the query's last column.
func scanUserAndSub(sc scanner, u *ports.User, sub *ports.Subscription, extra any) error {
	var tier string
	err := sc.Scan(&u.ID, &u.SubscriptionID, &u.Email, &u.Name, &u.Role, &u.MemberRole, &u.TokenVersion, &u.CreatedAt, &u.UpdatedAt,
		&tier, &sub.CreatedAt, &sub.UpdatedAt, extra)
	if err != nil {
		return err
	}
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	*sub = ports.Subscription{ID: u.SubscriptionID, Tier: ports.Tier(tier), CreatedAt: sub.CreatedAt.UTC(), UpdatedAt: sub.UpdatedAt.UTC()}
	return nil
}

func nullTime(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	v := t.Time.UTC()
	return &v
}

// accessError is dbError for hand-written queries, whose missing row is
// sql.ErrNoRows rather than ent's not-found error.
func accessError(op, what string, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ports.Errorf(ports.ENotFound, "%s not found", what)
	}
	return dbError(op, what, err)
}
