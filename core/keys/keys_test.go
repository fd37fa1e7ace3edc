package keys_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wagate/wagate/core/coretest"
	"github.com/wagate/wagate/core/keys"
	"github.com/wagate/wagate/ports"
)

type env struct {
	svc   *keys.Service
	store *coretest.Store
	clock *coretest.Clock
	ids   *coretest.IDs
	owner ports.Principal
	inst  ports.InstanceID
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{store: coretest.NewStore(), clock: coretest.NewClock(), ids: &coretest.IDs{}}
	e.svc = keys.New(keys.Deps{Tx: e.store, Stores: e.store.Stores(), Clock: e.clock, IDs: e.ids})
	e.owner = e.store.SeedAccount(e.ids, e.clock, ports.TierBasic, "ada@example.com")
	e.inst = e.instance(t, e.owner, "main")
	return e
}

func (e *env) instance(t *testing.T, p ports.Principal, name string) ports.InstanceID {
	t.Helper()
	id := ports.InstanceID(e.ids.NewID())
	err := e.store.Stores().Instances.CreateInstance(context.Background(), p.SubscriptionID, ports.Instance{
		ID: id, Name: name, Status: ports.StatusCreated, CreatedAt: e.clock.Now(),
	})
	if err != nil {
		t.Fatalf("create instance: %v", err)
	}
	return id
}

func (e *env) create(t *testing.T, inst ports.InstanceID, cmd keys.CreateCmd) keys.Created {
	t.Helper()
	k, err := e.svc.Create(context.Background(), e.owner, inst, cmd)
	if err != nil {
		t.Fatalf("create key: %v", err)
	}
	return k
}

func wantErr(t *testing.T, err error, code ports.ErrorCode, reason string) {
	t.Helper()
	if got := ports.ErrorCodeOf(err); got != code {
		t.Fatalf("error code: got %q (%v), want %q", got, err, code)
	}
	if reason != "" && ports.AsError(err).Reason != reason {
		t.Fatalf("error reason: got %q (%v), want %q", ports.AsError(err).Reason, err, reason)
	}
}

func timeAt(t time.Time) *time.Time { return &t }

func TestCreateValidation(t *testing.T) {
	tests := []struct {
		name       string
		cmd        func(now time.Time) keys.CreateCmd
		wantScopes []ports.Scope
		wantFields []string
	}{
		{"defaults to all scopes", func(time.Time) keys.CreateCmd { return keys.CreateCmd{Name: "ci"} }, ports.AllScopes, nil},
		{"chosen scopes", func(time.Time) keys.CreateCmd {
			return keys.CreateCmd{Name: "ci", Scopes: []ports.Scope{ports.ScopeMessagesSend}}
		}, []ports.Scope{ports.ScopeMessagesSend}, nil},
		{"future expiry", func(now time.Time) keys.CreateCmd {
			return keys.CreateCmd{Name: "ci", ExpiresAt: timeAt(now.Add(time.Hour))}
		}, ports.AllScopes, nil},
		{"name of 100", func(time.Time) keys.CreateCmd { return keys.CreateCmd{Name: strings.Repeat("k", 100)} }, ports.AllScopes, nil},
		{"blank name", func(time.Time) keys.CreateCmd { return keys.CreateCmd{Name: "  "} }, nil, []string{"name"}},
		{"name of 101", func(time.Time) keys.CreateCmd { return keys.CreateCmd{Name: strings.Repeat("k", 101)} }, nil, []string{"name"}},
		{"control character", func(time.Time) keys.CreateCmd { return keys.CreateCmd{Name: "a\nb"} }, nil, []string{"name"}},
		{"unknown scope", func(time.Time) keys.CreateCmd {
			return keys.CreateCmd{Name: "ci", Scopes: []ports.Scope{"admin:all"}}
		}, nil, []string{"scopes"}},
		{"empty scopes are not all", func(time.Time) keys.CreateCmd { return keys.CreateCmd{Name: "ci", Scopes: []ports.Scope{}} }, nil, []string{"scopes"}},
		{"duplicate scope", func(time.Time) keys.CreateCmd {
			return keys.CreateCmd{Name: "ci", Scopes: []ports.Scope{ports.ScopeMessagesRead, ports.ScopeMessagesRead}}
		}, nil, []string{"scopes"}},
		{"expiry now", func(now time.Time) keys.CreateCmd { return keys.CreateCmd{Name: "ci", ExpiresAt: timeAt(now)} }, nil, []string{"expiresAt"}},
		{"expiry past", func(now time.Time) keys.CreateCmd {
			return keys.CreateCmd{Name: "ci", ExpiresAt: timeAt(now.Add(-time.Hour))}
		}, nil, []string{"expiresAt"}},
		{"everything wrong", func(now time.Time) keys.CreateCmd {
			return keys.CreateCmd{Scopes: []ports.Scope{"x"}, ExpiresAt: timeAt(now.Add(-time.Second))}
		}, nil, []string{"name", "scopes", "expiresAt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			k, err := e.svc.Create(context.Background(), e.owner, e.inst, tt.cmd(e.clock.Now()))
			if tt.wantFields != nil {
				wantErr(t, err, ports.EInvalid, "")
				var got []string
				for _, f := range ports.AsError(err).Fields {
					got = append(got, f.Field)
				}
				if !slices.Equal(got, tt.wantFields) {
					t.Fatalf("fields: got %v, want %v", got, tt.wantFields)
				}
				return
			}
			if err != nil {
				t.Fatalf("create: %v", err)
			}
			if !slices.Equal(k.Scopes, tt.wantScopes) {
				t.Errorf("scopes: got %v, want %v", k.Scopes, tt.wantScopes)
			}
		})
	}
}

