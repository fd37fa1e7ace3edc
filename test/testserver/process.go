package testserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"syscall"
	"time"
)

// Build compiles the wagate command into dir and returns the binary's
// path. Tests that need a real process (to kill it) build it once, in
// TestMain.
func Build(ctx context.Context, dir string, race bool) (string, error) {
	bin := filepath.Join(dir, "wagate")
	args := []string{"build", "-o", bin}
	if race {
		args = append(args, "-race")
	}
	args = append(args, "github.com/wagate/wagate/cmd/wagate")
	cmd := exec.CommandContext(ctx, "go", args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build wagate: %w\n%s", err, out)
	}
	return bin, nil
}

// Process is `wagate serve` running as a separate operating-system process,
// which a test can kill without warning (SIGKILL) and start again on the
// same environment, that is the same database, data dir and Redis prefix.
type Process struct {
	URL  string // http://127.0.0.1:PORT, the same across restarts
	bin  string
	env  map[string]string
	logs *logBuffer

	cmd  *exec.Cmd
	done chan error // Wait's result of the running cmd
	runs int
}

// StartProcess runs `bin serve` with env as its whole environment (plus
// PATH, HOME and TMPDIR, which the Go runtime and the system libraries
// may look at) and returns once /healthz answers. Unless env sets
// WAGATE_ADDR, the process gets a free loopback port, kept for restarts.
func StartProcess(ctx context.Context, bin string, env map[string]string) (*Process, error) {
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
	p := &Process{URL: "http://" + env["WAGATE_ADDR"], bin: bin, env: env, logs: &logBuffer{}}
	if err := p.Start(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

// Start starts the process again after Kill or Stop and waits for
// /healthz. Its output is appended to the same log.
func (p *Process) Start(ctx context.Context) error {
	if p.cmd != nil {
		return errors.New("the process is running")
	}
	p.runs++
	p.logs.add(fmt.Appendf(nil, "==== start #%d ====", p.runs))
	cmd := exec.Command(p.bin, "serve")
	cmd.Env = p.environ()
	w := &lineWriter{buf: p.logs}
	cmd.Stdout, cmd.Stderr = w, w
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", p.bin, err)
	}
	p.cmd, p.done = cmd, make(chan error, 1)
	go func() {
		err := cmd.Wait()
		w.flush()
		p.done <- err
	}()
	return p.waitHealthy(ctx)
}

// environ is the process's whole environment: env, sorted, plus the few
// system variables a Go program may need.
func (p *Process) environ() []string {
	var out []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			if _, set := p.env[k]; !set {
				out = append(out, k+"="+v)
			}
		}
	}
	keys := make([]string, 0, len(p.env))
	for k := range p.env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, k+"="+p.env[k])
	}
	return out
}

// waitHealthy polls /healthz until it answers 200, the process exits or
// 60 s pass.
func (p *Process) waitHealthy(ctx context.Context) error {
	hc := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-p.done:
			p.cmd = nil
			return fmt.Errorf("wagate exited before it was healthy: %v", err)
		case <-ctx.Done():
			p.Kill()
			return ctx.Err()
		case <-time.After(25 * time.Millisecond):
		}
		if resp, err := hc.Get(p.URL + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	p.Kill()
	return errors.New("wagate was not healthy within 60s")
}

// Kill sends SIGKILL, with no chance to drain or record anything, and
// returns once the process is gone. Killing a stopped process does
// nothing.
func (p *Process) Kill() error {
	if p.cmd == nil {
		return nil
	}
	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill wagate: %w", err)
	}
	<-p.done
	p.cmd = nil
	p.logs.add([]byte("==== killed (SIGKILL) ===="))
	return nil
}

// Stop asks for a graceful shutdown (SIGTERM) and waits up to 30 s, then
// kills the process.
func (p *Process) Stop() error {
	if p.cmd == nil {
		return nil
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop wagate: %w", err)
	}
	select {
	case err := <-p.done:
		p.cmd = nil
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return fmt.Errorf("wagate exited with %v", err)
		}
		return err
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
		p.cmd = nil
		return errors.New("wagate did not stop within 30s; killed it")
	}
}

// Logs returns everything the process printed, over all its runs.
func (p *Process) Logs() string { return p.logs.String() }

// lineWriter splits a process's output into log lines.
type lineWriter struct {
	buf     *logBuffer
	partial []byte
}

var _ io.Writer = (*lineWriter)(nil)

// Write is called by one goroutine at a time: exec guarantees it when
// Stdout and Stderr are the same writer.
func (w *lineWriter) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			w.partial = append(w.partial, b...)
			if len(w.partial) > 1<<20 {
				w.flush()
			}
			break
		}
		w.buf.add(append(w.partial, b[:i]...))
		w.partial = w.partial[:0]
		b = b[i+1:]
	}
	return n, nil
}

// flush keeps a last line without its newline.
func (w *lineWriter) flush() {
	if len(w.partial) > 0 {
		w.buf.add(w.partial)
		w.partial = nil
	}
}

// Pid is the running process's id, 0 when it is not running.
func (p *Process) Pid() int {
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}
