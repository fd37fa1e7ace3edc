package sessions_test

import (
	"context"
	"testing"

	"github.com/wagate/wagate/core/coretest"
	"github.com/wagate/wagate/core/sessions"
	"github.com/wagate/wagate/ports"
)

// TestProxyURLChecked: a proxy URL passes the SSRF checker of the
// composition root on create and on update; its refusal is a proxyUrl
// field error (422), a DNS outage stays EUnavailable, and nothing is
// saved either way.
func TestProxyURLChecked(t *testing.T) {
	var checked []string
	check := func(_ context.Context, url string) error {
		checked = append(checked, url)
		switch url {
		case "http://127.0.0.1:6379":
			return ports.Errorf(ports.EInvalid, "must not point at a private, loopback or reserved address (127.0.0.1)")
		case "http://down.example:3128":
			return ports.Errorf(ports.EUnavailable, "could not resolve the host name; try again")
		}
		return nil
	}
	store, clock, ids := coretest.NewStore(), coretest.NewClock(), &coretest.IDs{}
	svc := sessions.New(sessions.Deps{Tx: store, Stores: store.Stores(), Clock: clock, IDs: ids, CheckProxyURL: check,
		Events: coretest.NewEventLog(clock, nil)})
	owner := store.SeedAccount(ids, clock, ports.TierBasic, "ada@example.com")
	ctx := context.Background()

	_, err := svc.Create(ctx, owner, sessions.CreateCmd{Name: "a", ProxyURL: "http://127.0.0.1:6379"})
	wantFields(t, err, "proxyUrl")
	_, err = svc.Create(ctx, owner, sessions.CreateCmd{Name: "a", ProxyURL: "http://down.example:3128"})
	wantErr(t, err, ports.EUnavailable, "")
	inst, err := svc.Create(ctx, owner, sessions.CreateCmd{Name: "a", ProxyURL: "http://proxy.example:3128"})
	if err != nil {
		t.Fatalf("create with a public proxy: %v", err)
	}

	bad := "http://127.0.0.1:6379"
	_, err = svc.Update(ctx, owner, inst.ID, sessions.UpdateCmd{ProxyURL: &bad})
	wantFields(t, err, "proxyUrl")
	none := ""
	if _, err := svc.Update(ctx, owner, inst.ID, sessions.UpdateCmd{ProxyURL: &none}); err != nil {
		t.Fatalf("remove the proxy: %v", err)
	}
	// The form is checked first: a URL that could never be used costs no lookup.
	gopher := "gopher://proxy.example"
	_, err = svc.Update(ctx, owner, inst.ID, sessions.UpdateCmd{ProxyURL: &gopher})
	wantFields(t, err, "proxyUrl")

	want := []string{"http://127.0.0.1:6379", "http://down.example:3128", "http://proxy.example:3128", "http://127.0.0.1:6379"}
	if len(checked) != len(want) {
		t.Fatalf("checked %q, want %q", checked, want)
	}
	for i := range want {
		if checked[i] != want[i] {
			t.Errorf("check %d: got %q, want %q", i, checked[i], want[i])
		}
	}
	got, err := svc.Get(ctx, owner, inst.ID)
	if err != nil || got.ProxyURL != "" {
		t.Errorf("got proxy %q (%v), want none", got.ProxyURL, err)
	}
}
