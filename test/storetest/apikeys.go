package storetest

import (
	"testing"
	"time"

	"github.com/wagate/wagate/ports"
)

func testAPIKeys(t *testing.T, f *fixture) {
	st := f.s.APIKeys
	sub, other := f.subscription(), f.subscription()
	in, sibling := f.instance(sub.ID, "sales"), f.instance(sub.ID, "support")
	expires := base.Add(90 * 24 * time.Hour)
	id := newID()
	want := ports.APIKey{
		ID: ports.APIKeyID(id), SubscriptionID: sub.ID, InstanceID: in.ID, Name: "ci", Prefix: "wag_abc123",
		Hash: hash(id), Scopes: []ports.Scope{ports.ScopeMessagesSend, ports.ScopeInstanceRead},
		CreatedAt: base, ExpiresAt: &expires,
	}
	mustOK(t, "create api key", st.CreateAPIKey(f.ctx, want))

	got, err := st.GetAPIKeyByHash(f.ctx, want.Hash)
	mustOK(t, "get api key by hash", err)
	diff(t, "api key", want, got)
	wantUTC(t, "expires at", *got.ExpiresAt)
	_, err = st.GetAPIKeyByHash(f.ctx, hash("unknown"))
	wantErr(t, "get unknown key", err, ports.ENotFound, "")

	dup := want
	dup.ID = ports.APIKeyID(newID())
	wantErr(t, "create key with a taken hash", st.CreateAPIKey(f.ctx, dup), ports.EConflict, "")

	used := base.Add(time.Minute)
	mustOK(t, "touch key", st.TouchAPIKey(f.ctx, want.ID, used))
	got, err = st.GetAPIKeyByHash(f.ctx, want.Hash)
	mustOK(t, "get touched key", err)
	if got.LastUsedAt == nil || !got.LastUsedAt.Equal(used.Truncate(time.Microsecond)) {
		t.Errorf("last used at: got %v, want %v", got.LastUsedAt, used)
	}
	mustOK(t, "touch a missing key", st.TouchAPIKey(f.ctx, ports.APIKeyID(newID()), used))

	err = st.DeleteAPIKey(f.ctx, other.ID, in.ID, want.ID)
	wantErr(t, "delete key as another tenant", err, ports.ENotFound, "")
	err = st.DeleteAPIKey(f.ctx, sub.ID, sibling.ID, want.ID)
	wantErr(t, "delete key through another instance", err, ports.ENotFound, "")
	mustOK(t, "delete key", st.DeleteAPIKey(f.ctx, sub.ID, in.ID, want.ID))
	_, err = st.GetAPIKeyByHash(f.ctx, want.Hash)
	wantErr(t, "get deleted key", err, ports.ENotFound, "")
	wantErr(t, "delete key again", st.DeleteAPIKey(f.ctx, sub.ID, in.ID, want.ID), ports.ENotFound, "")
}

func testAPIKeyPaging(t *testing.T, f *fixture) {
	sub, other := f.subscription(), f.subscription()
	in, sibling := f.instance(sub.ID, "sales"), f.instance(sub.ID, "support")
	var want []ports.APIKeyID
	for range 4 {
		want = append(want, f.apiKey(sub.ID, in.ID).ID)
		f.apiKey(sub.ID, sibling.ID)
	}
	got := collect(t, 2, 2, func(p ports.PageRequest) ([]ports.APIKeyID, string, error) {
		page, err := f.s.APIKeys.ListAPIKeys(f.ctx, sub.ID, in.ID, p)
		ids := make([]ports.APIKeyID, len(page.Items))
		for i, k := range page.Items {
			ids[i] = k.ID
		}
		return ids, page.Next, err
	})
	diff(t, "keys of one instance, oldest first", want, got)

	page, err := f.s.APIKeys.ListAPIKeys(f.ctx, other.ID, in.ID, ports.PageRequest{})
	mustOK(t, "list keys as another tenant", err)
	if len(page.Items) != 0 {
		t.Errorf("keys listed to another tenant: got %d, want 0", len(page.Items))
	}
}
