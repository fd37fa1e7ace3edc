package storetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wagate/wagate/ports"
)

// ExportBackend is a backend with the stores of data exports.
type ExportBackend interface {
	Backend
	Exports() ports.ExportStore
	ExportSource() ports.ExportSource
}

// RunExports runs the conformance tests of ports.ExportStore and
// ports.ExportSource. open is called once per test and must return an
// empty, migrated backend of its own, closed when t ends.
func RunExports(t *testing.T, open func(t *testing.T) ExportBackend) {
	tests := []struct {
		name string
		fn   func(t *testing.T, f *fixture, b ExportBackend)
	}{
		{"Rows", testExportRows},
		{"SourcePages", testExportSourcePages},
		{"SourceLeavesSecretsOut", testExportSourceSecrets},
		{"SourceMedia", testExportSourceMedia},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := open(t)
			tc.fn(t, &fixture{t: t, ctx: t.Context(), b: b, s: b.Stores()}, b)
		})
	}
}

func newExport(sub ports.SubscriptionID, created time.Time) ports.Export {
	return ports.Export{
		ID: ports.ExportID(newID()), SubscriptionID: sub, RequestedBy: "u1", Status: ports.ExportPending,
		CreatedAt: created, UpdatedAt: created, ExpiresAt: created.Add(24 * time.Hour),
	}
}

// testExportRows: one unfinished export per subscription, freed when it
// finishes; another tenant's is not found; lists page newest first; the
// expired ones are found across tenants; deletes stay within the tenant.
func testExportRows(t *testing.T, f *fixture, b ExportBackend) {
	st := b.Exports()
	sub, other := f.subscription(), f.subscription()
	e1 := newExport(sub.ID, base)
	mustOK(t, "create export", st.CreateExport(f.ctx, e1))
	err := st.CreateExport(f.ctx, newExport(sub.ID, base))
	if pe := ports.AsError(err); pe == nil || pe.Code != ports.EConflict || pe.Reason != "export_running" {
		t.Fatalf("second unfinished export: got %v, want conflict export_running", err)
	}
	mustOK(t, "another tenant's export", st.CreateExport(f.ctx, newExport(other.ID, base)))
	_, err = st.GetExport(f.ctx, other.ID, e1.ID)
	wantCode(t, "get another tenant's export", err, ports.ENotFound)
	wantCode(t, "update another tenant's export", st.UpdateExport(f.ctx, other.ID, e1.ID, func(*ports.Export) error { return nil }), ports.ENotFound)

	done := base.Add(time.Minute)
	mustOK(t, "complete", st.UpdateExport(f.ctx, sub.ID, e1.ID, func(e *ports.Export) error {
		e.Status, e.SizeBytes, e.CompletedAt, e.UpdatedAt, e.ExpiresAt = ports.ExportCompleted, 1234, &done, done, done.Add(24*time.Hour)
		return nil
	}))
	got, err := st.GetExport(f.ctx, sub.ID, e1.ID)
	mustOK(t, "get export", err)
	want := e1
	want.Status, want.SizeBytes, want.CompletedAt, want.UpdatedAt, want.ExpiresAt = ports.ExportCompleted, 1234, &done, done, done.Add(24*time.Hour)
	diff(t, "completed export", want, got)
	if got.CreatedAt.Location() != time.UTC {
		t.Errorf("got createdAt in %s, want UTC", got.CreatedAt.Location())
	}

	e2 := newExport(sub.ID, base.Add(time.Hour))
	mustOK(t, "a new export once the first finished", st.CreateExport(f.ctx, e2))
	page, err := st.ListExports(f.ctx, sub.ID, ports.PageRequest{Limit: 1})
	mustOK(t, "list exports", err)
	if len(page.Items) != 1 || page.Items[0].ID != e2.ID || page.Next == "" {
		t.Fatalf("first page: got %+v, want the newest with a next cursor", page)
	}
	page, err = st.ListExports(f.ctx, sub.ID, ports.PageRequest{Limit: 1, After: page.Next})
	mustOK(t, "list exports", err)
	if len(page.Items) != 1 || page.Items[0].ID != e1.ID || page.Next != "" {
		t.Fatalf("second page: got %+v, want the oldest and no next cursor", page)
	}

	expired, err := st.ExpiredExports(f.ctx, base.Add(24*time.Hour+time.Second), 10)
	mustOK(t, "expired exports", err)
	if len(expired) != 1 || expired[0].SubscriptionID != other.ID {
		t.Fatalf("expired: got %+v, want the other tenant's only (the first was pushed on by its completion)", expired)
	}
	n, err := st.DeleteExports(f.ctx, other.ID, []ports.ExportID{e1.ID, e2.ID})
	if n != 0 || err != nil {
		t.Fatalf("delete another tenant's exports: got %d, %v, want 0, nil", n, err)
	}
	n, err = st.DeleteExports(f.ctx, sub.ID, []ports.ExportID{e1.ID, e2.ID, "missing"})
	if n != 2 || err != nil {
		t.Fatalf("delete exports: got %d, %v, want 2, nil", n, err)
	}
	mustOK(t, "create after the delete freed the slot", st.CreateExport(f.ctx, newExport(sub.ID, base)))
}

