package sessions_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wagate/wagate/core/coretest"
	"github.com/wagate/wagate/core/sessions"
	"github.com/wagate/wagate/core/tenancy"
	"github.com/wagate/wagate/ports"
)

type env struct {
	svc   *sessions.Service
	store *coretest.Store
	clock *coretest.Clock
	ids   *coretest.IDs
	owner ports.Principal
}

func newEnv(t *testing.T, tiers ports.TierTable) *env {
	t.Helper()
	e := &env{store: coretest.NewStore(), clock: coretest.NewClock(), ids: &coretest.IDs{}}
	e.svc = sessions.New(sessions.Deps{Tx: e.store, Stores: e.store.Stores(), Clock: e.clock, IDs: e.ids, Tiers: tiers,
		Events: coretest.NewEventLog(e.clock, nil)})
	e.owner = e.store.SeedAccount(e.ids, e.clock, ports.TierBasic, "ada@example.com")
	return e
}

func (e *env) create(t *testing.T, p ports.Principal, name string) ports.Instance {
	t.Helper()
	inst, err := e.svc.Create(context.Background(), p, sessions.CreateCmd{Name: name})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return inst
}

func keyPrincipal(inst ports.Instance, scopes ...ports.Scope) ports.Principal {
	return ports.Principal{
		Kind: ports.PrincipalAPIKey, SubscriptionID: inst.SubscriptionID, Tier: ports.TierBasic,
		APIKeyID: "key-1", InstanceID: inst.ID, Scopes: scopes,
	}
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

func wantFields(t *testing.T, err error, fields ...string) {
	t.Helper()
	wantErr(t, err, ports.EInvalid, "")
	var got []string
	for _, f := range ports.AsError(err).Fields {
		got = append(got, f.Field)
	}
	if !slices.Equal(got, fields) {
		t.Fatalf("fields: got %v, want %v", got, fields)
	}
}

func manyKeys(n int) map[string]any {
	m := map[string]any{}
	for i := range n {
		m[fmt.Sprintf("k%d", i)] = i
	}
	return m
}

func TestCreateValidation(t *testing.T) {
	tests := []struct {
		name       string
		cmd        sessions.CreateCmd
		wantFields []string
	}{
		{"minimal", sessions.CreateCmd{Name: "main"}, nil},
		{"name of 100", sessions.CreateCmd{Name: strings.Repeat("n", 100)}, nil},
		{"50 metadata keys", sessions.CreateCmd{Name: "main", Metadata: manyKeys(50)}, nil},
		{"http proxy", sessions.CreateCmd{Name: "main", ProxyURL: "http://proxy.example.com:3128"}, nil},
		{"https proxy", sessions.CreateCmd{Name: "main", ProxyURL: "https://proxy.example.com"}, nil},
		{"socks5 proxy with credentials", sessions.CreateCmd{Name: "main", ProxyURL: "socks5://u:p@10.0.0.1:1080"}, nil},
		{"blank name", sessions.CreateCmd{Name: " \t"}, []string{"name"}},
		{"name of 101", sessions.CreateCmd{Name: strings.Repeat("n", 101)}, []string{"name"}},
		{"control character", sessions.CreateCmd{Name: "ma\x7fin"}, []string{"name"}},
		{"51 metadata keys", sessions.CreateCmd{Name: "main", Metadata: manyKeys(51)}, []string{"metadata"}},
		{"empty metadata key", sessions.CreateCmd{Name: "main", Metadata: map[string]any{"": 1}}, []string{"metadata"}},
		{"metadata key of 65", sessions.CreateCmd{Name: "main", Metadata: map[string]any{strings.Repeat("k", 65): 1}}, []string{"metadata"}},
		{"metadata over 4 KiB", sessions.CreateCmd{Name: "main", Metadata: map[string]any{"k": strings.Repeat("v", 4096)}}, []string{"metadata"}},
		{"metadata not JSON", sessions.CreateCmd{Name: "main", Metadata: map[string]any{"k": make(chan int)}}, []string{"metadata"}},
		{"socks5h proxy (whatsmeow cannot dial it)", sessions.CreateCmd{Name: "main", ProxyURL: "socks5h://proxy:1080"}, []string{"proxyUrl"}},
		{"ftp proxy", sessions.CreateCmd{Name: "main", ProxyURL: "ftp://proxy.example.com"}, []string{"proxyUrl"}},
		{"proxy without host", sessions.CreateCmd{Name: "main", ProxyURL: "http://"}, []string{"proxyUrl"}},
		{"proxy without scheme", sessions.CreateCmd{Name: "main", ProxyURL: "proxy.example.com:3128"}, []string{"proxyUrl"}},
		{"relative proxy", sessions.CreateCmd{Name: "main", ProxyURL: "/proxy"}, []string{"proxyUrl"}},
		{"proxy over 2048", sessions.CreateCmd{Name: "main", ProxyURL: "http://" + strings.Repeat("a", 2042) + ".com"}, []string{"proxyUrl"}},
		{"everything wrong", sessions.CreateCmd{Metadata: manyKeys(51), ProxyURL: "gopher://x"}, []string{"name", "metadata", "proxyUrl"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			inst, err := e.svc.Create(context.Background(), e.owner, tt.cmd)
			if tt.wantFields != nil {
				wantFields(t, err, tt.wantFields...)
				return
			}
			if err != nil {
				t.Fatalf("create: %v", err)
			}
			if inst.ProxyURL != tt.cmd.ProxyURL || len(inst.Metadata) != len(tt.cmd.Metadata) {
				t.Errorf("instance: got %+v, want the command's proxy and metadata", inst)
			}
		})
	}
}

func TestCreate(t *testing.T) {
	e := newEnv(t, nil)
	inst, err := e.svc.Create(context.Background(), e.owner, sessions.CreateCmd{Name: "  main  ", ProxyURL: "socks5://u:secret@proxy:1080"})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if inst.ID == "" || inst.Name != "main" || inst.Status != ports.StatusCreated || inst.SubscriptionID != e.owner.SubscriptionID ||
		inst.Metadata == nil || !inst.CreatedAt.Equal(e.clock.Now()) {
		t.Errorf("instance: got %+v, want a created instance named main with empty metadata", inst)
	}
	got, err := e.svc.Get(context.Background(), e.owner, inst.ID)
	if err != nil || got.Name != "main" {
		t.Errorf("get: got %+v, %v; want the instance", got, err)
	}
	audit := e.store.Audit()
	if len(audit) != 1 || audit[0].Action != "instance.created" || audit[0].TargetID != string(inst.ID) ||
		audit[0].ActorUserID != e.owner.UserID || audit[0].IP != e.owner.IP || audit[0].Details["name"] != "main" {
		t.Errorf("audit: got %+v, want one instance.created entry", audit)
	}
	if s := fmt.Sprint(audit); strings.Contains(s, "secret") {
		t.Errorf("audit holds the proxy password: %s", s)
	}
}

func TestCreateLimit(t *testing.T) {
	tiers := ports.TierTable{ports.TierBasic: {Instances: 2}, ports.TierPro: {Instances: 3}}
	e := newEnv(t, tiers)
	ctx := context.Background()
	e.create(t, e.owner, "one")
	e.create(t, e.owner, "two")

	_, err := e.svc.Create(ctx, e.owner, sessions.CreateCmd{Name: "three"})
	wantErr(t, err, ports.EForbidden, "instance_limit_reached")
	// The tier comes from the subscription row, not from the principal.
	stale := e.owner
	stale.Tier = ports.TierPro
	_, err = e.svc.Create(ctx, stale, sessions.CreateCmd{Name: "three"})
	wantErr(t, err, ports.EForbidden, "instance_limit_reached")

	_, err = e.store.Stores().Subscriptions.UpdateSubscription(ctx, e.owner.SubscriptionID, func(s *ports.Subscription) error {
		s.Tier = ports.TierPro
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	e.create(t, e.owner, "three")
	_, err = e.svc.Create(ctx, e.owner, sessions.CreateCmd{Name: "four"})
	wantErr(t, err, ports.EForbidden, "instance_limit_reached")
	if got := e.store.AuditActions(); len(got) != 3 {
		t.Errorf("audit: got %v, want three instance.created", got)
	}
}

func TestCreateConcurrentAtLimit(t *testing.T) {
	e := newEnv(t, nil) // basic: 5 instances
	var wg sync.WaitGroup
	errs := make([]error, 10)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = e.svc.Create(context.Background(), e.owner, sessions.CreateCmd{Name: fmt.Sprintf("inst-%d", i)})
		})
	}
	wg.Wait()
	ok, limited := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case ports.AsError(err) != nil && ports.AsError(err).Reason == "instance_limit_reached":
			limited++
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 5 || limited != 5 {
		t.Errorf("outcomes: got %d created and %d limited, want 5 and 5", ok, limited)
	}
	n, err := e.store.Stores().Instances.CountInstances(context.Background(), e.owner.SubscriptionID)
	if err != nil || n != 5 {
		t.Errorf("instances: got %d (%v), want 5", n, err)
	}
}

