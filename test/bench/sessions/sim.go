package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"time"

	"github.com/wagate/wagate/adapters/wasim"
)

// simulatorFlag re-executes this binary as the simulator's process.
const simulatorFlag = "simulator-only"

// runSimulator is the child process: the simulator on addr until its
// standard input closes, which the parent does to stop it and which also
// happens when the parent dies.
func runSimulator(addr string) error {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return wasim.Serve(ctx, addr, log)
}

// simulator is the child process running the simulator.
type simulator struct {
	addr  string
	cmd   *exec.Cmd
	stdin io.Closer
	done  chan error
}

// startSimulator starts the child on a free loopback port and waits until
// it accepts connections.
func startSimulator(ctx context.Context) (*simulator, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, fmt.Errorf("start simulator: %w", err)
	}
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("start simulator: %w", err)
	}
	cmd := exec.Command(self, "-"+simulatorFlag, addr)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("start simulator: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start simulator: %w", err)
	}
	s := &simulator{addr: addr, cmd: cmd, stdin: stdin, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait() }()
	if err := s.waitListening(ctx); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

func (s *simulator) pid() int { return s.cmd.Process.Pid }

func (s *simulator) waitListening(ctx context.Context) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case err := <-s.done:
			s.done <- err
			return fmt.Errorf("simulator exited before listening: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("simulator not listening on %s after 30s", s.addr)
		}
	}
}

// stop closes the child's input and waits for it, killing it if it does
// not stop in time.
func (s *simulator) stop() {
	s.stdin.Close()
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// freeAddr picks a loopback port for the child by listening on port 0; it
// is free again, and in practice not taken by anyone else, a moment later.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}