func TestCreatedKey(t *testing.T) {
	e := newEnv(t)
	k := e.create(t, e.inst, keys.CreateCmd{Name: " ci "})

	if !strings.HasPrefix(k.Key, "wag_") || len(k.Key) != 44 {
		t.Errorf("key: got %q, want wag_ and 40 characters", k.Key)
	}
	if k.Prefix != k.Key[:12] || k.Name != "ci" || k.InstanceID != e.inst || k.SubscriptionID != e.owner.SubscriptionID {
		t.Errorf("key record: got %+v, want prefix %q, trimmed name and the instance", k.APIKey, k.Key[:12])
	}
	if k.Hash != nil || !k.CreatedAt.Equal(e.clock.Now()) {
		t.Errorf("key record: got hash %x and created %v, want no hash and now", k.Hash, k.CreatedAt)
	}
	other := e.create(t, e.inst, keys.CreateCmd{Name: "ci"})
	if other.Key == k.Key {
		t.Errorf("two keys are equal: %q", k.Key)
	}

	audit := e.store.Audit()
	a := audit[0]
	if a.Action != "api_key.created" || a.TargetID != string(k.ID) || a.ActorUserID != e.owner.UserID ||
		a.IP != e.owner.IP || a.Details["prefix"] != k.Prefix || a.Details["name"] != "ci" {
		t.Errorf("audit: got %+v, want api_key.created by the owner with name and prefix", a)
	}
	for name, v := range a.Details {
		if s, ok := v.(string); ok && strings.Contains(s, k.Key[12:]) {
			t.Errorf("audit detail %s holds the key", name)
		}
	}
}

func TestCreateRejects(t *testing.T) {
	e := newEnv(t)
	stranger := e.store.SeedAccount(e.ids, e.clock, ports.TierBasic, "eve@example.com")
	strangerInst := e.instance(t, stranger, "theirs")
	ctx := context.Background()

	_, err := e.svc.Create(ctx, e.owner, strangerInst, keys.CreateCmd{Name: "x"})
	wantErr(t, err, ports.ENotFound, "")
	_, err = e.svc.Create(ctx, e.owner, "no-such-instance", keys.CreateCmd{Name: "x"})
	wantErr(t, err, ports.ENotFound, "")
	k := e.create(t, e.inst, keys.CreateCmd{Name: "ci"})
	p, err := e.svc.Authenticate(ctx, k.Key)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Create(ctx, p, e.inst, keys.CreateCmd{Name: "x"})
	wantErr(t, err, ports.EForbidden, "forbidden")
	if n := len(e.store.Audit()); n != 1 {
		t.Errorf("audit entries: got %d, want 1 (only the successful create)", n)
	}
}

