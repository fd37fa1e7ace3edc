package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wagate/wagate/ports"
)

// RunTemplates runs the conformance tests of ports.TemplateStore. open is
// called once per test and must return an empty, migrated backend of its
// own, closed when t ends.
func RunTemplates(t *testing.T, open func(t *testing.T) Backend) {
	tests := []struct {
		name string
		fn   func(t *testing.T, f *fixture)
	}{
		{"TemplateCRUD", testTemplateCRUD},
		{"TemplateNameTaken", testTemplateNameTaken},
		{"TemplateUpdate", testTemplateUpdate},
		{"TemplatePaging", testTemplatePaging},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := open(t)
			tc.fn(t, &fixture{t: t, ctx: t.Context(), b: b, s: b.Stores()})
		})
	}
}

// template stores a template of sub with the given name.
func (f *fixture) template(sub ports.SubscriptionID, name string) ports.Template {
	f.t.Helper()
	tm := ports.Template{
		ID: ports.TemplateID(newID()), SubscriptionID: sub, Name: name,
		Body: "Hi {{name}}, your code is {{code}}", Variables: []string{"name", "code"},
		CreatedAt: base, UpdatedAt: base,
	}
	if err := f.s.Templates.CreateTemplate(f.ctx, sub, tm); err != nil {
		f.t.Fatalf("create template: %v", err)
	}
	return tm
}

func wantReason(t *testing.T, what string, err error, code ports.ErrorCode, reason string) {
	t.Helper()
	if e := ports.AsError(err); e == nil || e.Code != code || e.Reason != reason {
		t.Errorf("%s: got %v, want %s (%s)", what, err, code, reason)
	}
}

func testTemplateCRUD(t *testing.T, f *fixture) {
	sub, other := f.subscription(), f.subscription()
	tm := f.template(sub.ID, "welcome")
	got, err := f.s.Templates.GetTemplate(f.ctx, sub.ID, tm.ID)
	if err != nil {
		t.Fatalf("get template: %v", err)
	}
	want := tm
	want.CreatedAt, want.UpdatedAt = base.UTC().Truncate(time.Microsecond), base.UTC().Truncate(time.Microsecond)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("get template (-want +got):\n%s", diff)
	}
	wantCode(t, "get another tenant's", errOnly(f.s.Templates.GetTemplate(f.ctx, other.ID, tm.ID)), ports.ENotFound)
	wantCode(t, "create a duplicate id", f.s.Templates.CreateTemplate(f.ctx, sub.ID, ports.Template{
		ID: tm.ID, Name: "other", Body: "x", CreatedAt: base, UpdatedAt: base,
	}), ports.EConflict)
	// No variables are kept as an empty list, not null.
	empty := ports.Template{ID: ports.TemplateID(newID()), Name: "plain", Body: "hello", CreatedAt: base, UpdatedAt: base}
	if err := f.s.Templates.CreateTemplate(f.ctx, sub.ID, empty); err != nil {
		t.Fatalf("create template without variables: %v", err)
	}
	if got, _ := f.s.Templates.GetTemplate(f.ctx, sub.ID, empty.ID); got.Variables == nil || len(got.Variables) != 0 {
		t.Errorf("variables of a plain template: got %#v, want []", got.Variables)
	}
	wantCode(t, "delete another tenant's", f.s.Templates.DeleteTemplate(f.ctx, other.ID, tm.ID), ports.ENotFound)
	if err := f.s.Templates.DeleteTemplate(f.ctx, sub.ID, tm.ID); err != nil {
		t.Fatalf("delete template: %v", err)
	}
	wantCode(t, "get after delete", errOnly(f.s.Templates.GetTemplate(f.ctx, sub.ID, tm.ID)), ports.ENotFound)
	wantCode(t, "delete twice", f.s.Templates.DeleteTemplate(f.ctx, sub.ID, tm.ID), ports.ENotFound)
}

