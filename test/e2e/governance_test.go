package e2e

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/lib/pq"
	msqlite "modernc.org/sqlite"

	"github.com/wagate/wagate/adapters/entstore"
	"github.com/wagate/wagate/adapters/wasim"
)

// TestErasure (SPEC §18): a number seeded everywhere a subscription keeps
// it (text, media and bulk messages both ways, webhook deliveries, events,
// a kept idempotent response, the WhatsApp device store) is gone from
// every text and byte column of every table of the database after
// POST /privacy/erase, while another number sent to alongside stays. On
// SQLite and PostgreSQL.
func TestErasure(t *testing.T) {
	sim := simulator(t, wasim.Options{ReceiptDelay: receiptDelay})
	for _, b := range databases {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			erasure(t, b, sim)
		})
	}
}

func erasure(t *testing.T, b backend, sim *wasim.Server) {
	env := sandboxEnv(t, b, sim)
	env["WAGATE_WEBHOOK_ALLOW_PRIVATE"] = "true"
	s := startOwned(t, b.name, env)
	db := openTestDB(t, env)
	a := s.register(t)
	inst := linkedInstance(t, s, a.Access, "erase")
	_, key := s.createKey(t, a.Access, inst, map[string]any{"name": "sender"})
	rcv := newReceiver(t)
	createWebhook(t, s, a.Access, inst, map[string]any{"url": rcv.srv.URL, "events": []string{"*"}})

	phone, other := newPhone(), newPhone()
	digits, otherDigits := strings.TrimPrefix(phone, "+"), strings.TrimPrefix(other, "+")

	h := bearer(key)
	h.Set("Idempotency-Key", unique("erase"))
	wantStatus(t, s.doWith(t, "POST", "/api/v1/messages/text", h, map[string]any{"to": phone, "text": "hello " + phone}), http.StatusAccepted)
	received(t, sim, phone)
	png := fileWith(pngHead, 2000)
	wantStatus(t, s.do(t, "POST", "/api/v1/messages/image", key, map[string]any{
		"to": phone, "caption": "picture", "media": map[string]any{"base64": base64.StdEncoding.EncodeToString(png), "mimeType": "image/png"},
	}), http.StatusAccepted)
	received(t, sim, phone)
	wantStatus(t, s.do(t, "POST", "/api/v1/sandbox/instances/"+inst+"/inbound", a.Access, map[string]any{
		"from": phone, "text": "reply from " + phone,
	}), http.StatusAccepted)
	r := s.do(t, "POST", "/api/v1/bulk", key, map[string]any{"text": "bulk", "recipients": textRecipients([]string{phone, other}),
		"pacing": map[string]any{"minDelayMs": 0, "maxDelayMs": 10}})
	wantStatus(t, r, http.StatusAccepted)
	waitBulk(t, s, key, str(r.JSON, "id"), "completed", func(m map[string]any) bool { return str(m, "status") == "completed" })
	received(t, sim, phone)
	received(t, sim, other)
	wantStatus(t, s.do(t, "POST", "/api/v1/contacts/check", key, map[string]any{"phoneNumbers": []string{phone}}), http.StatusOK)

	// Everything has landed: the messages, their deliveries and events.
	for _, table := range []string{"messages", "webhook_deliveries", "events", "idempotency_keys"} {
		waitUntil(t, "the number in "+table, func() bool { return searchDB(t, db, digits)[table] > 0 })
	}
	// Let the receipts of the last sends settle, so that no status event
	// about the number is written after the erasure.
	waitUntil(t, "the sends delivered", func() bool { return settled(t, db, digits) })
	t.Logf("%s: the number before the erasure: %v", b.name, searchDB(t, db, digits))
	// The simulator gives the contact a LID: its Signal sessions live
	// under it.
	var lid string
	if err := db.QueryRow("SELECT lid FROM whatsmeow_lid_map WHERE pn = $1", digits).Scan(&lid); err != nil {
		t.Fatalf("the LID of the number: %v", err)
	}
	t.Logf("%s: its LID before the erasure: %v", b.name, searchDB(t, db, lid))

	// Bad input, API keys and other tenants.
	wantFieldError(t, s.do(t, "POST", "/api/v1/privacy/erase", a.Access, map[string]any{"phoneNumber": "12ab"}), "phoneNumber")
	wantFieldError(t, s.do(t, "POST", "/api/v1/privacy/erase", a.Access, map[string]any{"phoneNumber": strings.Repeat("1", 40)}), "phoneNumber")
	wantProblem(t, s.do(t, "POST", "/api/v1/privacy/erase", a.Access, "{"), http.StatusBadRequest, "invalid_json")
	wantProblem(t, s.do(t, "POST", "/api/v1/privacy/erase", key, map[string]any{"phoneNumber": phone}), http.StatusForbidden, "forbidden")
	stranger := s.register(t)
	r = s.do(t, "POST", "/api/v1/privacy/erase", stranger.Access, map[string]any{"phoneNumber": phone})
	wantStatus(t, r, http.StatusOK)
	if num(r.JSON, "messages") != 0 {
		t.Fatalf("%s: another tenant's erasure removed messages", r)
	}

	r = s.do(t, "POST", "/api/v1/privacy/erase", a.Access, map[string]any{"phoneNumber": phone})
	wantStatus(t, r, http.StatusOK)
	wantKeys(t, "erasure", r.JSON, "messages", "bulkRecipients", "media", "deliveries", "events", "idempotencyKeys", "contacts")
	if num(r.JSON, "messages") < 4 || num(r.JSON, "media") < 1 || num(r.JSON, "bulkRecipients") != 1 ||
		num(r.JSON, "deliveries") < 1 || num(r.JSON, "events") < 1 || num(r.JSON, "idempotencyKeys") != 1 {
		t.Errorf("%s: want at least 4 messages, 1 media, 1 bulk recipient, deliveries, events and 1 kept response", r)
	}
	if found := searchDB(t, db, digits); len(found) > 0 {
		t.Errorf("%s: after the erasure the number is still in %v", b.name, found)
	}
	if found := searchDB(t, db, lid); len(found) > 0 {
		t.Errorf("%s: after the erasure the number's LID is still in %v", b.name, found)
	}
	if found := searchDB(t, db, otherDigits); found["messages"] == 0 {
		t.Errorf("%s: the other number went too: %v", b.name, found)
	}
	if dir := env["WAGATE_DATA_DIR"]; dir != "" {
		searchFiles(t, dir, digits)
	}
	// The audit log keeps an HMAC, not the number.
	r = s.do(t, "GET", "/api/v1/audit-logs?limit=5", a.Access, nil)
	wantStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.Body), `"privacy.erased"`) || !strings.Contains(string(r.Body), "numberHmac") {
		t.Errorf("%s: want a privacy.erased entry with numberHmac", r)
	}
	// Sending to the number again works: WhatsApp sessions are rebuilt.
	wantStatus(t, s.do(t, "POST", "/api/v1/messages/text", key, map[string]any{"to": phone, "text": "again"}), http.StatusAccepted)
	received(t, sim, phone)
}

