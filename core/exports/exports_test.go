package exports

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wagate/wagate/core/coretest"
	"github.com/wagate/wagate/ports"
)

// fakeExports keeps export rows in a map.
type fakeExports struct {
	rows map[ports.ExportID]ports.Export
}

func (f *fakeExports) CreateExport(_ context.Context, e ports.Export) error {
	for _, r := range f.rows {
		if r.SubscriptionID == e.SubscriptionID && (r.Status == ports.ExportPending || r.Status == ports.ExportRunning) {
			return ports.ReasonError(ports.EConflict, "export_running", "busy")
		}
	}
	f.rows[e.ID] = e
	return nil
}

func (f *fakeExports) GetExport(_ context.Context, sub ports.SubscriptionID, id ports.ExportID) (ports.Export, error) {
	e, ok := f.rows[id]
	if !ok || e.SubscriptionID != sub {
		return ports.Export{}, ports.Errorf(ports.ENotFound, "export not found")
	}
	return e, nil
}

func (f *fakeExports) ListExports(_ context.Context, sub ports.SubscriptionID, _ ports.PageRequest) (ports.Page[ports.Export], error) {
	var p ports.Page[ports.Export]
	for _, e := range f.rows {
		if e.SubscriptionID == sub {
			p.Items = append(p.Items, e)
		}
	}
	return p, nil
}

func (f *fakeExports) UpdateExport(ctx context.Context, sub ports.SubscriptionID, id ports.ExportID, fn func(*ports.Export) error) error {
	e, err := f.GetExport(ctx, sub, id)
	if err != nil {
		return err
	}
	if err := fn(&e); err != nil {
		return err
	}
	f.rows[id] = e
	return nil
}