// The count must happen under the subscription lock: with a real database
// this is what stops concurrent creates from both seeing room.
func TestCreateCountsUnderLock(t *testing.T) {
	e := newEnv(t, nil)
	var calls []string
	e.store.Hook = func(m string) error {
		calls = append(calls, m)
		return nil
	}
	e.create(t, e.owner, "main")
	lock, count := slices.Index(calls, "LockSubscription"), slices.Index(calls, "CountInstances")
	if lock < 0 || count < 0 || lock > count {
		t.Errorf("calls: got %v, want LockSubscription before CountInstances", calls)
	}
}

func TestNameTaken(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	e.create(t, e.owner, "main")
	other := e.create(t, e.owner, "other")

	_, err := e.svc.Create(ctx, e.owner, sessions.CreateCmd{Name: "main"})
	wantErr(t, err, ports.EConflict, "name_taken")
	name := "main"
	_, err = e.svc.Update(ctx, e.owner, other.ID, sessions.UpdateCmd{Name: &name})
	wantErr(t, err, ports.EConflict, "name_taken")

	stranger := e.store.SeedAccount(e.ids, e.clock, ports.TierBasic, "eve@example.com")
	e.create(t, stranger, "main") // names are unique per subscription only
}

func TestTenantIsolation(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	mine := e.create(t, e.owner, "main")
	stranger := e.store.SeedAccount(e.ids, e.clock, ports.TierBasic, "eve@example.com")
	theirs := e.create(t, stranger, "theirs")

	_, err := e.svc.Get(ctx, stranger, mine.ID)
	wantErr(t, err, ports.ENotFound, "")
	name := "stolen"
	_, err = e.svc.Update(ctx, stranger, mine.ID, sessions.UpdateCmd{Name: &name})
	wantErr(t, err, ports.ENotFound, "")
	wantErr(t, e.svc.Delete(ctx, stranger, mine.ID), ports.ENotFound, "")

	page, err := e.svc.List(ctx, stranger, ports.PageRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 || page.Items[0].ID != theirs.ID {
		t.Errorf("stranger's list: got %+v, want only their instance", page.Items)
	}
	if got, err := e.svc.Get(ctx, e.owner, mine.ID); err != nil || got.Name != "main" {
		t.Errorf("owner's instance after the attempts: got %+v, %v; want it unchanged", got, err)
	}
}

func TestManagementRejectsAPIKeys(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	inst := e.create(t, e.owner, "main")
	p := keyPrincipal(inst, ports.AllScopes...)
	name := "x"
	calls := map[string]func() error{
		"create": func() error { _, err := e.svc.Create(ctx, p, sessions.CreateCmd{Name: "x"}); return err },
		"list":   func() error { _, err := e.svc.List(ctx, p, ports.PageRequest{}); return err },
		"get":    func() error { _, err := e.svc.Get(ctx, p, inst.ID); return err },
		"update": func() error { _, err := e.svc.Update(ctx, p, inst.ID, sessions.UpdateCmd{Name: &name}); return err },
		"delete": func() error { return e.svc.Delete(ctx, p, inst.ID) },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) { wantErr(t, call(), ports.EForbidden, "forbidden") })
	}
}