// allRows reads a whole section a page of limit rows at a time.
func allRows(t *testing.T, f *fixture, src ports.ExportSource, sub ports.SubscriptionID, s ports.ExportSection, limit int) []ports.ExportRow {
	t.Helper()
	var out []ports.ExportRow
	after := ""
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatalf("%s: the pages do not end", s)
		}
		rows, err := src.ExportPage(f.ctx, sub, s, after, limit)
		mustOK(t, "export page "+string(s), err)
		out = append(out, rows...)
		if len(rows) < limit {
			return out
		}
		after = rows[len(rows)-1].Key
	}
}

func field(r ports.ExportRow, name string) any {
	for _, fl := range r.Fields {
		if fl.Name == name {
			return fl.Value
		}
	}
	return nil
}

// testExportSourcePages: the pages of a section hold each of the
// tenant's rows once, across instances and page boundaries, and nothing
// of another tenant; values come typed (strings, int64, UTC times, JSON).
func testExportSourcePages(t *testing.T, f *fixture, b ExportBackend) {
	src := b.ExportSource()
	sub, other := f.subscription(), f.subscription()
	var want []string
	for _, name := range []string{"one", "two", "three"} {
		inst := f.instance(sub.ID, name)
		for i := range 4 {
			m := f.message(inst, base.Add(time.Duration(i)*time.Second), func(m *ports.Message) {
				m.Text = fmt.Sprintf("text %s %d\nwith \"quotes\"", name, i)
				m.Mentions = []string{"4915112345678@s.whatsapp.net"}
			})
			want = append(want, string(m.ID))
		}
	}
	f.message(f.instance(other.ID, "theirs"), base, nil)
	for _, limit := range []int{1, 5, 12, 500} {
		rows := allRows(t, f, src, sub.ID, ports.ExportMessages, limit)
		var got []string
		for _, r := range rows {
			got = append(got, field(r, "id").(string))
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("limit %d: got %d messages %v, want the tenant's %d once each", limit, len(got), got, len(want))
		}
	}
	r := allRows(t, f, src, sub.ID, ports.ExportMessages, 100)[0]
	if v, ok := field(r, "attempts").(int64); !ok || v != 0 {
		t.Errorf("attempts: got %#v, want int64 0", field(r, "attempts"))
	}
	if v, ok := field(r, "createdAt").(time.Time); !ok || v.Location() != time.UTC {
		t.Errorf("createdAt: got %#v, want a UTC time", field(r, "createdAt"))
	}
	if v, ok := field(r, "mentions").(json.RawMessage); !ok || !strings.Contains(string(v), "4915112345678") {
		t.Errorf("mentions: got %#v, want the JSON document", field(r, "mentions"))
	}
	if field(r, "sentAt") != nil {
		t.Errorf("sentAt: got %#v, want nil", field(r, "sentAt"))
	}
	_, err := src.ExportPage(f.ctx, sub.ID, "passwords", "", 10)
	wantCode(t, "unknown section", err, ports.EInvalid)
	_, err = src.ExportPage(f.ctx, sub.ID, ports.ExportMessages, "a cursor this store did not make", 10)
	wantCode(t, "bad cursor", err, ports.EInvalid)
}

