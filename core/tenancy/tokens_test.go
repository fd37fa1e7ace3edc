package tenancy_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/wagate/wagate/core/tenancy"
	"github.com/wagate/wagate/ports"
)

func TestRefreshRotates(t *testing.T) {
	e := newEnv(t, tenancy.Config{})
	acc, first := e.register(t, "ada@example.com")
	ctx := context.Background()

	second, err := e.svc.Refresh(ctx, first.RefreshToken, client)
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken {
		t.Fatalf("refresh returned the same tokens")
	}
	p := e.principal(t, second.AccessToken)
	if p.UserID != acc.User.ID || p.TokenFamily != e.principal(t, first.AccessToken).TokenFamily {
		t.Errorf("principal: got %+v, want the same user and family", p)
	}
	if _, err := e.svc.Refresh(ctx, second.RefreshToken, client); err != nil {
		t.Fatalf("refresh with the rotated token: %v", err)
	}
}

// Reusing a spent token revokes the family: the newest token, which the
// thief or the victim may hold, stops working too.
func TestRefreshReuseRevokesFamily(t *testing.T) {
	e := newEnv(t, tenancy.Config{})
	acc, first := e.register(t, "ada@example.com")
	ctx := context.Background()
	second, err := e.svc.Refresh(ctx, first.RefreshToken, client)
	if err != nil {
		t.Fatal(err)
	}
	// Another login is another family and survives.
	_, other, err := e.svc.Login(ctx, tenancy.LoginCmd{Email: "ada@example.com", Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}

	_, err = e.svc.Refresh(ctx, first.RefreshToken, client)
	wantErr(t, err, ports.EUnauthorized, "token_revoked")
	_, err = e.svc.Refresh(ctx, second.RefreshToken, client)
	wantErr(t, err, ports.EUnauthorized, "token_revoked")
	if _, err := e.svc.Refresh(ctx, other.RefreshToken, client); err != nil {
		t.Errorf("other family: got %v, want success", err)
	}
	// The family's access tokens, old and new, are refused at once rather
	// than living out their 15 minutes; another family's are not.
	for name, access := range map[string]string{"first": first.AccessToken, "second": second.AccessToken} {
		if _, err := e.svc.AuthenticateAccess(ctx, access); err == nil || ports.AsError(err).Reason != "token_revoked" {
			t.Errorf("%s access token of the reused family: got %v, want token_revoked", name, err)
		}
	}
	e.principal(t, other.AccessToken)

	var reused *ports.AuditEntry
	for _, a := range e.store.Audit() {
		if a.Action == "auth.refresh_reused" {
			reused = &a
		}
	}
	if reused == nil || reused.SubscriptionID != acc.Subscription.ID || reused.ActorUserID != acc.User.ID || reused.IP != client.IP {
		t.Errorf("audit: got %+v, want an auth.refresh_reused entry for the user", reused)
	}
}

func TestRefreshRejects(t *testing.T) {
	tests := []struct {
		name       string
		token      func(valid string) string
		advance    time.Duration
		wantReason string
	}{
		{"garbage", func(string) string { return "not-a-token" }, 0, "unauthorized"},
		{"wrong prefix", func(v string) string { return "xxx_" + v[4:] }, 0, "unauthorized"},
		{"unknown", func(v string) string { return v[:len(v)-4] + "AAAA" }, 0, "unauthorized"},
		{"an access token", func(string) string { return "fake-access-1-id-000004" }, 0, "unauthorized"},
		{"expired", func(v string) string { return v }, 30*24*time.Hour + time.Second, "token_expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tenancy.Config{})
			_, toks := e.register(t, "ada@example.com")
			e.clock.Advance(tt.advance)
			_, err := e.svc.Refresh(context.Background(), tt.token(toks.RefreshToken), client)
			wantErr(t, err, ports.EUnauthorized, tt.wantReason)
		})
	}
}