func testTemplateNameTaken(t *testing.T, f *fixture) {
	sub, other := f.subscription(), f.subscription()
	f.template(sub.ID, "welcome")
	dup := ports.Template{ID: ports.TemplateID(newID()), Name: "welcome", Body: "x", CreatedAt: base, UpdatedAt: base}
	wantReason(t, "create a duplicate name", f.s.Templates.CreateTemplate(f.ctx, sub.ID, dup), ports.EConflict, "name_taken")
	// Names are unique per subscription only.
	if err := f.s.Templates.CreateTemplate(f.ctx, other.ID, dup); err != nil {
		t.Errorf("same name in another subscription: got %v, want nil", err)
	}
	second := f.template(sub.ID, "reminder")
	_, err := f.s.Templates.UpdateTemplate(f.ctx, sub.ID, second.ID, func(tm *ports.Template) error {
		tm.Name = "welcome"
		return nil
	})
	wantReason(t, "rename to a taken name", err, ports.EConflict, "name_taken")
	if got, _ := f.s.Templates.GetTemplate(f.ctx, sub.ID, second.ID); got.Name != "reminder" {
		t.Errorf("name after a refused rename: got %q, want reminder", got.Name)
	}
	// Saving a template under its own name is no conflict.
	if _, err := f.s.Templates.UpdateTemplate(f.ctx, sub.ID, second.ID, func(tm *ports.Template) error {
		tm.Body = "changed"
		return nil
	}); err != nil {
		t.Errorf("update keeping the name: got %v, want nil", err)
	}
}

func testTemplateUpdate(t *testing.T, f *fixture) {
	sub, other := f.subscription(), f.subscription()
	tm := f.template(sub.ID, "welcome")
	at := base.Add(time.Hour)
	got, err := f.s.Templates.UpdateTemplate(f.ctx, sub.ID, tm.ID, func(tm *ports.Template) error {
		tm.Name, tm.Body, tm.Variables, tm.UpdatedAt = "renamed", "Bye {{who}}", []string{"who"}, at
		return nil
	})
	if err != nil {
		t.Fatalf("update template: %v", err)
	}
	again, _ := f.s.Templates.GetTemplate(f.ctx, sub.ID, tm.ID)
	if diff := cmp.Diff(got, again); diff != "" {
		t.Errorf("read back (-update +get):\n%s", diff)
	}
	if again.Name != "renamed" || again.Body != "Bye {{who}}" || !cmp.Equal(again.Variables, []string{"who"}) ||
		!again.UpdatedAt.Equal(at.UTC().Truncate(time.Microsecond)) || again.UpdatedAt.Location() != time.UTC ||
		!again.CreatedAt.Equal(base.UTC().Truncate(time.Microsecond)) {
		t.Errorf("got %+v, want name, body, variables and updatedAt changed", again)
	}
	boom := errors.New("boom")
	_, err = f.s.Templates.UpdateTemplate(f.ctx, sub.ID, tm.ID, func(tm *ports.Template) error {
		tm.Body = "lost"
		return boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("update whose fn fails: got %v, want boom", err)
	}
	if got, _ := f.s.Templates.GetTemplate(f.ctx, sub.ID, tm.ID); got.Body != "Bye {{who}}" {
		t.Errorf("body after a failed update: got %q, want unchanged", got.Body)
	}
	_, err = f.s.Templates.UpdateTemplate(f.ctx, other.ID, tm.ID, func(*ports.Template) error { return nil })
	wantCode(t, "update another tenant's", err, ports.ENotFound)
}

func testTemplatePaging(t *testing.T, f *fixture) {
	sub, other := f.subscription(), f.subscription()
	var want []ports.TemplateID
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		want = append(want, f.template(sub.ID, n).ID)
	}
	f.template(other.ID, "a")
	var got []ports.TemplateID
	req := ports.PageRequest{Limit: 2}
	for range 5 {
		page, err := f.s.Templates.ListTemplates(f.ctx, sub.ID, req)
		if err != nil {
			t.Fatalf("list templates: %v", err)
		}
		for _, tm := range page.Items {
			got = append(got, tm.ID)
		}
		if page.Next == "" {
			break
		}
		req.After = page.Next
	}
	if !cmp.Equal(got, want) {
		t.Errorf("paged ids: got %v, want %v", got, want)
	}
	wantCode(t, "bad cursor", errOnly(f.s.Templates.ListTemplates(f.ctx, sub.ID, ports.PageRequest{After: "!!"})), ports.EInvalid)
}
