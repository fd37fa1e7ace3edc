package app

import (
	"context"
	"log/slog"
	"time"
)

// periodic runs one pass of fn every interval until ctx ends. The relays
// and purges of several modules share this loop; each module only offers
// its single pass, so the schedule is decided here, in one place.
func periodic(ctx context.Context, log *slog.Logger, name string, every time.Duration, fn func(context.Context) (int, error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n, err := fn(ctx)
			switch {
			case err != nil && ctx.Err() == nil:
				log.Warn(name, "err", err)
			case n > 0:
				log.Info(name, "count", n)
			}
		}
	}
}