func TestAuthenticate(t *testing.T) {
	e := newEnv(t)
	k := e.create(t, e.inst, keys.CreateCmd{Name: "ci", Scopes: []ports.Scope{ports.ScopeMessagesSend}})
	otherInst := e.instance(t, e.owner, "second")

	p, err := e.svc.Authenticate(context.Background(), k.Key)
	if err != nil {
		t.Fatalf("authenticate: %v", err)
	}
	if p.Kind != ports.PrincipalAPIKey || p.SubscriptionID != e.owner.SubscriptionID || p.Tier != ports.TierBasic ||
		p.APIKeyID != k.ID || p.InstanceID != e.inst || !slices.Equal(p.Scopes, []ports.Scope{ports.ScopeMessagesSend}) || p.UserID != "" {
		t.Errorf("principal: got %+v, want the key on its instance", p)
	}
	if err := p.CanActOn(e.inst); err != nil {
		t.Errorf("own instance: got %v, want nil", err)
	}
	wantErr(t, p.CanActOn(otherInst), ports.ENotFound, "")
	wantErr(t, p.RequireScope(ports.ScopeInstanceRead), ports.EForbidden, "forbidden")
	wantErr(t, p.RequireUser(), ports.EForbidden, "forbidden")
}

func TestAuthenticateRejects(t *testing.T) {
	tests := []struct {
		name       string
		key        func(valid string) string
		advance    time.Duration
		wantReason string
		wantLookup bool // whether the store is asked
	}{
		{"empty", func(string) string { return "" }, 0, "unauthorized", false},
		{"prefix only", func(string) string { return "wag_" }, 0, "unauthorized", false},
		{"wrong prefix", func(v string) string { return "wak_" + v[4:] }, 0, "unauthorized", false},
		{"too short", func(v string) string { return v[:43] }, 0, "unauthorized", false},
		{"too long", func(v string) string { return v + "A" }, 0, "unauthorized", false},
		{"not base62", func(v string) string { return v[:43] + "-" }, 0, "unauthorized", false},
		{"a JWT", func(string) string { return "eyJhbGciOiJIUzI1NiJ9.e30.sig" }, 0, "unauthorized", false},
		{"unknown", func(v string) string { return v[:43] + flip(v[43]) }, 0, "unauthorized", true},
		{"expired", func(v string) string { return v }, time.Hour, "token_expired", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			k := e.create(t, e.inst, keys.CreateCmd{Name: "ci", ExpiresAt: timeAt(e.clock.Now().Add(time.Hour))})
			lookups := 0
			e.store.Hook = func(m string) error {
				if m == "GetAPIKeyAccess" {
					lookups++
				}
				return nil
			}
			e.clock.Advance(tt.advance)
			_, err := e.svc.Authenticate(context.Background(), tt.key(k.Key))
			wantErr(t, err, ports.EUnauthorized, tt.wantReason)
			if got := lookups > 0; got != tt.wantLookup {
				t.Errorf("store asked: got %v, want %v", got, tt.wantLookup)
			}
		})
	}
}

func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

func TestList(t *testing.T) {
	e := newEnv(t)
	a := e.create(t, e.inst, keys.CreateCmd{Name: "a"})
	b := e.create(t, e.inst, keys.CreateCmd{Name: "b"})
	second := e.instance(t, e.owner, "second")
	e.create(t, second, keys.CreateCmd{Name: "c"})
	ctx := context.Background()

	page, err := e.svc.List(ctx, e.owner, e.inst, ports.PageRequest{})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if len(page.Items) != 2 || page.Items[0].ID != a.ID || page.Items[1].ID != b.ID {
		t.Fatalf("keys: got %+v, want a and b, oldest first", page.Items)
	}
	for _, k := range page.Items {
		if k.Hash != nil || k.Prefix == "" {
			t.Errorf("listed key %s: got hash %x and prefix %q, want no hash and a prefix", k.ID, k.Hash, k.Prefix)
		}
	}

	stranger := e.store.SeedAccount(e.ids, e.clock, ports.TierBasic, "eve@example.com")
	_, err = e.svc.List(ctx, stranger, e.inst, ports.PageRequest{})
	wantErr(t, err, ports.ENotFound, "")
	p, err := e.svc.Authenticate(ctx, a.Key)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.List(ctx, p, e.inst, ports.PageRequest{})
	wantErr(t, err, ports.EForbidden, "forbidden")
}

