package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/wagate/wagate/adapters/wasim"
	"github.com/wagate/wagate/cmd/wagate/app"
)

// statusRank orders the statuses of an outbound message.
var statusRank = map[string]int{"queued": 0, "sending": 1, "sent": 2, "delivered": 3, "read": 4, "failed": 5, "received": 6}

// TestBackupRestore (SPEC §18): `wagate backup` takes a snapshot of a
// serving SQLite deployment in the middle of a stream of sends;
// `wagate restore` brings it into a fresh data directory (refusing to
// overwrite without --force); the server started there reconnects its
// instance without a QR, and every message of the snapshot is there with
// its status or a later one.
func TestBackupRestore(t *testing.T) {
	sim := simulator(t, wasim.Options{ReceiptDelay: receiptDelay})
	env := sandboxEnv(t, sqlite, sim)
	s := startOwned(t, "sqlite", env)
	a := s.register(t)
	inst := linkedInstance(t, s, a.Access, "backed-up")
	_, key := s.createKey(t, a.Access, inst, map[string]any{"name": "sender"})

	const sends = 40
	ps := phones(sends)
	var wg sync.WaitGroup
	half := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i, p := range ps {
			if _, err := s.send("POST", "/api/v1/messages/text", bearer(key), map[string]any{"to": p, "text": "traffic"}); err != nil {
				t.Errorf("send: %v", err)
			}
			if i == sends/2 {
				close(half)
			}
		}
	}()
	<-half
	snap := filepath.Join(t.TempDir(), "snapshot.db")
	var out bytes.Buffer
	getenv := func(k string) string { return env[k] }
	if err := app.Run(context.Background(), []string{"backup", "--out", snap}, getenv, &out); err != nil {
		t.Fatalf("backup while serving: %v", err)
	}
	t.Logf("%s", strings.TrimSpace(out.String()))
	wg.Wait()
	if err := app.Run(context.Background(), []string{"backup", "--out", snap}, getenv, &out); err == nil {
		t.Errorf("a backup over an existing file: want an error")
	}
	s.stop(t)

	// What the snapshot holds.
	db, err := sql.Open("sqlite", "file:"+snap+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	want := map[string]string{}
	rows, err := db.Query("SELECT id, status FROM messages")
	if err != nil {
		t.Fatalf("read the snapshot: %v", err)
	}
	for rows.Next() {
		var id, status string
		if err := rows.Scan(&id, &status); err != nil {
			t.Fatal(err)
		}
		want[id] = status
	}
	rows.Close()
	if len(want) == 0 || len(want) > sends {
		t.Fatalf("the snapshot holds %d messages, want some of the %d sends", len(want), sends)
	}
	t.Logf("the snapshot holds %d of %d messages", len(want), sends)
	var ndev int
	if err := db.QueryRow("SELECT count(*) FROM whatsmeow_device").Scan(&ndev); err != nil || ndev != 1 {
		t.Fatalf("the snapshot's WhatsApp devices: %d, %v; want the instance's", ndev, err)
	}

	// Restore into a fresh data directory.
	env2 := maps.Clone(env)
	env2["WAGATE_DATA_DIR"] = t.TempDir()
	getenv2 := func(k string) string { return env2[k] }
	bad := filepath.Join(t.TempDir(), "bad.db")
	if err := os.WriteFile(bad, []byte("not a database"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := app.Run(context.Background(), []string{"restore", "--in", bad}, getenv2, &out); err == nil {
		t.Errorf("restoring a file that is no database: want an error")
	}
	if err := app.Run(context.Background(), []string{"restore", "--in", snap}, getenv2, &out); err != nil {
		t.Fatalf("restore: %v", err)
	}
	if err := app.Run(context.Background(), []string{"restore", "--in", snap}, getenv2, &out); err == nil {
		t.Errorf("restoring over a database without --force: want an error")
	}
	if err := app.Run(context.Background(), []string{"restore", "--in", snap, "--force"}, getenv2, &out); err != nil {
		t.Fatalf("restore --force: %v", err)
	}

	s2 := startOwned(t, "sqlite restored", env2)
	waitInstance(t, s2, a.Access, inst, "connected") // no scan: the credentials came back
	for id, status := range want {
		r := s2.do(t, "GET", "/api/v1/messages/"+id, key, nil)
		wantStatus(t, r, http.StatusOK)
		if got := str(r.JSON, "status"); statusRank[got] < statusRank[status] {
			t.Errorf("message %s: got status %s after the restore, want %s or later", id, got, status)
		}
	}
	// The restored instance sends.
	p := newPhone()
	wantStatus(t, s2.do(t, "POST", "/api/v1/messages/text", key, map[string]any{"to": p, "text": "after the restore"}), http.StatusAccepted)
	received(t, sim, p)
}
