package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"time"
)

// startWaitProfile writes a goroutine profile into dir every interval until
// the returned function is called. The process is mostly waiting on the
// database, Redis and the network rather than computing (a CPU profile
// shows a fraction of one core), so where the goroutines stand is where
// the time goes; pprof merges the snapshots:
//
//	go tool pprof -top -cum DIR/*.pb.gz
func startWaitProfile(dir string, interval time.Duration) (func(), error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(interval)
		defer t.Stop()
		for n := 0; ; n++ {
			select {
			case <-done:
				return
			case <-t.C:
			}
			if err := writeGoroutines(filepath.Join(dir, fmt.Sprintf("goroutine-%05d.pb.gz", n))); err != nil {
				fmt.Fprintln(os.Stderr, "bench: wait profile:", err)
				return
			}
		}
	}()
	return func() { close(done); <-stopped }, nil
}

func writeGoroutines(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("goroutine").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
