// Package testserver starts the real wagate server in-process, on a free
// loopback port, for end-to-end tests and the load generator.
package testserver

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/wagate/wagate/cmd/wagate/app"
)

// Server is a running wagate.
type Server struct {
	URL    string // http://127.0.0.1:PORT
	cancel context.CancelFunc
	done   chan error
	logs   *logBuffer
}

// Start runs `wagate serve` with env as its whole environment and returns
// once /healthz answers. Unless env sets WAGATE_ADDR, the server gets a free
// loopback port (found by listening on port 0 and closing again: the log
// line that names the port may be filtered out by WAGATE_LOG_LEVEL).
func Start(ctx context.Context, env map[string]string) (*Server, error) {
	return StartWith(ctx, env, app.Hooks{})
}

// StartWith is Start with hooks, such as a tracer provider to read the
// spans from.
func StartWith(ctx context.Context, env map[string]string, hooks app.Hooks) (*Server, error) {
	env = maps.Clone(env)
	if env == nil {
		env = map[string]string{}
	}
	if env["WAGATE_ADDR"] == "" {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		env["WAGATE_ADDR"] = port
	}
	getenv := func(k string) string { return env[k] }
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(ctx)
	s := &Server{URL: "http://" + env["WAGATE_ADDR"], cancel: cancel, done: make(chan error, 1), logs: &logBuffer{}}
	go func() {
		err := app.RunWith(ctx, []string{"serve"}, getenv, pw, hooks)
		pw.CloseWithError(io.EOF)
		s.done <- err
	}()
	go s.readLogs(pr)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-s.done:
			cancel()
			return nil, fmt.Errorf("server exited before listening: %v\n%s", err, s.logs.String())
		case <-time.After(20 * time.Millisecond):
		}
		if resp, err := http.Get(s.URL + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
	}
	cancel()
	return nil, errors.New("server did not start within 60s")
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// readLogs keeps the server's log lines.
func (s *Server) readLogs(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		s.logs.add(sc.Bytes())
	}
	io.Copy(io.Discard, r)
}

// Stop shuts the server down gracefully and returns what Run returned.
func (s *Server) Stop() error {
	s.cancel()
	select {
	case err := <-s.done:
		return err
	case <-time.After(30 * time.Second):
		return errors.New("server did not stop within 30s")
	}
}

// Logs returns everything the server has logged so far.
func (s *Server) Logs() string { return s.logs.String() }

type logBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (b *logBuffer) add(line []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.lines) < 100000 {
		b.lines = append(b.lines, string(line))
	}
}

// String joins the kept lines.
func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.lines, "\n")
}
