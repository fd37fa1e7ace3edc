package storetest

import (
	"testing"
	"time"

	"github.com/wagate/wagate/ports"
)

// DirectoryBackend is a Backend that also offers the system-level view of
// instances.
type DirectoryBackend interface {
	Backend
	Directory() ports.InstanceDirectory
}

// RunInstanceDirectory runs the conformance tests of
// ports.InstanceDirectory. open is called once per test and must return an
// empty, migrated backend of its own, closed when t ends.
func RunInstanceDirectory(t *testing.T, open func(t *testing.T) DirectoryBackend) {
	tests := []struct {
		name string
		fn   func(t *testing.T, f *fixture, dir ports.InstanceDirectory)
	}{
		{"ListByStatus", testDirectoryListByStatus},
		{"ListByStatusPaging", testDirectoryPaging},
		{"Lookup", testDirectoryLookup},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := open(t)
			tc.fn(t, &fixture{t: t, ctx: t.Context(), b: b, s: b.Stores()}, b.Directory())
		})
	}
}

// instanceIn creates an instance in the given status; created is its
// creation time, which orders lists.
func (f *fixture) instanceIn(sub ports.SubscriptionID, name string, st ports.InstanceStatus, created time.Time) ports.Instance {
	f.t.Helper()
	i := ports.Instance{
		ID: ports.InstanceID(newID()), SubscriptionID: sub, Name: name, Status: st,
		CreatedAt: created, UpdatedAt: created,
	}
	if st == ports.StatusConnected || st == ports.StatusConnecting {
		i.JID = "4915112345678:7@s.whatsapp.net"
		i.PhoneNumber = "4915112345678"
	}
	if err := f.s.Instances.CreateInstance(f.ctx, sub, i); err != nil {
		f.t.Fatalf("create instance %s: %v", name, err)
	}
	return i
}

func ids(items []ports.Instance) []ports.InstanceID {
	out := make([]ports.InstanceID, len(items))
	for i, in := range items {
		out[i] = in.ID
	}
	return out
}

func testDirectoryListByStatus(t *testing.T, f *fixture, dir ports.InstanceDirectory) {
	a, b := f.subscription(), f.subscription()
	a1 := f.instanceIn(a.ID, "a1", ports.StatusConnected, base)
	a2 := f.instanceIn(a.ID, "a2", ports.StatusConnecting, base.Add(time.Second))
	f.instanceIn(a.ID, "a3", ports.StatusCreated, base.Add(2*time.Second))
	b1 := f.instanceIn(b.ID, "b1", ports.StatusConnected, base.Add(3*time.Second))
	f.instanceIn(b.ID, "b2", ports.StatusLoggedOut, base.Add(4*time.Second))
	b3 := f.instanceIn(b.ID, "b3", ports.StatusQR, base.Add(5*time.Second))

	for _, tc := range []struct {
		statuses []ports.InstanceStatus
		want     []ports.InstanceID
	}{
		{[]ports.InstanceStatus{ports.StatusConnected, ports.StatusConnecting}, []ports.InstanceID{a1.ID, a2.ID, b1.ID}},
		{[]ports.InstanceStatus{ports.StatusQR}, []ports.InstanceID{b3.ID}},
		{[]ports.InstanceStatus{ports.StatusDisconnected}, []ports.InstanceID{}},
		{nil, []ports.InstanceID{}},
	} {
		page, err := dir.ListInstancesByStatus(f.ctx, tc.statuses, ports.PageRequest{})
		mustOK(t, "list instances by status", err)
		diff(t, "instances in "+statusNames(tc.statuses), tc.want, ids(page.Items))
		if page.Next != "" {
			t.Errorf("next cursor of a complete list: got %q, want none", page.Next)
		}
	}

	page, err := dir.ListInstancesByStatus(f.ctx, []ports.InstanceStatus{ports.StatusConnected}, ports.PageRequest{})
	mustOK(t, "list connected instances", err)
	if len(page.Items) != 2 {
		t.Fatalf("connected instances: got %d, want 2", len(page.Items))
	}
	diff(t, "listed instance", a1, page.Items[0])

	_, err = dir.ListInstancesByStatus(f.ctx, []ports.InstanceStatus{ports.StatusConnected}, ports.PageRequest{After: "not a cursor!"})
	wantErr(t, "list with a bad cursor", err, ports.EInvalid, "")
}

func statusNames(sts []ports.InstanceStatus) string {
	s := "["
	for i, st := range sts {
		if i > 0 {
			s += " "
		}
		s += string(st)
	}
	return s + "]"
}

func testDirectoryPaging(t *testing.T, f *fixture, dir ports.InstanceDirectory) {
	var want []ports.InstanceID
	for i := range 5 {
		sub := f.subscription()
		want = append(want, f.instanceIn(sub.ID, "sales", ports.StatusConnected, base.Add(time.Duration(i)*time.Second)).ID)
		f.instanceIn(sub.ID, "support", ports.StatusDisconnected, base.Add(time.Duration(i)*time.Second))
	}
	var got []ports.InstanceID
	req := ports.PageRequest{Limit: 2}
	for pages := 0; ; pages++ {
		if pages > len(want) {
			t.Fatalf("paging does not end: got %v so far", got)
		}
		page, err := dir.ListInstancesByStatus(f.ctx, []ports.InstanceStatus{ports.StatusConnected}, req)
		mustOK(t, "list page", err)
		got = append(got, ids(page.Items)...)
		if page.Next == "" {
			break
		}
		req.After = page.Next
	}
	diff(t, "instances over all pages", want, got)
}

func testDirectoryLookup(t *testing.T, f *fixture, dir ports.InstanceDirectory) {
	a, b := f.subscription(), f.subscription()
	ia := f.instanceIn(a.ID, "sales", ports.StatusConnected, base)
	ib := f.instanceIn(b.ID, "sales", ports.StatusCreated, base)
	for _, want := range []ports.Instance{ia, ib} {
		got, err := dir.LookupInstance(f.ctx, want.ID)
		mustOK(t, "look up instance", err)
		diff(t, "looked-up instance", want, got)
	}
	_, err := dir.LookupInstance(f.ctx, ports.InstanceID(newID()))
	wantErr(t, "look up a missing instance", err, ports.ENotFound, "")
	mustOK(t, "delete instance", f.s.Instances.DeleteInstance(f.ctx, a.ID, ia.ID))
	_, err = dir.LookupInstance(f.ctx, ia.ID)
	wantErr(t, "look up a deleted instance", err, ports.ENotFound, "")
}