// waitUntil polls cond until it holds, failing the test after flowWait.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(flowWait); !cond(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// openTestDB opens the server's database for the test's own queries.
func openTestDB(t *testing.T, env map[string]string) *sql.DB {
	t.Helper()
	var db *sql.DB
	var err error
	if url := env["WAGATE_DATABASE_URL"]; url != "" {
		db, err = sql.Open("postgres", url)
	} else {
		db = openSQLiteWithDevices(env["WAGATE_DATA_DIR"])
	}
	if err != nil {
		t.Fatalf("open the database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// openSQLiteWithDevices opens wagate.db of dir with WhatsApp's device
// file attached on every connection as "devices": the tables of both
// answer by their names (whatsmeow's all start with whatsmeow_).
func openSQLiteWithDevices(dir string) *sql.DB {
	d := &msqlite.Driver{}
	devices := entstore.SQLiteURI(filepath.Join(dir, entstore.DeviceFile), "")
	d.RegisterConnectionHook(func(c msqlite.ExecQuerierContext, _ string) error {
		_, err := c.ExecContext(context.Background(), "ATTACH DATABASE ? AS devices", []driver.NamedValue{{Ordinal: 1, Value: devices}})
		return err
	})
	return sql.OpenDB(dsnConnector{d: d, dsn: "file:" + filepath.Join(dir, "wagate.db") + "?_pragma=busy_timeout(10000)&_time_format=sqlite"})
}

// dsnConnector opens d's connections to dsn.
type dsnConnector struct {
	d   *msqlite.Driver
	dsn string
}

func (c dsnConnector) Connect(context.Context) (driver.Conn, error) { return c.d.Open(c.dsn) }
func (c dsnConnector) Driver() driver.Driver                        { return c.d }

func isPostgres(db *sql.DB) bool {
	_, sqlite := db.Driver().(interface {
		Open(string) (driver.Conn, error)
	})
	var v string
	return sqlite && db.QueryRow("SELECT version()").Scan(&v) == nil && strings.Contains(v, "PostgreSQL")
}

// settled reports whether no outbound message to the number waits for its
// delivery receipt.
func settled(t *testing.T, db *sql.DB, digits string) bool {
	t.Helper()
	q := `SELECT count(*) FROM messages WHERE "to" = $1 AND direction = 'outbound' AND status NOT IN ('delivered', 'read')`
	var n int
	if err := db.QueryRow(q, digits+"@s.whatsapp.net").Scan(&n); err != nil {
		t.Fatalf("count unsettled messages: %v", err)
	}
	return n == 0
}

// searchDB looks for needle in every text, JSON and byte column of every
// table, and returns the count of rows holding it per table.
func searchDB(t *testing.T, db *sql.DB, needle string) map[string]int {
	t.Helper()
	type column struct{ table, name, kind string }
	var cols []column
	if isPostgres(db) {
		rows, err := db.Query(`SELECT table_name, column_name, data_type FROM information_schema.columns
			WHERE table_schema = current_schema() AND data_type IN ('text', 'character varying', 'bytea', 'json', 'jsonb', 'character')`)
		if err != nil {
			t.Fatalf("list columns: %v", err)
		}
		for rows.Next() {
			var c column
			if err := rows.Scan(&c.table, &c.name, &c.kind); err != nil {
				t.Fatal(err)
			}
			cols = append(cols, c)
		}
		rows.Close()
	} else {
		rows, err := db.Query(`SELECT m.name, p.name, p.type FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table'
			UNION ALL SELECT m.name, p.name, p.type FROM devices.sqlite_master m JOIN pragma_table_info(m.name, 'devices') p WHERE m.type = 'table'`)
		if err != nil {
			t.Fatalf("list columns: %v", err)
		}
		for rows.Next() {
			var c column
			if err := rows.Scan(&c.table, &c.name, &c.kind); err != nil {
				t.Fatal(err)
			}
			// SQLite keeps any value in any column: search them all but
			// numbers.
			if k := strings.ToLower(c.kind); !strings.Contains(k, "int") && !strings.Contains(k, "real") && !strings.Contains(k, "bool") {
				cols = append(cols, c)
			}
		}
		rows.Close()
	}
	if len(cols) < 50 {
		t.Fatalf("found only %d columns to search", len(cols))
	}
	found := map[string]int{}
	for _, c := range cols {
		var q string
		switch {
		case !isPostgres(db):
			q = fmt.Sprintf(`SELECT count(*) FROM %q WHERE instr(CAST(%q AS TEXT), $1) > 0`, c.table, c.name)
		case c.kind == "bytea":
			q = fmt.Sprintf(`SELECT count(*) FROM %q WHERE position(convert_to($1, 'UTF8') IN %q) > 0`, c.table, c.name)
		default:
			q = fmt.Sprintf(`SELECT count(*) FROM %q WHERE strpos(CAST(%q AS text), $1) > 0`, c.table, c.name)
		}
		var n int
		if err := db.QueryRow(q, needle).Scan(&n); err != nil {
			t.Fatalf("search %s.%s: %v", c.table, c.name, err)
		}
		if n > 0 {
			found[c.table] += n
		}
	}
	return found
}

// searchFiles fails the test when a file of dir other than the databases
// (which searchDB reads through SQL) holds needle.
func searchFiles(t *testing.T, dir, needle string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), "wagate.db") || strings.HasPrefix(d.Name(), entstore.DeviceFile) {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.Contains(string(b), needle) {
			t.Errorf("the file %s holds the erased number", path)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("search %s: %v", dir, err)
	}
}

// TestRetentionAndClosing (SPEC §18): the purge deletes what is older than
// a subscription's own retention or, without one, the platform default
// (WAGATE_RETENTION), and keeps the rest; then closing the account unlinks
// its device at the phone, deletes every row naming the subscription but
// the platform's audit entry, and revokes its tokens and keys. On SQLite
// and PostgreSQL.
func TestRetentionAndClosing(t *testing.T) {
	sim := simulator(t, wasim.Options{ReceiptDelay: receiptDelay})
	for _, b := range databases {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			retentionAndClosing(t, b, sim)
		})
	}
}

