package tenancy_test

import (
	"context"
	"slices"
	"testing"

	"github.com/wagate/wagate/core/tenancy"
	"github.com/wagate/wagate/ports"
)

func TestAdminRoutesRejectOthers(t *testing.T) {
	e := newEnv(t, tenancy.Config{})
	acc, toks := e.register(t, "ada@example.com")
	owner := e.principal(t, toks.AccessToken)
	ctx := context.Background()
	for name, p := range map[string]ports.Principal{
		"owner":   owner,
		"api key": apiKeyPrincipal(acc.Subscription.ID),
		"nobody":  {},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := e.svc.ListSubscriptions(ctx, p, ports.PageRequest{})
			wantErr(t, err, ports.EForbidden, "forbidden")
			_, err = e.svc.ChangeTier(ctx, p, acc.Subscription.ID, ports.TierPro)
			wantErr(t, err, ports.EForbidden, "forbidden")
		})
	}
	if p := e.principal(t, toks.AccessToken); p.Tier != ports.TierBasic {
		t.Errorf("tier after rejected changes: got %q, want basic", p.Tier)
	}
}

func TestListSubscriptions(t *testing.T) {
	e := newEnv(t, tenancy.Config{})
	acc, _ := e.register(t, "ada@example.com")
	admin := e.admin(t)
	ctx := context.Background()
	now := e.clock.Now()
	for _, name := range []string{"one", "two"} {
		err := e.store.Stores().Instances.CreateInstance(ctx, acc.Subscription.ID, ports.Instance{
			ID: ports.InstanceID("inst-" + name), Name: name, CreatedAt: now,
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	page, err := e.svc.ListSubscriptions(ctx, admin, ports.PageRequest{Limit: 1})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if len(page.Items) != 1 || page.Next == "" {
		t.Fatalf("first page: got %d items and next %q, want 1 and a cursor", len(page.Items), page.Next)
	}
	got := page.Items[0]
	if got.ID != acc.Subscription.ID || got.InstanceLimit != 5 || got.InstancesUsed != 2 {
		t.Errorf("summary: got %+v, want %s with limit 5 and 2 used", got, acc.Subscription.ID)
	}
	page, err = e.svc.ListSubscriptions(ctx, admin, ports.PageRequest{Limit: 1, After: page.Next})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 || page.Items[0].ID != admin.SubscriptionID || page.Next != "" {
		t.Errorf("second page: got %+v, want the admin's subscription and no cursor", page)
	}
}

func TestChangeTier(t *testing.T) {
	tests := []struct {
		name      string
		sub       func(own ports.SubscriptionID) ports.SubscriptionID
		tier      ports.Tier
		wantCode  ports.ErrorCode
		wantLimit int
	}{
		{"to pro", func(s ports.SubscriptionID) ports.SubscriptionID { return s }, ports.TierPro, "", 20},
		{"to max", func(s ports.SubscriptionID) ports.SubscriptionID { return s }, ports.TierMax, "", 40},
		{"same tier", func(s ports.SubscriptionID) ports.SubscriptionID { return s }, ports.TierBasic, "", 5},
		{"unknown tier", func(s ports.SubscriptionID) ports.SubscriptionID { return s }, "gold", ports.EInvalid, 0},
		{"empty tier", func(s ports.SubscriptionID) ports.SubscriptionID { return s }, "", ports.EInvalid, 0},
		{"unknown subscription", func(ports.SubscriptionID) ports.SubscriptionID { return "nope" }, ports.TierPro, ports.ENotFound, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tenancy.Config{})
			acc, _ := e.register(t, "ada@example.com")
			admin := e.admin(t)
			sum, err := e.svc.ChangeTier(context.Background(), admin, tt.sub(acc.Subscription.ID), tt.tier)
			switch tt.wantCode {
			case "":
			case ports.EInvalid:
				wantFields(t, err, "tier")
				return
			default:
				wantErr(t, err, tt.wantCode, "")
				return
			}
			if err != nil {
				t.Fatalf("change tier: %v", err)
			}
			if sum.Tier != tt.tier || sum.InstanceLimit != tt.wantLimit {
				t.Errorf("summary: got %+v, want tier %s with limit %d", sum, tt.tier, tt.wantLimit)
			}
			audit := e.store.Audit()
			last := audit[len(audit)-1]
			if last.Action != "subscription.tier_changed" || last.SubscriptionID != acc.Subscription.ID ||
				last.ActorUserID != admin.UserID || last.Details["from"] != "basic" || last.Details["to"] != string(tt.tier) {
				t.Errorf("audit: got %+v, want subscription.tier_changed basic→%s by the admin", last, tt.tier)
			}
		})
	}
}

func TestMe(t *testing.T) {
	e := newEnv(t, tenancy.Config{})
	acc, toks := e.register(t, "ada@example.com")
	ctx := context.Background()
	got, err := e.svc.Me(ctx, e.principal(t, toks.AccessToken))
	if err != nil {
		t.Fatalf("me: %v", err)
	}
	if got.User.ID != acc.User.ID || got.User.PasswordHash != "" || got.Subscription.ID != acc.Subscription.ID || got.Subscription.InstanceLimit != 5 {
		t.Errorf("account: got %+v, want the user without hash and their subscription", got)
	}
	_, err = e.svc.Me(ctx, apiKeyPrincipal(acc.Subscription.ID))
	wantErr(t, err, ports.EForbidden, "forbidden")

	inst := ports.Instance{ID: "inst-1", SubscriptionID: acc.Subscription.ID, Name: "main", Status: ports.StatusCreated}
	if err := e.store.Stores().Instances.CreateInstance(ctx, acc.Subscription.ID, inst); err != nil {
		t.Fatal(err)
	}
	got, err = e.svc.Me(ctx, e.principal(t, toks.AccessToken))
	if err != nil {
		t.Fatalf("me: %v", err)
	}
	if got.Subscription.InstancesUsed != 1 {
		t.Errorf("instances used: got %d, want 1", got.Subscription.InstancesUsed)
	}
}

// The reads behind every authenticated request are one store call each:
// each call is a database round trip.
func TestHotPathsReadOnce(t *testing.T) {
	e := newEnv(t, tenancy.Config{})
	_, toks := e.register(t, "ada@example.com")
	ctx := context.Background()
	var calls []string
	e.store.Hook = func(m string) error {
		calls = append(calls, m)
		return nil
	}
	p, err := e.svc.AuthenticateAccess(ctx, toks.AccessToken)
	if err != nil {
		t.Fatalf("authenticate: %v", err)
	}
	if !slices.Equal(calls, []string{"GetUserAccess"}) {
		t.Errorf("authenticate store calls: got %v, want [GetUserAccess]", calls)
	}
	calls = nil
	if _, err := e.svc.Me(ctx, p); err != nil {
		t.Fatalf("me: %v", err)
	}
	if !slices.Equal(calls, []string{"GetUserAccount"}) {
		t.Errorf("me store calls: got %v, want [GetUserAccount]", calls)
	}
}

func TestListAudit(t *testing.T) {
	e := newEnv(t, tenancy.Config{})
	acc, toks := e.register(t, "ada@example.com")
	e.register(t, "bob@example.com")
	ctx := context.Background()
	e.clock.Advance(1)
	if _, _, err := e.svc.Login(ctx, tenancy.LoginCmd{Email: "ada@example.com", Password: "correct horse"}); err != nil {
		t.Fatal(err)
	}
	page, err := e.svc.ListAudit(ctx, e.principal(t, toks.AccessToken), ports.PageRequest{})
	if err != nil {
		t.Fatalf("list audit: %v", err)
	}
	if got := actions(page.Items); len(got) != 2 || got[0] != "auth.login" || got[1] != "auth.register" {
		t.Errorf("actions: got %v, want [auth.login auth.register] (newest first, own only)", got)
	}
	_, err = e.svc.ListAudit(ctx, apiKeyPrincipal(acc.Subscription.ID), ports.PageRequest{})
	wantErr(t, err, ports.EForbidden, "forbidden")
}
