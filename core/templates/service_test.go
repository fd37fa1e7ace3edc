package templates_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wagate/wagate/core/coretest"
	"github.com/wagate/wagate/core/templates"
	"github.com/wagate/wagate/ports"
)

type env struct {
	store *coretest.Store
	svc   *templates.Service
	ids   *coretest.IDs
	clock *coretest.Clock
}

func newEnv() *env {
	st, ids, clock := coretest.NewStore(), &coretest.IDs{}, coretest.NewClock()
	return &env{store: st, ids: ids, clock: clock, svc: templates.New(templates.Deps{
		Tx: st, Stores: st.Stores(), Clock: clock, IDs: ids,
	})}
}

// apiKey is a key principal of the user's subscription with the scopes.
func apiKey(user ports.Principal, scopes ...ports.Scope) ports.Principal {
	return ports.Principal{
		Kind: ports.PrincipalAPIKey, SubscriptionID: user.SubscriptionID, Tier: user.Tier,
		APIKeyID: "key-1", InstanceID: "inst-1", Scopes: scopes,
	}
}

func code(err error) ports.ErrorCode { return ports.ErrorCodeOf(err) }

func TestCRUDAndAudit(t *testing.T) {
	e := newEnv()
	ctx := t.Context()
	owner := e.store.SeedAccount(e.ids, e.clock, ports.TierBasic, "a@example.com")
	tm, err := e.svc.Create(ctx, owner, templates.CreateCmd{Name: "  welcome ", Body: "Hi {{name}}, {{code}}"})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if tm.Name != "welcome" || !cmp.Equal(tm.Variables, []string{"name", "code"}) {
		t.Errorf("created: got %q %v, want welcome [name code]", tm.Name, tm.Variables)
	}
	got, err := e.svc.Get(ctx, owner, tm.ID)
	if err != nil || got.Body != tm.Body {
		t.Errorf("get: got %+v, %v", got, err)
	}
	e.clock.Advance(1e9)
	body := "Bye {{who}}"
	up, err := e.svc.Update(ctx, owner, tm.ID, templates.PatchCmd{Body: &body})
	if err != nil || up.Name != "welcome" || !cmp.Equal(up.Variables, []string{"who"}) || !up.UpdatedAt.After(up.CreatedAt) {
		t.Errorf("update body: got %+v, %v; want new variables, same name, later updatedAt", up, err)
	}
	page, err := e.svc.List(ctx, owner, ports.PageRequest{})
	if err != nil || len(page.Items) != 1 {
		t.Errorf("list: got %v, %v; want one", page.Items, err)
	}
	if err := e.svc.Delete(ctx, owner, tm.ID); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := e.svc.Get(ctx, owner, tm.ID); code(err) != ports.ENotFound {
		t.Errorf("get after delete: got %v, want not_found", err)
	}
	want := []string{"template.created", "template.updated", "template.deleted"}
	if got := e.store.AuditActions(); !cmp.Equal(got, want) {
		t.Errorf("audit: got %v, want %v", got, want)
	}
}

func TestValidation(t *testing.T) {
	e := newEnv()
	ctx := t.Context()
	owner := e.store.SeedAccount(e.ids, e.clock, ports.TierBasic, "a@example.com")
	_, err := e.svc.Create(ctx, owner, templates.CreateCmd{Name: " ", Body: "{{"})
	ae := ports.AsError(err)
	if ae == nil || ae.Code != ports.EInvalid || len(ae.Fields) != 2 || ae.Fields[0].Field != "name" || ae.Fields[1].Field != "body" {
		t.Fatalf("create with bad name and body: got %v, want EInvalid on name and body", err)
	}
	tm, err := e.svc.Create(ctx, owner, templates.CreateCmd{Name: "ok", Body: "x"})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	bad := "{{}}"
	if _, err := e.svc.Update(ctx, owner, tm.ID, templates.PatchCmd{Body: &bad}); code(err) != ports.EInvalid {
		t.Errorf("patch a malformed body: got %v, want invalid", err)
	}
	if len(e.store.AuditActions()) != 1 {
		t.Errorf("audit after refused changes: got %v, want only the create", e.store.AuditActions())
	}
}

