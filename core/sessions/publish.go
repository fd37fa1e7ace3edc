package sessions

import "context"

// wake tells the event dispatcher about a committed status move.
func (s *Service) wake(ctx context.Context, c statusChange) {
	if c.changed {
		s.d.Events.Wake(ctx, c.inst.SubscriptionID)
	}
}
