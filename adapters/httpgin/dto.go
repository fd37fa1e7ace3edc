package httpgin

import (
	"net/url"
	"strings"
	"time"

	"github.com/wagate/wagate/core/keys"
	"github.com/wagate/wagate/core/tenancy"
	"github.com/wagate/wagate/ports"
)

// The response DTOs: the only types with JSON tags. Times are RFC 3339 in
// UTC; absent optional values are null rather than missing, so that clients
// see every field of the documented shape.

// UserDTO is a user.
type UserDTO struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
	Role  string `json:"role"`
	// MemberRole is the role in the subscription (SPEC §17).
	MemberRole string    `json:"memberRole"`
	CreatedAt  time.Time `json:"createdAt"`
}

// SubscriptionDTO is a subscription with its usage.
type SubscriptionDTO struct {
	ID            string    `json:"id"`
	Tier          string    `json:"tier"`
	InstanceLimit int       `json:"instanceLimit"`
	InstancesUsed int       `json:"instancesUsed"`
	CreatedAt     time.Time `json:"createdAt"`
}

// TokensDTO is a token pair.
type TokensDTO struct {
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken"`
	TokenType    string `json:"tokenType"`
	ExpiresIn    int    `json:"expiresIn"` // seconds
}

// InstanceDTO is an instance (SPEC §4).
type InstanceDTO struct {
	ID              string         `json:"id"`
	Name            string         `json:"name"`
	Status          string         `json:"status"`
	StatusReason    *string        `json:"statusReason"`
	PhoneNumber     *string        `json:"phoneNumber"`
	JID             *string        `json:"jid"`
	PushName        *string        `json:"pushName"`
	Metadata        map[string]any `json:"metadata"`
	ProxyURL        *string        `json:"proxyUrl"`
	CreatedAt       time.Time      `json:"createdAt"`
	UpdatedAt       time.Time      `json:"updatedAt"`
	LastConnectedAt *time.Time     `json:"lastConnectedAt"`
	Settings        SettingsDTO    `json:"settings"`
}

// SettingsDTO is the per-instance behaviour (SPEC §16).
type SettingsDTO struct {
	RejectCalls            bool   `json:"rejectCalls"`
	RejectCallMessage      string `json:"rejectCallMessage"`
	AutoRead               bool   `json:"autoRead"`
	AlwaysOnline           bool   `json:"alwaysOnline"`
	IgnoreGroups           bool   `json:"ignoreGroups"`
	IgnoreStatusBroadcasts bool   `json:"ignoreStatusBroadcasts"`
}

// APIKeyDTO is an API key; Key is only set in the create response.
type APIKeyDTO struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Key        string     `json:"key,omitempty"`
	Prefix     string     `json:"prefix"`
	Scopes     []string   `json:"scopes"`
	CreatedAt  time.Time  `json:"createdAt"`
	ExpiresAt  *time.Time `json:"expiresAt"`
	LastUsedAt *time.Time `json:"lastUsedAt"`
}

// AuditDTO is one audit log entry.
type AuditDTO struct {
	ID            string         `json:"id"`
	At            time.Time      `json:"at"`
	Action        string         `json:"action"`
	ActorUserID   *string        `json:"actorUserId"`
	ActorAPIKeyID *string        `json:"actorApiKeyId"`
	TargetType    *string        `json:"targetType"`
	TargetID      *string        `json:"targetId"`
	IP            *string        `json:"ip"`
	UserAgent     *string        `json:"userAgent"`
	Details       map[string]any `json:"details"`
	// Actor names the acting member (SPEC §17); null for API keys,
	// events without a user and members since removed.
	Actor *AuditActorDTO `json:"actor"`
}

// AuditActorDTO is the member behind an audit entry.
type AuditActorDTO struct {
	Email string `json:"email"`
	Name  string `json:"name"`
	Role  string `json:"role"`
}

func userDTO(u ports.User) UserDTO {
	return UserDTO{ID: string(u.ID), Email: u.Email, Name: u.Name, Role: string(u.Role), MemberRole: string(u.MemberRole), CreatedAt: u.CreatedAt.UTC()}
}

