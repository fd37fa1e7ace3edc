package app

import (
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/wagate/wagate/adapters/wasim"
)

// TestAdminAndMigrateCommands runs the subcommands against a fresh SQLite
// data dir, as an operator would on a new machine.
func TestAdminAndMigrateCommands(t *testing.T) {
	env := envOf(map[string]string{
		"WAGATE_DATA_DIR": t.TempDir(),
		"ADMIN_PW":        "a long admin passphrase",
	})
	run := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := Run(t.Context(), args, env, &out)
		return out.String(), err
	}

	out, err := run("migrate", "--status")
	if err != nil || !strings.Contains(out, "pending: 0001_init") {
		t.Fatalf("migrate --status on a new database: got %q, %v, want 0001_init pending", out, err)
	}
	if out, err = run("migrate"); err != nil || !strings.Contains(out, "up to date") {
		t.Fatalf("migrate: got %q, %v", out, err)
	}
	if out, err = run("migrate", "--status"); err != nil || !strings.Contains(out, "no pending migrations") {
		t.Fatalf("migrate --status after migrate: got %q, %v", out, err)
	}

	out, err = run("admin", "create-user", "--email", "Ops@Example.com", "--password-env", "ADMIN_PW", "--admin")
	if err != nil || !strings.Contains(out, "ops@example.com") || !strings.Contains(out, "role admin") {
		t.Fatalf("create-user: got %q, %v, want the admin created", out, err)
	}
	if strings.Contains(out, "a long admin passphrase") {
		t.Errorf("create-user printed the password")
	}
	if _, err = run("admin", "create-user", "--email", "ops@example.com", "--password-env", "ADMIN_PW"); err == nil {
		t.Errorf("second create-user with the same email: got no error, want email taken")
	}
	if _, err = run("admin", "create-user", "--email", "x@example.com", "--password-env", "NOPE"); err == nil {
		t.Errorf("create-user with an empty password variable: got no error")
	}
	if _, err = run("admin", "delete-user"); err == nil {
		t.Errorf("unknown admin command: got no error")
	}
}

// TestSimCommand runs `wagate sim` and drives its control API as a
// sandbox server would, then stops it.
func TestSimCommand(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Run(ctx, []string{"sim", "--addr", addr}, envOf(nil), io.Discard) }()

	remote := wasim.NewRemote(addr)
	deadline := time.Now().Add(10 * time.Second)
	for {
		// A code no client shows: the simulator must answer, and refuse.
		err := remote.ScanQR(ctx, "2@ref,AAAA,BBBB,CCCC", "15550001111")
		if err != nil && strings.Contains(err.Error(), "status 400") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("scan on the simulator: got %v, want its 400 refusal", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("sim: got %v, want a clean stop", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("sim did not stop")
	}
}