func TestList(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	var want []ports.InstanceID
	for _, n := range []string{"a", "b", "c"} {
		want = append(want, e.create(t, e.owner, n).ID)
	}
	first, err := e.svc.List(ctx, e.owner, ports.PageRequest{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	rest, err := e.svc.List(ctx, e.owner, ports.PageRequest{Limit: 2, After: first.Next})
	if err != nil {
		t.Fatal(err)
	}
	var got []ports.InstanceID
	for _, i := range append(first.Items, rest.Items...) {
		got = append(got, i.ID)
	}
	if !slices.Equal(got, want) || rest.Next != "" {
		t.Errorf("pages: got %v (next %q), want %v oldest first and no more", got, rest.Next, want)
	}
}

func ptr[T any](v T) *T { return &v }

func TestUpdate(t *testing.T) {
	tests := []struct {
		name       string
		cmd        sessions.UpdateCmd
		wantFields []string // the invalid fields; nil for success
		wantAudit  []string // the changed fields audited; nil for no entry
	}{
		{"rename", sessions.UpdateCmd{Name: ptr(" renamed ")}, nil, []string{"name"}},
		{"metadata", sessions.UpdateCmd{Metadata: ptr(map[string]any{"team": "sales"})}, nil, []string{"metadata"}},
		{"proxy", sessions.UpdateCmd{ProxyURL: ptr("socks5://u:secret@proxy:1080")}, nil, []string{"proxyUrl"}},
		{"clear proxy", sessions.UpdateCmd{ProxyURL: ptr("")}, nil, []string{"proxyUrl"}},
		{"all", sessions.UpdateCmd{Name: ptr("x"), Metadata: ptr(map[string]any{}), ProxyURL: ptr("")}, nil, []string{"name", "metadata", "proxyUrl"}},
		{"same values", sessions.UpdateCmd{Name: ptr("main"), Metadata: ptr(map[string]any{"env": "prod"})}, nil, nil},
		{"nothing", sessions.UpdateCmd{}, nil, nil},
		{"blank name", sessions.UpdateCmd{Name: ptr("")}, []string{"name"}, nil},
		{"bad proxy", sessions.UpdateCmd{ProxyURL: ptr("ftp://x")}, []string{"proxyUrl"}, nil},
		{"bad metadata", sessions.UpdateCmd{Metadata: ptr(manyKeys(51))}, []string{"metadata"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			ctx := context.Background()
			inst, err := e.svc.Create(ctx, e.owner, sessions.CreateCmd{
				Name: "main", Metadata: map[string]any{"env": "prod"}, ProxyURL: "http://old:3128",
			})
			if err != nil {
				t.Fatal(err)
			}
			e.clock.Advance(1)
			got, err := e.svc.Update(ctx, e.owner, inst.ID, tt.cmd)
			if tt.wantFields != nil {
				wantFields(t, err, tt.wantFields...)
				return
			}
			if err != nil {
				t.Fatalf("update: %v", err)
			}
			if tt.cmd.Name != nil && got.Name != strings.TrimSpace(*tt.cmd.Name) ||
				tt.cmd.ProxyURL != nil && got.ProxyURL != *tt.cmd.ProxyURL ||
				tt.cmd.Metadata != nil && len(got.Metadata) != len(*tt.cmd.Metadata) {
				t.Errorf("instance: got %+v, want the command applied", got)
			}
			audit := e.store.Audit()
			last := audit[len(audit)-1]
			if tt.wantAudit == nil {
				if last.Action != "instance.created" || !got.UpdatedAt.Equal(inst.UpdatedAt) {
					t.Errorf("no-op update: got audit %s and updatedAt %v, want no entry and no change", last.Action, got.UpdatedAt)
				}
				return
			}
			fields, _ := last.Details["fields"].([]string)
			if last.Action != "instance.updated" || !slices.Equal(fields, tt.wantAudit) || !got.UpdatedAt.Equal(e.clock.Now()) {
				t.Errorf("audit: got %s %v, want instance.updated %v", last.Action, last.Details, tt.wantAudit)
			}
			if s := fmt.Sprint(last); strings.Contains(s, "secret") || strings.Contains(s, "sales") {
				t.Errorf("audit holds a value: %s", s)
			}
		})
	}
}

func TestDelete(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	inst := e.create(t, e.owner, "main")
	err := e.store.Stores().APIKeys.CreateAPIKey(ctx, ports.APIKey{
		ID: "key-1", SubscriptionID: inst.SubscriptionID, InstanceID: inst.ID, Hash: []byte("h"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Delete(ctx, e.owner, inst.ID); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err = e.svc.Get(ctx, e.owner, inst.ID)
	wantErr(t, err, ports.ENotFound, "")
	_, err = e.store.Stores().APIKeys.GetAPIKeyByHash(ctx, []byte("h"))
	wantErr(t, err, ports.ENotFound, "")
	wantErr(t, e.svc.Delete(ctx, e.owner, inst.ID), ports.ENotFound, "")
	audit := e.store.Audit()
	if last := audit[len(audit)-1]; last.Action != "instance.deleted" || last.TargetID != string(inst.ID) {
		t.Errorf("audit: got %+v, want instance.deleted", last)
	}
	// The slot is free again.
	e.create(t, e.owner, "main")
}

func TestOwn(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	inst := e.create(t, e.owner, "main")
	e.create(t, e.owner, "other")

	got, err := e.svc.Own(ctx, keyPrincipal(inst, ports.ScopeInstanceRead))
	if err != nil || got.ID != inst.ID {
		t.Fatalf("own: got %+v, %v; want the key's instance", got, err)
	}
	_, err = e.svc.Own(ctx, keyPrincipal(inst, ports.ScopeMessagesSend))
	wantErr(t, err, ports.EForbidden, "forbidden")
	_, err = e.svc.Own(ctx, e.owner)
	wantErr(t, err, ports.EForbidden, "forbidden")
	gone := keyPrincipal(inst, ports.ScopeInstanceRead)
	gone.InstanceID = "deleted"
	_, err = e.svc.Own(ctx, gone)
	wantErr(t, err, ports.ENotFound, "")
}

// TestDeleteRevokesTheInstanceKeys: an instance's keys go with it, and so
// must every node's cached copy of them.
func TestDeleteRevokesTheInstanceKeys(t *testing.T) {
	e := &env{store: coretest.NewStore(), clock: coretest.NewClock(), ids: &coretest.IDs{}}
	cache := tenancy.NewPrincipals(tenancy.PrincipalCacheConfig{TTL: time.Hour}, e.clock, nil, nil)
	e.svc = sessions.New(sessions.Deps{Tx: e.store, Stores: e.store.Stores(), Clock: e.clock, IDs: e.ids,
		Events: coretest.NewEventLog(e.clock, nil), Principals: cache})
	e.owner = e.store.SeedAccount(e.ids, e.clock, ports.TierBasic, "ada@example.com")
	ctx := context.Background()
	inst := e.create(t, e.owner, "main")
	other := e.create(t, e.owner, "other")
	cached := func(name string, id ports.InstanceID) bool {
		k := tenancy.CredentialKey(name)
		if _, gen, ok := cache.Lookup(k); !ok {
			cache.Store(k, ports.Principal{Kind: ports.PrincipalAPIKey, SubscriptionID: e.owner.SubscriptionID,
				APIKeyID: ports.APIKeyID(name), InstanceID: id}, time.Time{}, gen)
			return false
		}
		return true
	}
	cached("wag_main", inst.ID)
	cached("wag_other", other.ID)
	if err := e.svc.Delete(ctx, e.owner, inst.ID); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if cached("wag_main", inst.ID) {
		t.Error("got the deleted instance's key still cached, want it dropped")
	}
	if !cached("wag_other", other.ID) {
		t.Error("got another instance's key dropped, want it kept")
	}
}
