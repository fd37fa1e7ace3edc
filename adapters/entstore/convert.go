package entstore

import (
	"time"

	"github.com/wagate/wagate/ent"
	"github.com/wagate/wagate/ports"
)

// Times are stored in UTC at microsecond precision (PostgreSQL's), so that
// a value reads back the same from either database.
func dbTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func dbTimePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := dbTime(*t)
	return &v
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := t.UTC()
	return &v
}

func toSubscription(e *ent.Subscription) ports.Subscription {
	return ports.Subscription{
		ID:        ports.SubscriptionID(e.ID),
		Tier:      ports.Tier(e.Tier),
		CreatedAt: e.CreatedAt.UTC(),
		UpdatedAt: e.UpdatedAt.UTC(),
	}
}

func toUser(e *ent.User) ports.User {
	return ports.User{
		ID:             ports.UserID(e.ID),
		SubscriptionID: ports.SubscriptionID(e.SubscriptionID),
		Email:          e.Email,
		Name:           e.Name,
		PasswordHash:   e.PasswordHash,
		Role:           ports.Role(e.Role),
		MemberRole:     ports.MemberRole(e.MemberRole),
		TokenVersion:   e.TokenVersion,
		CreatedAt:      e.CreatedAt.UTC(),
		UpdatedAt:      e.UpdatedAt.UTC(),
	}
}

func toRefreshToken(e *ent.RefreshToken) ports.RefreshToken {
	return ports.RefreshToken{
		ID:             e.ID,
		UserID:         ports.UserID(e.UserID),
		SubscriptionID: ports.SubscriptionID(e.SubscriptionID),
		FamilyID:       e.FamilyID,
		Hash:           e.Hash,
		CreatedAt:      e.CreatedAt.UTC(),
		ExpiresAt:      e.ExpiresAt.UTC(),
		UsedAt:         utcPtr(e.UsedAt),
		RevokedAt:      utcPtr(e.RevokedAt),
	}
}

func toInstance(e *ent.Instance) ports.Instance {
	return ports.Instance{
		ID:              ports.InstanceID(e.ID),
		SubscriptionID:  ports.SubscriptionID(e.SubscriptionID),
		Name:            e.Name,
		Status:          ports.InstanceStatus(e.Status),
		StatusReason:    e.StatusReason,
		PhoneNumber:     e.PhoneNumber,
		JID:             e.Jid,
		PushName:        e.PushName,
		Metadata:        e.Metadata,
		ProxyURL:        e.ProxyURL,
		CreatedAt:       e.CreatedAt.UTC(),
		UpdatedAt:       e.UpdatedAt.UTC(),
		LastConnectedAt: utcPtr(e.LastConnectedAt),
		Settings:        toSettings(e.Settings),
	}
}

func toAPIKey(e *ent.APIKey) ports.APIKey {
	scopes := make([]ports.Scope, len(e.Scopes))
	for i, s := range e.Scopes {
		scopes[i] = ports.Scope(s)
	}
	return ports.APIKey{
		ID:             ports.APIKeyID(e.ID),
		SubscriptionID: ports.SubscriptionID(e.SubscriptionID),
		InstanceID:     ports.InstanceID(e.InstanceID),
		Name:           e.Name,
		Prefix:         e.Prefix,
		Hash:           e.Hash,
		Scopes:         scopes,
		CreatedAt:      e.CreatedAt.UTC(),
		ExpiresAt:      utcPtr(e.ExpiresAt),
		LastUsedAt:     utcPtr(e.LastUsedAt),
	}
}

func fromScopes(scopes []ports.Scope) []string {
	out := make([]string, len(scopes))
	for i, s := range scopes {
		out[i] = string(s)
	}
	return out
}

func toAuditEntry(e *ent.AuditLog) ports.AuditEntry {
	return ports.AuditEntry{
		ID:             e.ID,
		SubscriptionID: ports.SubscriptionID(e.SubscriptionID),
		At:             e.At.UTC(),
		Action:         e.Action,
		ActorUserID:    ports.UserID(e.ActorUserID),
		ActorAPIKeyID:  ports.APIKeyID(e.ActorAPIKeyID),
		TargetType:     e.TargetType,
		TargetID:       e.TargetID,
		IP:             e.IP,
		UserAgent:      e.UserAgent,
		Details:        e.Details,
	}
}
