package browser

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/wagate/wagate/adapters/wasim"
	"github.com/wagate/wagate/test/testdb"
	"github.com/wagate/wagate/test/testserver"
)

// backend is one storage configuration the server runs on.
type backend struct {
	name string
	env  func(t *testing.T) map[string]string
}

var (
	sqlite   = backend{"sqlite", func(t *testing.T) map[string]string { return map[string]string{"WAGATE_DATA_DIR": t.TempDir()} }}
	postgres = backend{"postgres", func(t *testing.T) map[string]string {
		return map[string]string{"WAGATE_DATA_DIR": t.TempDir(), "WAGATE_DATABASE_URL": testdb.Postgres(t), "WAGATE_MIGRATE_ON_START": "true"}
	}}
	postgresRedis = backend{"postgres+redis", func(t *testing.T) map[string]string {
		env := postgres.env(t)
		url, prefix := testdb.Redis(t)
		env["WAGATE_REDIS_URL"] = url
		env["WAGATE_REDIS_PREFIX"] = strings.TrimSuffix(prefix, ":")
		return env
	}}
)

// chromiumPath finds the browser, or skips (fails under CI=true).
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("WAGATE_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := exec.LookPath(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is missing: install it (apt-get install -y chromium) to run the browser tests")
	}
	t.Skip("skipping the browser tests: chromium is not installed (apt-get install -y chromium)")
	return ""
}

// startSandbox runs a simulator and a sandbox wagate on b.
func startSandbox(t *testing.T, b backend, extra map[string]string) *testserver.Server {
	t.Helper()
	sim := wasim.New(wasim.Options{ReceiptDelay: 300 * time.Millisecond})
	if err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatalf("start simulator: %v", err)
	}
	t.Cleanup(func() { sim.Close() })
	env := map[string]string{
		"WAGATE_JWT_SECRET":            "browser-secret-0123456789abcdefghijklmnopqrstuvwxyz",
		"WAGATE_LOG_LEVEL":             "info",
		"WAGATE_AUTH_RATE_PER_MIN":     "100000",
		"WAGATE_WHATSAPP":              "sandbox",
		"WAGATE_SANDBOX_ADDR":          sim.Addr(),
		"WAGATE_SEND_DELAY":            "250ms-400ms",
		"WAGATE_WEBHOOK_ALLOW_PRIVATE": "true",
	}
	maps.Copy(env, b.env(t))
	maps.Copy(env, extra)
	srv, err := testserver.Start(context.Background(), env)
	if err != nil {
		t.Fatalf("start server on %s: %v", b.name, err)
	}
	t.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			t.Errorf("stop server: %v", err)
		}
		if t.Failed() {
			logs := strings.Split(srv.Logs(), "\n")
			t.Logf("server logs:\n%s", strings.Join(logs[max(0, len(logs)-60):], "\n"))
		}
	})
	return srv
}

// eachBackend runs fn as a subtest per backend, with a sandbox server
// started with extra and the path of the browser.
func eachBackend(t *testing.T, backends []backend, extra map[string]string, fn func(t *testing.T, srv *testserver.Server, chromium string)) {
	t.Helper()
	chromium := chromiumPath(t)
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { fn(t, startSandbox(t, b, extra), chromium) })
	}
}

// browser opens a headless Chromium tab for the test.
func browser(t *testing.T, chromium string, w, h int) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.NoSandbox, // root in containers
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(w, h),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	var mu sync.Mutex
	var consoleErrs []string
	err := chromedp.Listen(ctx, func(ev any) {
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			mu.Lock()
			consoleErrs = append(consoleErrs, exceptionText(e.ExceptionDetails))
			mu.Unlock()
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError {
				var parts []string
				for _, a := range e.Args {
					parts = append(parts, string(a.Value))
				}
				mu.Lock()
				consoleErrs = append(consoleErrs, strings.Join(parts, " "))
				mu.Unlock()
			}
		}
	})
	if err != nil {
		cancelC()
		cancelA()
		t.Fatalf("start chromium: %v", err)
	}
	t.Cleanup(func() {
		mu.Lock()
		errs := consoleErrs
		mu.Unlock()
		for _, e := range errs {
			t.Errorf("page error: %s", e)
		}
		cancelC()
		cancelA()
	})
	return ctx
}

// hook is a webhook receiver that answers 200 and counts what it got.
type hook struct {
	*httptest.Server
	mu     sync.Mutex
	events []string
}

func newHook(t *testing.T) *hook {
	h := &hook{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev struct {
			Type string `json:"type"`
		}
		_ = json.NewDecoder(r.Body).Decode(&ev)
		h.mu.Lock()
		h.events = append(h.events, ev.Type)
		h.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hook) got(typ string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, e := range h.events {
		if e == typ {
			return true
		}
	}
	return false
}

func exceptionText(d *runtime.ExceptionDetails) string {
	if d == nil {
		return "exception"
	}
	if d.Exception != nil && d.Exception.Description != "" {
		return d.Exception.Description
	}
	return d.Text
}