// seededTenant is an account with a linked instance and two messages, the
// old one to be made ten days old in the database.
type seededTenant struct {
	a            account
	inst, jid    string
	key          string
	oldID, newID string
	oldTo, newTo string
}

func seedTenant(t *testing.T, s *ownedServer, sim *wasim.Server, db *sql.DB) seededTenant {
	t.Helper()
	x := seededTenant{a: s.register(t)}
	x.inst = linkedInstance(t, s, x.a.Access, "kept")
	x.jid = str(s.do(t, "GET", "/api/v1/instances/"+x.inst, x.a.Access, nil).JSON, "jid")
	_, x.key = s.createKey(t, x.a.Access, x.inst, map[string]any{"name": "sender"})
	x.oldTo, x.newTo = newPhone(), newPhone()
	for _, to := range []string{x.oldTo, x.newTo} {
		r := s.do(t, "POST", "/api/v1/messages/text", x.key, map[string]any{"to": to, "text": "hello"})
		wantStatus(t, r, http.StatusAccepted)
		received(t, sim, to)
		if to == x.oldTo {
			x.oldID = str(r.JSON, "id")
		} else {
			x.newID = str(r.JSON, "id")
		}
	}
	return x
}

// age makes the tenant's old message ten days old.
func (x seededTenant) age(t *testing.T, db *sql.DB) {
	t.Helper()
	old := time.Now().UTC().Add(-10 * 24 * time.Hour)
	if _, err := db.Exec("UPDATE messages SET created_at = $1 WHERE id = $2", old, x.oldID); err != nil {
		t.Fatalf("age a message: %v", err)
	}
}

