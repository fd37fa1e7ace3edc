package tenancy_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wagate/wagate/core/tenancy"
	"github.com/wagate/wagate/ports"
)

func TestRegisterValidation(t *testing.T) {
	long := strings.Repeat("a", 243) + "@example.com" // 255 characters
	tests := []struct {
		name               string
		email, pass, uname string
		wantFields         []string // nil: success
	}{
		{"valid", "ada@example.com", "12345678", "Ada", nil},
		{"email trimmed and lower-cased", "  Ada@Example.COM ", "12345678", "Ada", nil},
		{"password of 128 characters", "ada@example.com", strings.Repeat("p", 128), "Ada", nil},
		{"password of 8 multibyte characters", "ada@example.com", "éééééééé", "Ada", nil},
		{"empty email", "", "12345678", "Ada", []string{"email"}},
		{"no at sign", "ada.example.com", "12345678", "Ada", []string{"email"}},
		{"no dot in domain", "ada@localhost", "12345678", "Ada", []string{"email"}},
		{"trailing dot in domain", "ada@example.com.", "12345678", "Ada", []string{"email"}},
		{"display name", "Ada <ada@example.com>", "12345678", "Ada", []string{"email"}},
		{"angle brackets", "<ada@example.com>", "12345678", "Ada", []string{"email"}},
		{"two at signs", "ada@@example.com", "12345678", "Ada", []string{"email"}},
		{"space inside", "a da@example.com", "12345678", "Ada", []string{"email"}},
		{"email over 254", long, "12345678", "Ada", []string{"email"}},
		{"short password", "ada@example.com", "1234567", "Ada", []string{"password"}},
		{"7 multibyte characters", "ada@example.com", "ééééééé", "Ada", []string{"password"}},
		{"long password", "ada@example.com", strings.Repeat("p", 129), "Ada", []string{"password"}},
		{"blank name", "ada@example.com", "12345678", "   ", []string{"name"}},
		{"control character in name", "ada@example.com", "12345678", "Ada\x00", []string{"name"}},
		{"long name", "ada@example.com", "12345678", strings.Repeat("n", 201), []string{"name"}},
		{"every field wrong", "nope", "short", "", []string{"email", "password", "name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tenancy.Config{})
			acc, toks, err := e.svc.Register(context.Background(), tenancy.RegisterCmd{Email: tt.email, Password: tt.pass, Name: tt.uname})
			if tt.wantFields != nil {
				wantFields(t, err, tt.wantFields...)
				if n := len(e.store.Audit()); n != 0 {
					t.Fatalf("audit entries after a rejected registration: got %d, want 0", n)
				}
				return
			}
			if err != nil {
				t.Fatalf("register: got %v, want success", err)
			}
			if want := strings.ToLower(strings.TrimSpace(tt.email)); acc.User.Email != want {
				t.Errorf("email: got %q, want %q", acc.User.Email, want)
			}
			if toks.AccessToken == "" || !strings.HasPrefix(toks.RefreshToken, "wrt_") {
				t.Errorf("tokens: got %+v, want an access token and a wrt_ refresh token", toks)
			}
		})
	}
}

func TestRegisterCreatesOwnerAccount(t *testing.T) {
	e := newEnv(t, tenancy.Config{})
	acc, toks := e.register(t, "ada@example.com")

	if acc.User.Role != ports.RoleOwner {
		t.Errorf("role: got %q, want owner", acc.User.Role)
	}
	if acc.User.PasswordHash != "" {
		t.Errorf("password hash leaked out of the module: %q", acc.User.PasswordHash)
	}
	if acc.Subscription.Tier != ports.TierBasic || acc.Subscription.InstanceLimit != 5 || acc.Subscription.InstancesUsed != 0 {
		t.Errorf("subscription: got %+v, want basic with limit 5 and 0 used", acc.Subscription)
	}
	if toks.ExpiresIn != 15*time.Minute {
		t.Errorf("expiresIn: got %v, want 15m", toks.ExpiresIn)
	}
	p := e.principal(t, toks.AccessToken)
	if p.UserID != acc.User.ID || p.SubscriptionID != acc.Subscription.ID || p.Tier != ports.TierBasic {
		t.Errorf("principal: got %+v, want the new user on a basic subscription", p)
	}
	audit := e.store.Audit()
	if len(audit) != 1 || audit[0].Action != "auth.register" || audit[0].SubscriptionID != acc.Subscription.ID ||
		audit[0].ActorUserID != acc.User.ID || audit[0].IP != client.IP || audit[0].UserAgent != client.UserAgent {
		t.Errorf("audit: got %+v, want one auth.register entry with actor and client", audit)
	}
}

