package stats

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wagate/wagate/ports"
)

// callKey is one counters row of API calls.
type callKey struct {
	sub  ports.SubscriptionID
	inst ports.InstanceID
	day  time.Time
}

// CountAPICall notes one authenticated API request of the subscription,
// against the instance it addressed (empty: none). It only touches memory;
// Flush writes the counts.
func (s *Service) CountAPICall(sub ports.SubscriptionID, inst ports.InstanceID) {
	k := callKey{sub: sub, inst: inst, day: ports.StatsDay(s.d.Clock.Now())}
	s.mu.Lock()
	s.calls[k]++
	s.mu.Unlock()
}

// Flush writes the API calls counted so far. Counts it could not write
// are kept for the next flush, and the first error is returned.
func (s *Service) Flush(ctx context.Context) error {
	s.mu.Lock()
	pending := s.calls
	s.calls = make(map[callKey]int64, len(pending))
	s.mu.Unlock()
	var errs []error
	failed := map[callKey]int64{}
	for k, n := range pending {
		if len(errs) > 0 {
			failed[k] = n // the database is failing: do not try every row
			continue
		}
		if err := s.d.Stats.AddStats(ctx, k.sub, k.inst, k.day, ports.Counters{APICalls: n}); err != nil {
			errs = append(errs, fmt.Errorf("add API calls of %s: %w", k.sub, err))
			failed[k] = n
		}
	}
	if len(failed) > 0 {
		s.mu.Lock()
		for k, n := range failed {
			s.calls[k] += n
		}
		s.mu.Unlock()
	}
	return errors.Join(errs...)
}