// statsFlushWait outlasts one flush of the API-call counts (every 5 s,
// cmd/wagate/app/periodic.go).
const statsFlushWait = 6 * time.Second

func retentionAndClosing(t *testing.T, b backend, sim *wasim.Server) {
	env := sandboxEnv(t, b, sim)
	env["WAGATE_RETENTION"] = "messages=5,deliveries=30"
	env["WAGATE_RETENTION_PURGE_EVERY"] = "1s"
	s := startOwned(t, b.name, env)
	db := openTestDB(t, env)
	// A keeps messages forever by its own setting; B follows the platform
	// default of 5 days.
	a := seedTenant(t, s, sim, db)
	bb := seedTenant(t, s, sim, db)

	r := s.do(t, "GET", "/api/v1/subscription", a.a.Access, nil)
	wantStatus(t, r, http.StatusOK)
	ret := obj(t, r.JSON, "retention")
	if num(ret, "messagesDays") != 5 || num(ret, "deliveriesDays") != 30 || num(ret, "mediaDays") != 0 || ret["default"] != true {
		t.Errorf("%s: want the platform default", r)
	}
	r = s.do(t, "PATCH", "/api/v1/subscription", a.a.Access, map[string]any{"retention": map[string]any{"messagesDays": 0, "auditDays": 400}})
	wantStatus(t, r, http.StatusOK)
	ret = obj(t, r.JSON, "retention")
	if num(ret, "messagesDays") != 0 || num(ret, "auditDays") != 400 || num(ret, "deliveriesDays") != 30 || ret["default"] != false {
		t.Errorf("%s: want messages forever, audit 400 days, deliveries 30 days kept from the default", r)
	}
	for _, bad := range []map[string]any{
		{"retention": map[string]any{"messagesDays": -1}},
		{"retention": map[string]any{"mediaDays": 40000}},
		{},
	} {
		r := s.do(t, "PATCH", "/api/v1/subscription", a.a.Access, bad)
		wantProblem(t, r, http.StatusUnprocessableEntity, "validation_failed")
	}
	wantProblem(t, s.do(t, "PATCH", "/api/v1/subscription", a.a.Access, map[string]any{"retention": map[string]any{"messagesDays": "x"}}), http.StatusUnprocessableEntity, "validation_failed")
	wantProblem(t, s.do(t, "GET", "/api/v1/subscription", a.key, nil), http.StatusForbidden, "forbidden")
	wantProblem(t, s.do(t, "PATCH", "/api/v1/subscription", a.key, map[string]any{"retention": map[string]any{"messagesDays": 1}}), http.StatusForbidden, "forbidden")
	a.age(t, db)
	bb.age(t, db)

	// B's old message goes at the next purge; its new one and both of A's
	// stay.
	waitUntil(t, "the purge of B's old message", func() bool {
		return s.do(t, "GET", "/api/v1/messages/"+bb.oldID, bb.key, nil).Status == http.StatusNotFound
	})
	for _, m := range []struct{ key, id string }{{bb.key, bb.newID}, {a.key, a.oldID}, {a.key, a.newID}} {
		wantStatus(t, s.do(t, "GET", "/api/v1/messages/"+m.id, m.key, nil), http.StatusOK)
	}

	// Closing A's account, with an invitation pending: its email address
	// must go too.
	invited := fmt.Sprintf("invited-%d@example.com", rand.N(1_000_000_000))
	wantStatus(t, s.do(t, "POST", "/api/v1/members/invitations", a.a.Access, map[string]any{"email": invited, "role": "viewer"}), http.StatusCreated)
	wantProblem(t, s.do(t, "DELETE", "/api/v1/subscription", a.a.Access, map[string]any{"password": "wrong password"}), http.StatusUnauthorized, "invalid_credentials")
	wantFieldError(t, s.do(t, "DELETE", "/api/v1/subscription", a.a.Access, map[string]any{}), "password")
	wantProblem(t, s.do(t, "DELETE", "/api/v1/subscription", a.key, map[string]any{"password": a.a.Password}), http.StatusForbidden, "forbidden")
	if err := sim.Barrier(a.jid); err != nil {
		t.Fatalf("the phone does not see the device before closing: %v", err)
	}
	wantStatus(t, s.do(t, "DELETE", "/api/v1/subscription", a.a.Access, map[string]any{"password": a.a.Password}), http.StatusNoContent)
	if err := sim.Barrier(a.jid); err == nil {
		t.Errorf("the phone still has the device %s after closing", a.jid)
	}
	wantProblem(t, s.do(t, "GET", "/api/v1/me", a.a.Access, nil), http.StatusUnauthorized, "unauthorized")
	wantProblem(t, s.do(t, "GET", "/api/v1/instance", a.key, nil), http.StatusUnauthorized, "unauthorized")
	r = s.do(t, "POST", "/api/v1/auth/refresh", "", map[string]any{"refreshToken": a.a.Refresh})
	if r.Status != http.StatusUnauthorized {
		t.Errorf("%s: want 401 for the closed account's refresh token", r)
	}
	// The API-call count of the closing request itself is flushed up to
	// 5 s after the wipe; it must not bring a row of the closed account
	// back (the stats store writes only for an existing subscription).
	time.Sleep(statsFlushWait)
	found := searchDB(t, db, a.a.SubID)
	// Known gap: a queued job of the embedded queue (a send or delivery
	// the closing overtook) may hold the subscription id until it runs,
	// finds nothing and is done.
	delete(found, "jobs")
	if found["audit_logs"] != 1 || len(found) != 1 {
		t.Errorf("%s: the closed subscription's id is in %v, want only its platform audit entry", b.name, found)
	}
	for _, needle := range []string{a.a.Email, invited, a.inst, a.a.UserID, strings.TrimPrefix(a.oldTo, "+"), a.jid} {
		if found := searchDB(t, db, needle); len(found) > 0 {
			t.Errorf("%s: %q of the closed account is still in %v", b.name, needle, found)
		}
	}
	// (A failed login is audited with the email it tried, so it comes
	// after the search.)
	r = s.do(t, "POST", "/api/v1/auth/login", "", map[string]any{"email": a.a.Email, "password": a.a.Password})
	wantStatus(t, r, http.StatusUnauthorized)
	// B is untouched.
	wantStatus(t, s.do(t, "GET", "/api/v1/messages/"+bb.newID, bb.key, nil), http.StatusOK)
}
