package app

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"
)

func TestPeriodicRunsUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	var calls atomic.Int32
	done := make(chan struct{})
	go func() {
		defer close(done)
		periodic(ctx, slog.New(slog.DiscardHandler), "test", time.Millisecond, func(context.Context) (int, error) {
			if calls.Add(1) == 3 {
				cancel()
			}
			return 0, errors.New("a failing pass does not stop the loop")
		})
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("periodic did not return after its context was cancelled")
	}
	if n := calls.Load(); n < 3 {
		t.Errorf("got %d passes, want at least 3", n)
	}
}
