package e2e

import (
	"archive/zip"
	"bufio"
	"bytes"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wagate/wagate/adapters/wasim"
)

// TestExport (SPEC §18): an owner's export of a seeded subscription is a
// ZIP whose every file is valid JSON Lines, whose counts match the
// database, whose media file is the bytes sent, and in which none of the
// seeded secrets appears; viewers and developers are refused, another
// tenant's export is 404, a second one while one is unfinished is 409, an
// expired one is 410, and an erasure deletes the exports. On SQLite with
// the embedded queue, and PostgreSQL with asynq on Redis.
func TestExport(t *testing.T) {
	sim := simulator(t, wasim.Options{ReceiptDelay: receiptDelay})
	for _, b := range []backend{sqlite, postgresRedis} {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			exportFlow(t, b, sim)
		})
	}
}

func exportFlow(t *testing.T, b backend, sim *wasim.Server) {
	env := sandboxEnv(t, b, sim)
	env["WAGATE_WEBHOOK_ALLOW_PRIVATE"] = "true"
	s := startOwned(t, b.name, env)
	db := openTestDB(t, env)
	a := s.register(t)
	inst := linkedInstance(t, s, a.Access, "export")
	_, key := s.createKey(t, a.Access, inst, map[string]any{"name": "sender"})
	rcv := newReceiver(t)
	_, whSecret := createWebhook(t, s, a.Access, inst, map[string]any{"url": rcv.srv.URL, "events": []string{"*"}})
	wantStatus(t, s.do(t, "POST", "/api/v1/templates", a.Access, map[string]any{"name": "welcome", "body": "Hi {{ name }}"}), http.StatusCreated)
	viewer, developer := s.join(t, a.Access, "viewer"), s.join(t, a.Access, "developer")

	phone := newPhone()
	for _, text := range []string{"one", "two\nlines", `quote " and \ backslash`} {
		wantStatus(t, s.do(t, "POST", "/api/v1/messages/text", key, map[string]any{"to": phone, "text": text}), http.StatusAccepted)
		received(t, sim, phone)
	}
	png := fileWith(pngHead, 3000)
	r := s.do(t, "POST", "/api/v1/messages/image", key, map[string]any{
		"to": phone, "caption": "picture", "media": map[string]any{"base64": base64.StdEncoding.EncodeToString(png), "mimeType": "image/png"},
	})
	wantStatus(t, r, http.StatusAccepted)
	imageID := str(r.JSON, "id")
	received(t, sim, phone)
	wantStatus(t, s.do(t, "POST", "/api/v1/sandbox/instances/"+inst+"/inbound", a.Access, map[string]any{"from": phone, "text": "reply"}), http.StatusAccepted)
	waitUntil(t, "the inbound message and the deliveries", func() bool {
		return count(t, db, "messages", a.SubID) == 5 && count(t, db, "webhook_deliveries", a.SubID) > 0
	})

	// Roles, bad input and other tenants.
	for _, m := range []member{viewer, developer} {
		wantProblem(t, s.do(t, "POST", "/api/v1/exports", m.Access, nil), http.StatusForbidden, "insufficient_role")
		wantProblem(t, s.do(t, "GET", "/api/v1/exports", m.Access, nil), http.StatusForbidden, "insufficient_role")
	}
	wantProblem(t, s.do(t, "POST", "/api/v1/exports", key, nil), http.StatusForbidden, "forbidden")
	wantProblem(t, s.do(t, "POST", "/api/v1/exports", a.Access, "{"), http.StatusBadRequest, "invalid_json")
	wantProblem(t, s.do(t, "POST", "/api/v1/exports", a.Access, map[string]any{"format": "csv"}), http.StatusUnprocessableEntity, "validation_failed")
	wantProblem(t, s.do(t, "GET", "/api/v1/exports?limit=x", a.Access, nil), http.StatusUnprocessableEntity, "validation_failed")
	wantProblem(t, s.do(t, "GET", "/api/v1/exports?cursor=%00", a.Access, nil), http.StatusUnprocessableEntity, "validation_failed")
	for _, bad := range []string{"nope", "%00", strings.Repeat("x", 300), "..%2F..%2Fwagate.db"} {
		wantProblem(t, s.do(t, "GET", "/api/v1/exports/"+bad, a.Access, nil), http.StatusNotFound, "not_found")
		wantProblem(t, s.do(t, "GET", "/api/v1/exports/"+bad+"/download", a.Access, nil), http.StatusNotFound, "not_found")
	}

	// The export.
	r = s.do(t, "POST", "/api/v1/exports", a.Access, map[string]any{})
	wantStatus(t, r, http.StatusAccepted)
	id := str(r.JSON, "id")
	if st := str(r.JSON, "status"); id == "" || (st != "pending" && st != "running" && st != "completed") {
		t.Fatalf("%s: want an id and status pending", r)
	}
	for _, m := range []member{viewer, developer} {
		wantProblem(t, s.do(t, "GET", "/api/v1/exports/"+id, m.Access, nil), http.StatusForbidden, "insufficient_role")
		wantProblem(t, s.do(t, "GET", "/api/v1/exports/"+id+"/download", m.Access, nil), http.StatusForbidden, "insufficient_role")
	}
	stranger := s.register(t)
	wantProblem(t, s.do(t, "GET", "/api/v1/exports/"+id, stranger.Access, nil), http.StatusNotFound, "not_found")
	wantProblem(t, s.do(t, "GET", "/api/v1/exports/"+id+"/download", stranger.Access, nil), http.StatusNotFound, "not_found")
	var done map[string]any
	waitUntil(t, "the export completed", func() bool {
		r := s.do(t, "GET", "/api/v1/exports/"+id, a.Access, nil)
		wantStatus(t, r, http.StatusOK)
		if str(r.JSON, "status") == "failed" {
			t.Fatalf("%s: the export failed", r)
		}
		done = r.JSON
		return str(r.JSON, "status") == "completed"
	})
	wantKeys(t, "export", done, "id", "status", "sizeBytes", "createdAt", "completedAt", "expiresAt")
	if exp, _ := time.Parse(time.RFC3339, str(done, "expiresAt")); time.Until(exp) < 23*time.Hour || time.Until(exp) > 25*time.Hour {
		t.Errorf("%v: want it to expire in 24 h", done)
	}
	data, next := list(t, s.do(t, "GET", "/api/v1/exports", a.Access, nil))
	if len(data) != 1 || str(data[0], "id") != id || next != "" {
		t.Errorf("got the list %v, want the one export", data)
	}

	r = s.do(t, "GET", "/api/v1/exports/"+id+"/download", a.Access, nil)
	wantStatus(t, r, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); ct != "application/zip" {
		t.Errorf("got Content-Type %q, want application/zip", ct)
	}
	if cd := r.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") || !strings.Contains(cd, ".zip") {
		t.Errorf("got Content-Disposition %q, want an attachment .zip", cd)
	}
	if int64(len(r.Body)) != int64(num(done, "sizeBytes")) {
		t.Errorf("got %d bytes, want sizeBytes %v", len(r.Body), done["sizeBytes"])
	}
	files := readZip(t, r.Body)

	// Every section is JSON Lines with the database's count.
	want := map[string]int{
		"members.jsonl": count(t, db, "users", a.SubID), "instances.jsonl": 1, "api_keys.jsonl": 1,
		"messages.jsonl": 5, "media.jsonl": 1, "templates.jsonl": 1, "bulks.jsonl": 0, "webhooks.jsonl": 1,
		"audit_log.jsonl": -1, "deliveries.jsonl": -1, "stats.jsonl": -1,
	}
	if want["members.jsonl"] != 3 {
		t.Fatalf("got %d members in the database, want 3", want["members.jsonl"])
	}
	rows := map[string][]map[string]any{}
	for name, n := range want {
		body, ok := files[name]
		if !ok {
			t.Errorf("the ZIP has no %s (it has %d files)", name, len(files))
			continue
		}
		rows[name] = jsonLines(t, name, body)
		if n >= 0 && len(rows[name]) != n {
			t.Errorf("%s: got %d rows, want %d", name, len(rows[name]), n)
		}
	}
	// Rows that keep being written (deliveries of receipts, the audit of
	// the download, API call counts) are at least there.
	for name, table := range map[string]string{"deliveries.jsonl": "webhook_deliveries", "audit_log.jsonl": "audit_logs", "stats.jsonl": "daily_stats"} {
		if n := len(rows[name]); n == 0 || n > count(t, db, table, a.SubID) {
			t.Errorf("%s: got %d rows, want 1 to %d (the database's count)", name, n, count(t, db, table, a.SubID))
		}
	}
	var manifest struct {
		Sections []struct {
			File string `json:"file"`
			Rows int    `json:"rows"`
		} `json:"sections"`
		MediaFiles int `json:"mediaFiles"`
	}
	if err := json.Unmarshal(files["manifest.json"], &manifest); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	for _, sec := range manifest.Sections {
		if sec.Rows != len(rows[sec.File]) {
			t.Errorf("manifest: %s has %d rows, the file %d", sec.File, sec.Rows, len(rows[sec.File]))
		}
	}
	if manifest.MediaFiles != 1 {
		t.Errorf("manifest: got %d media files, want 1", manifest.MediaFiles)
	}

	// The media file is the bytes sent.
	if len(rows["media.jsonl"]) == 1 {
		m := rows["media.jsonl"][0]
		sum := sha256.Sum256(png)
		if str(m, "messageId") != imageID || str(m, "sha256") != hex.EncodeToString(sum[:]) || str(m, "mimeType") != "image/png" {
			t.Errorf("got the media line %v, want message %s, its sha256 and image/png", m, imageID)
		}
		if got := files[str(m, "file")]; !bytes.Equal(got, png) {
			t.Errorf("the ZIP's %s has %d bytes, want the %d bytes sent", str(m, "file"), len(got), len(png))
		}
	}
	if st := rows["stats.jsonl"]; len(st) > 0 {
		if d, _ := time.Parse(time.DateOnly, str(st[0], "date")); d.IsZero() {
			t.Errorf("got the stats line %v, want a date YYYY-MM-DD", st[0])
		}
	}
	for _, m := range rows["members.jsonl"] {
		if str(m, "email") == "" || str(m, "role") == "" {
			t.Errorf("got the member line %v, want an email and a role", m)
		}
	}
	var texts []string
	for _, m := range rows["messages.jsonl"] {
		texts = append(texts, str(m, "text"))
	}
	if !strings.Contains(strings.Join(texts, "|"), "two\nlines") {
		t.Errorf("got the texts %q, want the sent ones back", texts)
	}

	// No secret, in the ZIP's bytes or in any file of it.
	var hash string
	if err := db.QueryRow("SELECT password_hash FROM users WHERE id = $1", a.UserID).Scan(&hash); err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{
		"the password": defaultPassword, "its hash": hash, "the API key": key, "the key's secret part": strings.TrimPrefix(key, "wag_"),
		"the webhook secret": whSecret, "the access token": a.Access, "the refresh token": a.Refresh,
	}
	for what, secret := range secrets {
		if secret == "" {
			t.Fatalf("no %s to look for", what)
		}
		if bytes.Contains(r.Body, []byte(secret)) {
			t.Errorf("the ZIP holds %s", what)
		}
		for name, body := range files {
			if bytes.Contains(body, []byte(secret)) {
				t.Errorf("the ZIP's %s holds %s", name, what)
			}
		}
	}
	for name, body := range files {
		for _, marker := range []string{"$argon2id$", "whsec_", "passwordHash", `"secret"`, `"hash"`} {
			if bytes.Contains(body, []byte(marker)) {
				t.Errorf("the ZIP's %s holds %q", name, marker)
			}
		}
	}

	// Audited, with the download.
	r = s.do(t, "GET", "/api/v1/audit-logs?limit=10", a.Access, nil)
	wantStatus(t, r, http.StatusOK)
	for _, action := range []string{"export.requested", "export.downloaded"} {
		if !strings.Contains(string(r.Body), `"`+action+`"`) {
			t.Errorf("%s: want a %s entry", r, action)
		}
	}

	// One unfinished export per subscription: the database refuses a
	// second; and an unfinished one is not downloadable.
	other := s.register(t)
	now, stuck := time.Now().UTC(), uuid.NewString()
	if _, err := db.Exec(`INSERT INTO exports (id, subscription_id, requested_by, status, size_bytes, error, created_at, updated_at, expires_at, unfinished_of)
		VALUES ($1, $2, '', 'running', 0, '', $3, $3, $4, $2)`, stuck, other.SubID, now, now.Add(time.Hour)); err != nil {
		t.Fatalf("insert a running export: %v", err)
	}
	wantProblem(t, s.do(t, "POST", "/api/v1/exports", other.Access, nil), http.StatusConflict, "export_running")
	wantProblem(t, s.do(t, "GET", "/api/v1/exports/"+stuck+"/download", other.Access, nil), http.StatusConflict, "export_not_ready")

	// Past its 24 hours: 410 (until the purge deletes it).
	if _, err := db.Exec("UPDATE exports SET expires_at = $1 WHERE id = $2", now.Add(-time.Minute), id); err != nil {
		t.Fatal(err)
	}
	wantProblem(t, s.do(t, "GET", "/api/v1/exports/"+id+"/download", a.Access, nil), http.StatusGone, "export_expired")
	if _, err := db.Exec("UPDATE exports SET expires_at = $1 WHERE id = $2", now.Add(time.Hour), id); err != nil {
		t.Fatal(err)
	}

	// An erasure deletes the subscription's exports, file and row.
	dir := filepath.Join(env["WAGATE_DATA_DIR"], "exports")
	if _, err := os.Stat(filepath.Join(dir, id+".zip")); err != nil {
		t.Fatalf("the export file: %v", err)
	}
	// A finished export frees the slot: a second one starts, and the
	// erasure catches it whatever it is doing (its job, finding its row
	// gone, removes what it wrote).
	r = s.do(t, "POST", "/api/v1/exports", a.Access, nil)
	wantStatus(t, r, http.StatusAccepted)
	second := str(r.JSON, "id")
	r = s.do(t, "POST", "/api/v1/privacy/erase", a.Access, map[string]any{"phoneNumber": phone})
	wantStatus(t, r, http.StatusOK)
	if num(r.JSON, "exports") != 2 {
		t.Errorf("%s: want 2 exports deleted", r)
	}
	for _, x := range []string{id, second} {
		wantProblem(t, s.do(t, "GET", "/api/v1/exports/"+x, a.Access, nil), http.StatusNotFound, "not_found")
	}
	waitUntil(t, "no export file left", func() bool {
		left, _ := filepath.Glob(filepath.Join(dir, "*"))
		return len(left) == 0
	})

	// Closing the account deletes its exports too.
	r = s.do(t, "POST", "/api/v1/exports", a.Access, nil)
	wantStatus(t, r, http.StatusAccepted)
	third := str(r.JSON, "id")
	waitUntil(t, "the third export completed", func() bool {
		return str(s.do(t, "GET", "/api/v1/exports/"+third, a.Access, nil).JSON, "status") == "completed"
	})
	wantStatus(t, s.do(t, "DELETE", "/api/v1/subscription", a.Access, map[string]any{"password": a.Password}), http.StatusNoContent)
	if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) > 0 {
		t.Errorf("after closing the account its export files are still there: %v", left)
	}
	if n := count(t, db, "exports", a.SubID); n != 0 {
		t.Errorf("after closing the account %d of its exports are still in the database", n)
	}
}

// count counts a subscription's rows of a table.
func count(t *testing.T, db *sql.DB, table, sub string) int {
	t.Helper()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM "+table+" WHERE subscription_id = $1", sub).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// readZip opens a ZIP and returns its files' contents by name.
func readZip(t *testing.T, raw []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatalf("open the ZIP: %v", err)
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatalf("open %s: %v", f.Name, err)
		}
		b, err := io.ReadAll(rc) // checks the CRC too
		rc.Close()
		if err != nil {
			t.Fatalf("read %s: %v", f.Name, err)
		}
		files[f.Name] = b
	}
	return files
}

// jsonLines decodes a JSON Lines file: one JSON object per line.
func jsonLines(t *testing.T, name string, body []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 16<<20)
	for n := 1; sc.Scan(); n++ {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil || m == nil {
			t.Errorf("%s line %d is not a JSON object: %v: %.200s", name, n, err, sc.Text())
			continue
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		t.Errorf("%s: %v", name, err)
	}
	if len(body) > 0 && body[len(body)-1] != '\n' {
		t.Errorf("%s does not end with a newline", name)
	}
	return out
}