func subscriptionDTO(s ports.SubscriptionSummary) SubscriptionDTO {
	return SubscriptionDTO{
		ID: string(s.ID), Tier: string(s.Tier),
		InstanceLimit: s.InstanceLimit, InstancesUsed: s.InstancesUsed,
		CreatedAt: s.CreatedAt.UTC(),
	}
}

func tokensDTO(t tenancy.Tokens) TokensDTO {
	return TokensDTO{
		AccessToken: t.AccessToken, RefreshToken: t.RefreshToken,
		TokenType: "Bearer", ExpiresIn: int(t.ExpiresIn / time.Second),
	}
}

func instanceDTO(i ports.Instance) InstanceDTO {
	md := i.Metadata
	if md == nil {
		md = map[string]any{}
	}
	return InstanceDTO{
		ID: string(i.ID), Name: i.Name, Status: string(i.Status),
		StatusReason: optString(i.StatusReason), PhoneNumber: optString(i.PhoneNumber),
		JID: optString(i.JID), PushName: optString(i.PushName),
		Metadata: md, ProxyURL: optString(redactURL(i.ProxyURL)),
		CreatedAt: i.CreatedAt.UTC(), UpdatedAt: i.UpdatedAt.UTC(),
		LastConnectedAt: optTime(i.LastConnectedAt),
		Settings: SettingsDTO{
			RejectCalls: i.Settings.RejectCalls, RejectCallMessage: i.Settings.RejectCallMessage,
			AutoRead: i.Settings.AutoRead, AlwaysOnline: i.Settings.AlwaysOnline,
			IgnoreGroups: i.Settings.IgnoreGroups, IgnoreStatusBroadcasts: i.Settings.IgnoreStatusBroadcasts,
		},
	}
}

func apiKeyDTO(k ports.APIKey) APIKeyDTO {
	scopes := make([]string, 0, len(k.Scopes))
	for _, s := range k.Scopes {
		scopes = append(scopes, string(s))
	}
	return APIKeyDTO{
		ID: string(k.ID), Name: k.Name, Prefix: k.Prefix, Scopes: scopes,
		CreatedAt: k.CreatedAt.UTC(), ExpiresAt: optTime(k.ExpiresAt), LastUsedAt: optTime(k.LastUsedAt),
	}
}

func createdKeyDTO(k keys.Created) APIKeyDTO {
	d := apiKeyDTO(k.APIKey)
	d.Key = k.Key
	return d
}

func auditDTO(e ports.AuditEntry) AuditDTO {
	details := e.Details
	if details == nil {
		details = map[string]any{}
	}
	return AuditDTO{
		ID: e.ID, At: e.At.UTC(), Action: e.Action,
		ActorUserID: optString(string(e.ActorUserID)), ActorAPIKeyID: optString(string(e.ActorAPIKeyID)),
		TargetType: optString(e.TargetType), TargetID: optString(e.TargetID),
		IP: optString(e.IP), UserAgent: optString(e.UserAgent),
		Details: details, Actor: auditActorDTO(e.Actor),
	}
}

func auditActorDTO(a *ports.AuditActor) *AuditActorDTO {
	if a == nil {
		return nil
	}
	return &AuditActorDTO{Email: a.Email, Name: a.Name, Role: string(a.Role)}
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func optTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// redactURL hides a proxy password: the URL is shown so that users can see
// which proxy is set, but the secret stays with the server.
func redactURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		// Not a URL we can take apart; showing it could show a secret.
		return "****"
	}
	if u.User == nil {
		return raw
	}
	if _, has := u.User.Password(); !has {
		return raw
	}
	// url.UserPassword would escape the mask to %2A%2A%2A%2A; splice the
	// userinfo in by hand instead.
	user := url.User(u.User.Username()).String()
	u.User = nil
	rest, ok := strings.CutPrefix(u.String(), u.Scheme+"://")
	if !ok {
		return "****"
	}
	return u.Scheme + "://" + user + ":****@" + rest
}