func TestRefreshIssuesCurrentRole(t *testing.T) {
	e := newEnv(t, tenancy.Config{})
	acc, toks := e.register(t, "ada@example.com")
	ctx := context.Background()
	_, err := e.store.Stores().Users.UpdateUser(ctx, acc.User.ID, func(u *ports.User) error {
		u.Role = ports.RoleAdmin
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	next, err := e.svc.Refresh(ctx, toks.RefreshToken, client)
	if err != nil {
		t.Fatal(err)
	}
	if p := e.principal(t, next.AccessToken); p.Role != ports.RoleAdmin {
		t.Errorf("role: got %q, want admin", p.Role)
	}
}

func TestLogout(t *testing.T) {
	e := newEnv(t, tenancy.Config{})
	_, toks := e.register(t, "ada@example.com")
	ctx := context.Background()
	// A second session of the same user, named in the logout body.
	_, second, err := e.svc.Login(ctx, tenancy.LoginCmd{Email: "ada@example.com", Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	// A third session, not named: it stays.
	_, third, err := e.svc.Login(ctx, tenancy.LoginCmd{Email: "ada@example.com", Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	// Another user's token named in the body is ignored.
	_, foreign := e.register(t, "bob@example.com")

	p := e.principal(t, toks.AccessToken)
	if err := e.svc.Logout(ctx, p, second.RefreshToken); err != nil {
		t.Fatalf("logout: %v", err)
	}
	if err := e.svc.Logout(ctx, p, foreign.RefreshToken); err != nil {
		t.Fatalf("logout naming a foreign token: got %v, want success", err)
	}
	if err := e.svc.Logout(ctx, p, "wrt_unknown"); err != nil {
		t.Fatalf("logout naming garbage: got %v, want success", err)
	}

	_, err = e.svc.AuthenticateAccess(ctx, toks.AccessToken)
	wantErr(t, err, ports.EUnauthorized, "token_revoked")
	_, err = e.svc.Refresh(ctx, toks.RefreshToken, client)
	wantErr(t, err, ports.EUnauthorized, "token_revoked")
	_, err = e.svc.Refresh(ctx, second.RefreshToken, client)
	wantErr(t, err, ports.EUnauthorized, "token_revoked")
	if _, err := e.svc.Refresh(ctx, third.RefreshToken, client); err != nil {
		t.Errorf("unnamed session: got %v, want success", err)
	}
	if _, err := e.svc.Refresh(ctx, foreign.RefreshToken, client); err != nil {
		t.Errorf("foreign session: got %v, want success", err)
	}
	if got := e.store.AuditActions(); got[len(got)-1] != "auth.logout" {
		t.Errorf("last audit action: got %v, want auth.logout", got)
	}
}

func TestLogoutNeedsUser(t *testing.T) {
	e := newEnv(t, tenancy.Config{})
	acc, _ := e.register(t, "ada@example.com")
	err := e.svc.Logout(context.Background(), apiKeyPrincipal(acc.Subscription.ID), "")
	wantErr(t, err, ports.EForbidden, "forbidden")
}

func TestChangePassword(t *testing.T) {
	tests := []struct {
		name              string
		current, next     string
		wantCode          ports.ErrorCode
		wantReasonOrField string
	}{
		{"success", "correct horse", "battery staple", "", ""},
		{"wrong current", "wrong horse", "battery staple", ports.EUnauthorized, "invalid_credentials"},
		{"short new", "correct horse", "short", ports.EInvalid, "newPassword"},
		{"long new", "correct horse", strings.Repeat("x", 129), ports.EInvalid, "newPassword"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tenancy.Config{})
			_, toks := e.register(t, "ada@example.com")
			ctx := context.Background()
			p := e.principal(t, toks.AccessToken)
			err := e.svc.ChangePassword(ctx, p, tt.current, tt.next)
			switch tt.wantCode {
			case "":
				if err != nil {
					t.Fatalf("change password: %v", err)
				}
			case ports.EInvalid:
				wantFields(t, err, tt.wantReasonOrField)
				return
			default:
				wantErr(t, err, tt.wantCode, tt.wantReasonOrField)
				return
			}
			_, err = e.svc.AuthenticateAccess(ctx, toks.AccessToken)
			wantErr(t, err, ports.EUnauthorized, "token_revoked")
			_, err = e.svc.Refresh(ctx, toks.RefreshToken, client)
			wantErr(t, err, ports.EUnauthorized, "token_revoked")
			_, _, err = e.svc.Login(ctx, tenancy.LoginCmd{Email: "ada@example.com", Password: tt.current})
			wantErr(t, err, ports.EUnauthorized, "invalid_credentials")
			_, fresh, err := e.svc.Login(ctx, tenancy.LoginCmd{Email: "ada@example.com", Password: tt.next})
			if err != nil {
				t.Fatalf("login with the new password: %v", err)
			}
			e.principal(t, fresh.AccessToken)
			if got := e.store.AuditActions(); !strings.Contains(strings.Join(got, " "), "auth.password_changed") {
				t.Errorf("audit: got %v, want auth.password_changed", got)
			}
		})
	}
}

func TestChangePasswordNeedsUser(t *testing.T) {
	e := newEnv(t, tenancy.Config{})
	acc, _ := e.register(t, "ada@example.com")
	err := e.svc.ChangePassword(context.Background(), apiKeyPrincipal(acc.Subscription.ID), "correct horse", "battery staple")
	wantErr(t, err, ports.EForbidden, "forbidden")
}

func TestAuthenticateAccess(t *testing.T) {
	tests := []struct {
		name       string
		token      func(valid string) string
		advance    time.Duration
		wantReason string
	}{
		{"valid", func(v string) string { return v }, 0, ""},
		{"garbage", func(string) string { return "garbage" }, 0, "unauthorized"},
		{"expired", func(v string) string { return v }, 15 * time.Minute, "token_expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tenancy.Config{})
			acc, toks := e.register(t, "ada@example.com")
			e.clock.Advance(tt.advance)
			p, err := e.svc.AuthenticateAccess(context.Background(), tt.token(toks.AccessToken))
			if tt.wantReason != "" {
				wantErr(t, err, ports.EUnauthorized, tt.wantReason)
				return
			}
			if err != nil {
				t.Fatalf("authenticate: %v", err)
			}
			want := ports.Principal{
				Kind: ports.PrincipalUser, SubscriptionID: acc.Subscription.ID, Tier: ports.TierBasic,
				UserID: acc.User.ID, Role: ports.RoleOwner,
				TokenID: p.TokenID, TokenExpiresAt: e.clock.Now().Add(15 * time.Minute), TokenFamily: p.TokenFamily,
			}
			if p.Kind != want.Kind || p.SubscriptionID != want.SubscriptionID || p.Tier != want.Tier || p.UserID != want.UserID ||
				p.Role != want.Role || !p.TokenExpiresAt.Equal(want.TokenExpiresAt) || p.TokenID == "" || p.TokenFamily == "" {
				t.Errorf("principal: got %+v, want %+v", p, want)
			}
		})
	}
}

func TestAuthenticateAccessSeesTierChange(t *testing.T) {
	e := newEnv(t, tenancy.Config{})
	acc, toks := e.register(t, "ada@example.com")
	admin := e.admin(t)
	if _, err := e.svc.ChangeTier(context.Background(), admin, acc.Subscription.ID, ports.TierPro); err != nil {
		t.Fatal(err)
	}
	if p := e.principal(t, toks.AccessToken); p.Tier != ports.TierPro {
		t.Errorf("tier: got %q, want pro", p.Tier)
	}
}

func TestCheckAPIRate(t *testing.T) {
	tiers := ports.TierTable{
		ports.TierBasic: {Instances: 1, RequestsPerMinute: 3},
		ports.TierPro:   {Instances: 2, RequestsPerMinute: 5},
	}
	tests := []struct {
		tier    ports.Tier
		allowed int
	}{
		{ports.TierBasic, 3},
		{ports.TierPro, 5},
		{"retired", 3}, // a tier gone from the table gets the basic rate
	}
	for _, tt := range tests {
		t.Run(string(tt.tier), func(t *testing.T) {
			e := newEnv(t, tenancy.Config{Tiers: tiers})
			ctx := context.Background()
			p := ports.Principal{Kind: ports.PrincipalUser, SubscriptionID: "sub-1", Tier: tt.tier}
			for i := range tt.allowed {
				res, err := e.svc.CheckAPIRate(ctx, p)
				if err != nil {
					t.Fatalf("request %d: %v", i+1, err)
				}
				if res.Limit != tt.allowed || res.Remaining != tt.allowed-i-1 {
					t.Errorf("request %d: got limit %d remaining %d, want %d and %d", i+1, res.Limit, res.Remaining, tt.allowed, tt.allowed-i-1)
				}
			}
			res, err := e.svc.CheckAPIRate(ctx, p)
			wantErr(t, err, ports.ERateLimited, "rate_limited")
			if !res.Reached || res.Remaining != 0 {
				t.Errorf("state over the limit: got %+v, want reached with 0 remaining", res)
			}
			if ra := ports.AsError(err).RetryAfter; ra < time.Second || ra > time.Minute {
				t.Errorf("retry after: got %v, want between 1s and 1m", ra)
			}
			// Another subscription has its own counter.
			if _, err := e.svc.CheckAPIRate(ctx, ports.Principal{SubscriptionID: "sub-2", Tier: tt.tier}); err != nil {
				t.Errorf("other subscription: got %v, want success", err)
			}
			e.clock.Advance(time.Minute)
			if _, err := e.svc.CheckAPIRate(ctx, p); err != nil {
				t.Errorf("next window: got %v, want success", err)
			}
		})
	}
}

func TestRefreshWithoutTokenIsInvalid(t *testing.T) {
	e := newEnv(t, tenancy.Config{})
	_, err := e.svc.Refresh(t.Context(), "", tenancy.Client{})
	pe := ports.AsError(err)
	if pe == nil || pe.Code != ports.EInvalid || len(pe.Fields) != 1 || pe.Fields[0].Field != "refreshToken" {
		t.Fatalf("got %v, want EInvalid on field refreshToken", err)
	}
}