// testExportSourceSecrets: no section holds a password hash, an API key
// hash or a webhook secret, and the sections that have them leave their
// columns out.
func testExportSourceSecrets(t *testing.T, f *fixture, b ExportBackend) {
	src := b.ExportSource()
	sub := f.subscription()
	u := f.user(sub.ID, "owner@example.com")
	inst := f.instance(sub.ID, "one")
	k := f.apiKey(sub.ID, inst.ID)
	w := f.webhook(inst, base)
	f.delivery(w, base)
	f.template(sub.ID, "welcome")
	secrets := [][]byte{[]byte(u.PasswordHash), []byte(w.Secret), k.Hash, []byte(fmt.Sprintf("%x", k.Hash))}
	for _, s := range ports.ExportSections() {
		rows := allRows(t, f, src, sub.ID, s, 100)
		enc, err := json.Marshal(rows)
		mustOK(t, "encode "+string(s), err)
		for _, secret := range secrets {
			if bytes.Contains(enc, secret) {
				t.Errorf("%s holds a secret", s)
			}
		}
		for _, r := range rows {
			for _, fl := range r.Fields {
				if n := strings.ToLower(fl.Name); strings.Contains(n, "hash") && n != "sha256" || strings.Contains(n, "secret") || strings.Contains(n, "password") {
					t.Errorf("%s has the field %s", s, fl.Name)
				}
			}
		}
		switch s {
		case ports.ExportMembers, ports.ExportInstances, ports.ExportAPIKeys, ports.ExportWebhooks, ports.ExportDeliveries, ports.ExportTemplates:
			if len(rows) != 1 {
				t.Errorf("%s: got %d rows, want 1", s, len(rows))
			}
		}
	}
}

// testExportSourceMedia: a file larger than a read's chunk comes back
// byte for byte; another tenant's is not found.
func testExportSourceMedia(t *testing.T, f *fixture, b ExportBackend) {
	src := b.ExportSource()
	sub, other := f.subscription(), f.subscription()
	m := f.message(f.instance(sub.ID, "one"), base, func(m *ports.Message) { m.Type = ports.MessageDocument })
	md := mediaOf(m.ID, 3<<20/2) // 1.5 MiB: two chunks
	mustOK(t, "put media", f.s.Media.PutMedia(f.ctx, sub.ID, md))
	var buf bytes.Buffer
	n, err := src.CopyMedia(f.ctx, sub.ID, m.ID, &buf)
	mustOK(t, "copy media", err)
	if n != int64(len(md.Data)) || !bytes.Equal(buf.Bytes(), md.Data) {
		t.Fatalf("copy media: got %d bytes (%d reported), want the %d stored", buf.Len(), n, len(md.Data))
	}
	_, err = src.CopyMedia(f.ctx, other.ID, m.ID, &bytes.Buffer{})
	wantCode(t, "copy another tenant's media", err, ports.ENotFound)
	rows := allRows(t, f, src, sub.ID, ports.ExportMedia, 10)
	if len(rows) != 1 || rows[0].Key != string(m.ID) || field(rows[0], "size") != int64(len(md.Data)) {
		t.Fatalf("media rows: got %+v, want the one file keyed by its message id", rows)
	}
}