func TestRegisterDuplicateEmail(t *testing.T) {
	e := newEnv(t, tenancy.Config{})
	e.register(t, "ada@example.com")
	for _, email := range []string{"ada@example.com", " ADA@example.com"} {
		_, _, err := e.svc.Register(context.Background(), tenancy.RegisterCmd{Email: email, Password: "12345678", Name: "Ada"})
		wantErr(t, err, ports.EConflict, "email_taken")
	}
}

// A race between two registrations passes the look-up of both; the store's
// unique index decides, and its conflict must read email_taken and leave no
// orphan subscription behind.
func TestRegisterStoreConflictIsEmailTaken(t *testing.T) {
	e := newEnv(t, tenancy.Config{})
	e.register(t, "ada@example.com")
	e.store.Hook = func(method string) error {
		if method == "GetUserByEmail" {
			return ports.Errorf(ports.ENotFound, "user not found")
		}
		return nil
	}
	_, _, err := e.svc.Register(context.Background(), tenancy.RegisterCmd{Email: "ada@example.com", Password: "12345678", Name: "Ada"})
	wantErr(t, err, ports.EConflict, "email_taken")
	e.store.Hook = nil

	subs, err := e.store.Stores().Subscriptions.ListSubscriptions(context.Background(), ports.PageRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(subs.Items) != 1 {
		t.Fatalf("subscriptions after the failed registration: got %d, want 1", len(subs.Items))
	}
}

func TestRegisterStoreFailureIsReturned(t *testing.T) {
	e := newEnv(t, tenancy.Config{})
	boom := errors.New("disk on fire")
	e.store.Hook = func(method string) error {
		if method == "AppendAudit" {
			return boom
		}
		return nil
	}
	_, _, err := e.svc.Register(context.Background(), tenancy.RegisterCmd{Email: "ada@example.com", Password: "12345678", Name: "Ada"})
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want the store's error", err)
	}
	e.store.Hook = nil
	// The transaction rolled back: the email is free again.
	e.register(t, "ada@example.com")
}

func TestCreateUser(t *testing.T) {
	tests := []struct {
		name     string
		admin    bool
		wantRole ports.Role
	}{
		{"owner", false, ports.RoleOwner},
		{"admin", true, ports.RoleAdmin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tenancy.Config{})
			u, err := e.svc.CreateUser(context.Background(), tenancy.CreateUserCmd{
				Email: "Op@Example.com", Password: "12345678", Name: "Op", Admin: tt.admin,
			})
			if err != nil {
				t.Fatalf("create user: %v", err)
			}
			if u.Role != tt.wantRole || u.Email != "op@example.com" || u.SubscriptionID == "" {
				t.Errorf("user: got %+v, want role %s, lower-cased email and a subscription", u, tt.wantRole)
			}
			if got := e.store.AuditActions(); len(got) != 1 || got[0] != "user.created" {
				t.Errorf("audit: got %v, want [user.created]", got)
			}
			_, err = e.svc.CreateUser(context.Background(), tenancy.CreateUserCmd{Email: "op@example.com", Password: "12345678", Name: "Op"})
			wantErr(t, err, ports.EConflict, "email_taken")
			_, err = e.svc.CreateUser(context.Background(), tenancy.CreateUserCmd{Email: "x@example.com", Password: "short", Name: "Op"})
			wantFields(t, err, "password")
		})
	}
}