func TestDelete(t *testing.T) {
	e := newEnv(t)
	k := e.create(t, e.inst, keys.CreateCmd{Name: "ci"})
	keep := e.create(t, e.inst, keys.CreateCmd{Name: "keep"})
	second := e.instance(t, e.owner, "second")
	stranger := e.store.SeedAccount(e.ids, e.clock, ports.TierBasic, "eve@example.com")
	ctx := context.Background()

	p, err := e.svc.Authenticate(ctx, k.Key)
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, e.svc.Delete(ctx, p, e.inst, k.ID), ports.EForbidden, "forbidden")
	wantErr(t, e.svc.Delete(ctx, e.owner, second, k.ID), ports.ENotFound, "")
	wantErr(t, e.svc.Delete(ctx, stranger, e.inst, k.ID), ports.ENotFound, "")

	if err := e.svc.Delete(ctx, e.owner, e.inst, k.ID); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err = e.svc.Authenticate(ctx, k.Key)
	wantErr(t, err, ports.EUnauthorized, "unauthorized")
	if _, err := e.svc.Authenticate(ctx, keep.Key); err != nil {
		t.Errorf("other key: got %v, want success", err)
	}
	wantErr(t, e.svc.Delete(ctx, e.owner, e.inst, k.ID), ports.ENotFound, "")

	audit := e.store.Audit()
	last := audit[len(audit)-1]
	if last.Action != "api_key.revoked" || last.TargetID != string(k.ID) || last.ActorUserID != e.owner.UserID {
		t.Errorf("audit: got %+v, want api_key.revoked of %s by the owner", last, k.ID)
	}
}

func lastUsed(t *testing.T, e *env, id ports.APIKeyID) *time.Time {
	t.Helper()
	page, err := e.store.Stores().APIKeys.ListAPIKeys(context.Background(), e.owner.SubscriptionID, e.inst, ports.PageRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range page.Items {
		if k.ID == id {
			return k.LastUsedAt
		}
	}
	t.Fatalf("key %s not found", id)
	return nil
}

// Uses within a minute make one write; Run flushes what is queued when its
// context ends.
func TestLastUsedAtIsThrottledAndFlushed(t *testing.T) {
	e := newEnv(t)
	k := e.create(t, e.inst, keys.CreateCmd{Name: "ci"})
	touches := 0
	e.store.Hook = func(m string) error {
		if m == "TouchAPIKey" {
			touches++
		}
		return nil
	}
	ctx := context.Background()
	for _, step := range []time.Duration{0, 30 * time.Second, 31 * time.Second} {
		e.clock.Advance(step)
		if _, err := e.svc.Authenticate(ctx, k.Key); err != nil {
			t.Fatal(err)
		}
	}
	if got := lastUsed(t, e, k.ID); got != nil {
		t.Fatalf("lastUsedAt before Run: got %v, want nil (written in the background)", got)
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	e.svc.Run(done)

	if touches != 2 {
		t.Errorf("writes: got %d, want 2 (one per minute)", touches)
	}
	if got := lastUsed(t, e, k.ID); got == nil || !got.Equal(e.clock.Now()) {
		t.Errorf("lastUsedAt: got %v, want %v", got, e.clock.Now())
	}
}

func TestRunWritesWhileRunning(t *testing.T) {
	e := newEnv(t)
	k := e.create(t, e.inst, keys.CreateCmd{Name: "ci"})
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		e.svc.Run(ctx)
		close(stopped)
	}()
	if _, err := e.svc.Authenticate(ctx, k.Key); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for lastUsed(t, e, k.ID) == nil {
		if time.Now().After(deadline) {
			t.Fatal("lastUsedAt: got nil after 5s, want it written by Run")
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-stopped
}