func (f *fakeExports) ExpiredExports(_ context.Context, before time.Time, limit int) ([]ports.Export, error) {
	var out []ports.Export
	for _, e := range f.rows {
		if e.ExpiresAt.Before(before) && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, nil
}

func (f *fakeExports) DeleteExports(_ context.Context, sub ports.SubscriptionID, ids []ports.ExportID) (int, error) {
	n := 0
	for _, id := range ids {
		if e, ok := f.rows[id]; ok && e.SubscriptionID == sub {
			delete(f.rows, id)
			n++
		}
	}
	return n, nil
}

// fakeSource serves rows pageSize+1 messages long (two pages), one media
// file, and fails the first fail calls.
type fakeSource struct {
	messages int
	fail     int
	media    []byte
}

func (f *fakeSource) ExportPage(_ context.Context, _ ports.SubscriptionID, s ports.ExportSection, after string, limit int) ([]ports.ExportRow, error) {
	if f.fail > 0 {
		f.fail--
		return nil, ports.Errorf(ports.EUnavailable, "the database is busy")
	}
	var all []ports.ExportRow
	switch s {
	case ports.ExportMessages:
		for i := range f.messages {
			key := string(rune('a'+i/26/26%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i%26))
			all = append(all, ports.ExportRow{Key: key, Fields: []ports.ExportField{
				{Name: "id", Value: key}, {Name: "text", Value: "line one\nline \"two\""},
				{Name: "reactions", Value: json.RawMessage("{\n\"a\": 1}")}, {Name: "sentAt", Value: nil},
				{Name: "attempts", Value: int64(1)}, {Name: "createdAt", Value: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
			}})
		}
	case ports.ExportMedia:
		all = []ports.ExportRow{{Key: "msg1", Fields: []ports.ExportField{{Name: "messageId", Value: "msg1"}}}}
	}
	i, _ := slices.BinarySearchFunc(all, after, func(r ports.ExportRow, k string) int { return strings.Compare(r.Key, k) })
	if i < len(all) && all[i].Key == after {
		i++
	}
	return all[i:min(i+limit, len(all))], nil
}

func (f *fakeSource) CopyMedia(_ context.Context, _ ports.SubscriptionID, id ports.MessageID, w io.Writer) (int64, error) {
	n, err := w.Write(f.media)
	return int64(n), err
}

// fakeFiles keeps committed files in memory and counts the aborted runs.
type fakeFiles struct {
	files   map[ports.ExportID][]byte
	aborted int
}

type fakeWriter struct {
	bytes.Buffer
	f  *fakeFiles
	id ports.ExportID
}

func (w *fakeWriter) Commit() (int64, error) {
	w.f.files[w.id] = w.Bytes()
	return int64(w.Len()), nil
}
func (w *fakeWriter) Abort() { w.f.aborted++ }

func (f *fakeFiles) Create(id ports.ExportID) (ports.ExportFileWriter, error) {
	return &fakeWriter{f: f, id: id}, nil
}

type readSeekNopCloser struct{ *bytes.Reader }

func (readSeekNopCloser) Close() error { return nil }

func (f *fakeFiles) Open(id ports.ExportID) (io.ReadSeekCloser, error) {
	b, ok := f.files[id]
	if !ok {
		return nil, ports.Errorf(ports.ENotFound, "no file")
	}
	return readSeekNopCloser{bytes.NewReader(b)}, nil
}

func (f *fakeFiles) Remove(id ports.ExportID) error { delete(f.files, id); return nil }

type rig struct {
	svc    *Service
	rows   *fakeExports
	src    *fakeSource
	files  *fakeFiles
	queue  *coretest.Queue
	clock  *coretest.Clock
	store  *coretest.Store
	caller ports.Principal
}

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{
		rows: &fakeExports{rows: map[ports.ExportID]ports.Export{}}, src: &fakeSource{messages: pageSize + 1, media: []byte("\x89PNG image bytes")},
		files: &fakeFiles{files: map[ports.ExportID][]byte{}}, queue: &coretest.Queue{}, clock: coretest.NewClock(), store: coretest.NewStore(),
	}
	ids := &coretest.IDs{Prefix: "x"}
	r.caller = r.store.SeedAccount(ids, r.clock, ports.TierBasic, "owner@example.com")
	r.svc = New(Deps{
		Exports: r.rows, Source: r.src, Files: r.files, Queue: r.queue, Audit: r.store.Stores().Audit,
		Clock: r.clock, IDs: ids,
	})
	return r
}

// run takes the export's job off the queue and runs it as attempt n.
func (r *rig) run(t *testing.T, id ports.ExportID, attempt int) error {
	t.Helper()
	j, ok := r.queue.Job(string(id))
	if !ok {
		t.Fatalf("no job for export %s", id)
	}
	return r.svc.HandleRun(context.Background(), ports.Delivery{Job: j, Attempt: attempt})
}

func TestExportWritesJSONLinesAndMedia(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	e, err := r.svc.Request(ctx, r.caller)
	if err != nil || e.Status != ports.ExportPending {
		t.Fatalf("got %+v, %v, want a pending export", e, err)
	}
	if _, err := r.svc.Request(ctx, r.caller); ports.AsError(err) == nil || ports.AsError(err).Reason != "export_running" {
		t.Fatalf("got %v for a second export, want export_running", err)
	}
	if _, _, err := r.svc.Download(ctx, r.caller, e.ID); ports.AsError(err) == nil || ports.AsError(err).Reason != "export_not_ready" {
		t.Fatalf("got %v downloading a pending export, want export_not_ready", err)
	}
	if err := r.run(t, e.ID, 1); err != nil {
		t.Fatal(err)
	}
	done := r.rows.rows[e.ID]
	if done.Status != ports.ExportCompleted || done.SizeBytes != int64(len(r.files.files[e.ID])) || !done.ExpiresAt.Equal(r.clock.Now().Add(Keep)) {
		t.Fatalf("got %+v, want completed with the file's size, expiring in %s", done, Keep)
	}
	_, f, err := r.svc.Download(ctx, r.caller, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(f)
	zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, zf := range zr.File {
		rc, _ := zf.Open()
		b, _ := io.ReadAll(rc)
		got[zf.Name] = string(b)
	}
	lines := strings.Split(strings.TrimSuffix(got["messages.jsonl"], "\n"), "\n")
	if len(lines) != pageSize+1 {
		t.Fatalf("got %d message lines, want %d (two pages)", len(lines), pageSize+1)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &m); err != nil {
		t.Fatalf("line 1: %v: %s", err, lines[0])
	}
	if m["text"] != "line one\nline \"two\"" || m["sentAt"] != nil || m["attempts"] != 1.0 || m["createdAt"] != "2026-01-02T03:04:05Z" {
		t.Errorf("got %v, want the fields back", m)
	}
	if got["media/msg1"] != string(r.src.media) || !strings.Contains(got["media.jsonl"], `"file":"media/msg1"`) {
		t.Errorf("got media %q and %q, want the file and its line", got["media/msg1"], got["media.jsonl"])
	}
	if !strings.Contains(got["manifest.json"], `"rows": 501`) {
		t.Errorf("got the manifest %s, want 501 messages", got["manifest.json"])
	}
	if a := r.store.AuditActions(); !slices.Contains(a, "export.requested") || !slices.Contains(a, "export.downloaded") {
		t.Errorf("got the audit actions %v, want the request and the download", a)
	}

	r.clock.Advance(Keep + time.Second)
	if _, _, err := r.svc.Download(ctx, r.caller, e.ID); ports.AsError(err) == nil || ports.AsError(err).Reason != "export_expired" {
		t.Fatalf("got %v after the expiry, want export_expired", err)
	}
	if n, err := r.svc.Purge(ctx); n != 1 || err != nil || len(r.files.files) != 0 {
		t.Fatalf("got %d, %v and %d files from the purge, want 1 export and its file gone", n, err, len(r.files.files))
	}
}

// TestRetryStartsOver: a failed attempt commits nothing and leaves the
// export running; the last attempt fails it; both runs start the file
// from scratch.
func TestRetryStartsOver(t *testing.T) {
	r := newRig(t)
	e, err := r.svc.Request(context.Background(), r.caller)
	if err != nil {
		t.Fatal(err)
	}
	r.src.fail = 1
	if err := r.run(t, e.ID, 1); !ports.IsCode(err, ports.EUnavailable) {
		t.Fatalf("got %v, want the error back for a retry", err)
	}
	if st := r.rows.rows[e.ID].Status; st != ports.ExportRunning || len(r.files.files) != 0 || r.files.aborted != 1 {
		t.Fatalf("got %s, %d files, %d aborted, want running, no file, the part discarded", st, len(r.files.files), r.files.aborted)
	}
	if err := r.run(t, e.ID, 2); err != nil || r.rows.rows[e.ID].Status != ports.ExportCompleted {
		t.Fatalf("got %v, %s on the retry, want completed", err, r.rows.rows[e.ID].Status)
	}

	r.clock.Advance(time.Minute)
	e2 := ports.Export{ID: "second", SubscriptionID: r.caller.SubscriptionID, Status: ports.ExportPending, ExpiresAt: r.clock.Now().Add(Keep)}
	r.rows.rows[e2.ID] = e2
	r.queue.Put(ports.Job{ID: "second", Type: JobRun, Payload: []byte(`{"sub":"` + string(e2.SubscriptionID) + `","id":"second"}`)})
	r.src.fail = 100
	if err := r.run(t, e2.ID, runAttempts); err != nil {
		t.Fatalf("got %v on the last attempt, want nil (the export fails instead)", err)
	}
	if got := r.rows.rows[e2.ID]; got.Status != ports.ExportFailed || got.Error == "" {
		t.Fatalf("got %+v, want failed with a reason", got)
	}
}

// TestDeletedMeanwhile: an export erased while its job ran leaves no
// file behind.
func TestDeletedMeanwhile(t *testing.T) {
	r := newRig(t)
	e, err := r.svc.Request(context.Background(), r.caller)
	if err != nil {
		t.Fatal(err)
	}
	// The erasure lands after the job started: the row goes as the
	// source is read.
	r.src.messages = 1
	orig := r.rows
	r.svc.d.Source = deletingSource{r.src, func() { delete(orig.rows, e.ID) }}
	r.rows.rows[e.ID] = ports.Export{ID: e.ID, SubscriptionID: e.SubscriptionID, Status: ports.ExportPending, ExpiresAt: e.ExpiresAt}
	if err := r.run(t, e.ID, 1); err != nil {
		t.Fatal(err)
	}
	if len(r.files.files) != 0 {
		t.Fatalf("got %d files, want the deleted export's removed", len(r.files.files))
	}
	if n, err := r.svc.DeleteAll(context.Background(), r.caller.SubscriptionID); n != 0 || err != nil {
		t.Fatalf("got %d, %v, want nothing left to delete", n, err)
	}
}

type deletingSource struct {
	*fakeSource
	del func()
}

func (d deletingSource) ExportPage(ctx context.Context, sub ports.SubscriptionID, s ports.ExportSection, after string, limit int) ([]ports.ExportRow, error) {
	d.del()
	return d.fakeSource.ExportPage(ctx, sub, s, after, limit)
}
