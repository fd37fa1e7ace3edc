package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/wagate/wagate/ports"
)

func testInstances(t *testing.T, f *fixture) {
	st := f.s.Instances
	sub, other := f.subscription(), f.subscription()
	connected := base.Add(time.Second)
	want := ports.Instance{
		ID: ports.InstanceID(newID()), SubscriptionID: sub.ID, Name: "sales", Status: ports.StatusConnected,
		StatusReason: "", PhoneNumber: "+4915112345678", JID: "4915112345678@s.whatsapp.net", PushName: "Sales",
		Metadata: map[string]any{"team": "north", "seats": float64(3), "tags": []any{"a", "b"}},
		ProxyURL: "socks5://proxy:1080", CreatedAt: base, UpdatedAt: base, LastConnectedAt: &connected,
	}
	mustOK(t, "create instance", st.CreateInstance(f.ctx, sub.ID, want))

	got, err := st.GetInstance(f.ctx, sub.ID, want.ID)
	mustOK(t, "get instance", err)
	diff(t, "instance", want, got)
	wantUTC(t, "created at", got.CreatedAt)
	wantUTC(t, "last connected at", *got.LastConnectedAt)

	_, err = st.GetInstance(f.ctx, other.ID, want.ID)
	wantErr(t, "get another tenant's instance", err, ports.ENotFound, "")
	_, err = st.GetInstance(f.ctx, sub.ID, ports.InstanceID(newID()))
	wantErr(t, "get missing instance", err, ports.ENotFound, "")

	dup := want
	dup.ID = ports.InstanceID(newID())
	wantErr(t, "create duplicate name", st.CreateInstance(f.ctx, sub.ID, dup), ports.EConflict, "name_taken")
	dup.SubscriptionID = other.ID
	mustOK(t, "create the same name in another subscription", st.CreateInstance(f.ctx, other.ID, dup))

	bare := f.instance(sub.ID, "support")
	got, err = st.GetInstance(f.ctx, sub.ID, bare.ID)
	mustOK(t, "get instance without metadata", err)
	diff(t, "instance without metadata", bare, got)

	for _, tc := range []struct {
		sub  ports.SubscriptionID
		want int
	}{{sub.ID, 2}, {other.ID, 1}, {ports.SubscriptionID(newID()), 0}} {
		n, err := st.CountInstances(f.ctx, tc.sub)
		mustOK(t, "count instances", err)
		if n != tc.want {
			t.Errorf("count instances of %s: got %d, want %d", tc.sub, n, tc.want)
		}
	}
}

func testInstanceUpdate(t *testing.T, f *fixture) {
	st := f.s.Instances
	sub, other := f.subscription(), f.subscription()
	in := f.instance(sub.ID, "sales")
	f.instance(sub.ID, "support")
	later := base.Add(time.Hour)

	got, err := st.UpdateInstance(f.ctx, sub.ID, in.ID, func(i *ports.Instance) error {
		i.Name = "sales-eu"
		i.Status = ports.StatusQR
		i.Metadata = map[string]any{"region": "eu"}
		i.LastConnectedAt = &later
		i.UpdatedAt = later
		return nil
	})
	mustOK(t, "update instance", err)
	want := in
	want.Name, want.Status, want.Metadata, want.LastConnectedAt, want.UpdatedAt =
		"sales-eu", ports.StatusQR, map[string]any{"region": "eu"}, &later, later
	diff(t, "updated instance", want, got)

	got, err = st.UpdateInstance(f.ctx, sub.ID, in.ID, func(i *ports.Instance) error {
		i.Metadata, i.LastConnectedAt = nil, nil
		return nil
	})
	mustOK(t, "clear optional fields", err)
	want.Metadata, want.LastConnectedAt = nil, nil
	diff(t, "instance with cleared fields", want, got)

	_, err = st.UpdateInstance(f.ctx, sub.ID, in.ID, func(i *ports.Instance) error {
		i.Name = "support"
		return nil
	})
	wantErr(t, "rename to a taken name", err, ports.EConflict, "name_taken")

	boom := errors.New("boom")
	_, err = st.UpdateInstance(f.ctx, sub.ID, in.ID, func(i *ports.Instance) error {
		i.Status = ports.StatusLoggedOut
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("update with failing fn: got %v, want the fn's error", err)
	}
	stored, err := st.GetInstance(f.ctx, sub.ID, in.ID)
	mustOK(t, "get instance", err)
	diff(t, "instance after aborted updates", want, stored)

	_, err = st.UpdateInstance(f.ctx, other.ID, in.ID, func(*ports.Instance) error {
		t.Error("fn called for another tenant's instance")
		return nil
	})
	wantErr(t, "update another tenant's instance", err, ports.ENotFound, "")
}

func testInstancePaging(t *testing.T, f *fixture) {
	sub, other := f.subscription(), f.subscription()
	var want []ports.InstanceID
	for i := range 7 {
		want = append(want, f.instance(sub.ID, fmt.Sprintf("inst-%d", i)).ID)
		f.instance(other.ID, fmt.Sprintf("inst-%d", i))
	}
	got := collect(t, 3, 3, func(p ports.PageRequest) ([]ports.InstanceID, string, error) {
		page, err := f.s.Instances.ListInstances(f.ctx, sub.ID, p)
		ids := make([]ports.InstanceID, len(page.Items))
		for i, in := range page.Items {
			ids[i] = in.ID
			if in.SubscriptionID != sub.ID {
				t.Errorf("listed instance of subscription %s, want only %s", in.SubscriptionID, sub.ID)
			}
		}
		return ids, page.Next, err
	})
	diff(t, "instances oldest first", want, got)

	page, err := f.s.Instances.ListInstances(f.ctx, ports.SubscriptionID(newID()), ports.PageRequest{})
	mustOK(t, "list instances of an empty subscription", err)
	if len(page.Items) != 0 || page.Next != "" {
		t.Errorf("empty list: got %d items and next %q, want none and \"\"", len(page.Items), page.Next)
	}
}

func testInstanceDelete(t *testing.T, f *fixture) {
	st := f.s.Instances
	sub, other := f.subscription(), f.subscription()
	doomed, kept := f.instance(sub.ID, "doomed"), f.instance(sub.ID, "kept")
	doomedKey, keptKey := f.apiKey(sub.ID, doomed.ID), f.apiKey(sub.ID, kept.ID)

	wantErr(t, "delete another tenant's instance", st.DeleteInstance(f.ctx, other.ID, doomed.ID), ports.ENotFound, "")
	_, err := st.GetInstance(f.ctx, sub.ID, doomed.ID)
	mustOK(t, "instance survives another tenant's delete", err)

	mustOK(t, "delete instance", st.DeleteInstance(f.ctx, sub.ID, doomed.ID))
	_, err = st.GetInstance(f.ctx, sub.ID, doomed.ID)
	wantErr(t, "get deleted instance", err, ports.ENotFound, "")
	_, err = f.s.APIKeys.GetAPIKeyByHash(f.ctx, doomedKey.Hash)
	wantErr(t, "get key of deleted instance", err, ports.ENotFound, "")
	_, err = f.s.APIKeys.GetAPIKeyByHash(f.ctx, keptKey.Hash)
	mustOK(t, "key of another instance survives", err)

	wantErr(t, "delete again", st.DeleteInstance(f.ctx, sub.ID, doomed.ID), ports.ENotFound, "")
}