func TestNameTaken(t *testing.T) {
	e := newEnv()
	ctx := t.Context()
	owner := e.store.SeedAccount(e.ids, e.clock, ports.TierBasic, "a@example.com")
	if _, err := e.svc.Create(ctx, owner, templates.CreateCmd{Name: "n", Body: "x"}); err != nil {
		t.Fatalf("create: %v", err)
	}
	_, err := e.svc.Create(ctx, owner, templates.CreateCmd{Name: "n", Body: "y"})
	if ae := ports.AsError(err); ae == nil || ae.Code != ports.EConflict || ae.Reason != "name_taken" {
		t.Errorf("duplicate name: got %v, want conflict name_taken", err)
	}
}

func TestTenantIsolation(t *testing.T) {
	e := newEnv()
	ctx := t.Context()
	owner := e.store.SeedAccount(e.ids, e.clock, ports.TierBasic, "a@example.com")
	stranger := e.store.SeedAccount(e.ids, e.clock, ports.TierBasic, "b@example.com")
	tm, err := e.svc.Create(ctx, owner, templates.CreateCmd{Name: "n", Body: "x"})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	name := "mine"
	checks := map[string]error{
		"get":    errOf(e.svc.Get(ctx, stranger, tm.ID)),
		"update": errOf(e.svc.Update(ctx, stranger, tm.ID, templates.PatchCmd{Name: &name})),
		"delete": e.svc.Delete(ctx, stranger, tm.ID),
		"render": errOf(e.svc.Render(ctx, stranger, tm.ID, nil)),
	}
	for what, err := range checks {
		if code(err) != ports.ENotFound {
			t.Errorf("%s another tenant's: got %v, want not_found", what, err)
		}
	}
	if page, err := e.svc.List(ctx, stranger, ports.PageRequest{}); err != nil || len(page.Items) != 0 {
		t.Errorf("list of another tenant: got %v, %v; want none", page.Items, err)
	}
	// The same name is free in another subscription.
	if _, err := e.svc.Create(ctx, stranger, templates.CreateCmd{Name: "n", Body: "x"}); err != nil {
		t.Errorf("same name elsewhere: got %v, want nil", err)
	}
}

func TestKeyPermissions(t *testing.T) {
	e := newEnv()
	ctx := t.Context()
	owner := e.store.SeedAccount(e.ids, e.clock, ports.TierBasic, "a@example.com")
	tm, err := e.svc.Create(ctx, owner, templates.CreateCmd{Name: "n", Body: "Hi {{a}}"})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	sender := apiKey(owner, ports.ScopeMessagesSend)
	if _, err := e.svc.Get(ctx, sender, tm.ID); err != nil {
		t.Errorf("get with a sending key: got %v, want nil", err)
	}
	if page, err := e.svc.List(ctx, sender, ports.PageRequest{}); err != nil || len(page.Items) != 1 {
		t.Errorf("list with a sending key: got %v, %v; want one", page.Items, err)
	}
	if text, err := e.svc.Render(ctx, sender, tm.ID, map[string]string{"a": "x"}); err != nil || text != "Hi x" {
		t.Errorf("render with a sending key: got %q, %v; want Hi x", text, err)
	}
	name := "other"
	forbidden := map[string]error{
		"create":                    errOf(e.svc.Create(ctx, sender, templates.CreateCmd{Name: "k", Body: "x"})),
		"update":                    errOf(e.svc.Update(ctx, sender, tm.ID, templates.PatchCmd{Name: &name})),
		"delete":                    e.svc.Delete(ctx, sender, tm.ID),
		"get without messages:send": errOf(e.svc.Get(ctx, apiKey(owner, ports.ScopeMessagesRead), tm.ID)),
	}
	for what, err := range forbidden {
		if code(err) != ports.EForbidden {
			t.Errorf("%s by a key: got %v, want forbidden", what, err)
		}
	}
}

func TestServiceRenderMissing(t *testing.T) {
	e := newEnv()
	ctx := t.Context()
	owner := e.store.SeedAccount(e.ids, e.clock, ports.TierBasic, "a@example.com")
	tm, err := e.svc.Create(ctx, owner, templates.CreateCmd{Name: "n", Body: "{{b}} {{a}}"})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	_, err = e.svc.Render(ctx, owner, tm.ID, map[string]string{})
	ae := ports.AsError(err)
	if ae == nil || len(ae.Fields) != 2 || ae.Fields[0].Field != "variables.a" || ae.Fields[1].Field != "variables.b" {
		t.Errorf("render without variables: got %v, want variables.a and variables.b missing", err)
	}
}

func errOf[T any](_ T, err error) error { return err }
