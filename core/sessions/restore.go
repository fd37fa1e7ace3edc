package sessions

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/wagate/wagate/ports"
)

// restoreParallelism is how many reconnects Restore has in flight: each
// waits for a network handshake, so a few at once shorten the start a lot.
const restoreParallelism = 16

// Restore reconnects, at start, every instance that was connected (or
// connecting) when the server stopped. A pairing the stop interrupted
// cannot go on (its QR codes died with the connection), so those instances
// become disconnected with reason "interrupted" instead of looking stuck.
// A failed reconnect is logged and does not stop the others; only failing
// to list the instances is an error.
func (s *Service) Restore(ctx context.Context) error {
	if s.d.Directory == nil {
		return errors.New("restore instances: no instance directory")
	}
	if _, err := s.whatsApp(); err != nil {
		return fmt.Errorf("restore instances: %w", err)
	}
	linked, pairing, err := s.activeAtStop(ctx)
	if err != nil {
		return err
	}
	for _, inst := range pairing {
		s.handle(ports.WAEvent{Subscription: inst.SubscriptionID, Instance: inst.ID,
			Kind: ports.WAStatus, At: s.d.Clock.Now(),
			Status: &ports.WAStatusChange{Status: ports.StatusDisconnected, Reason: "interrupted"}})
	}
	sem := make(chan struct{}, restoreParallelism)
	var wg sync.WaitGroup
	for _, inst := range linked {
		if ctx.Err() != nil {
			break // shutting down during the start
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := s.connect(ctx, inst, nil); err != nil {
				s.d.Log.Warn("restore instance", "instance", string(inst.ID), "err", err)
			}
		})
	}
	wg.Wait()
	s.d.Log.Info("instances restored", "count", len(linked), "interruptedPairings", len(pairing))
	return nil
}

// activeAtStop lists the instances that were active when the server
// stopped: those with a linked device to log in with, and those that were
// still pairing.
func (s *Service) activeAtStop(ctx context.Context) (linked, pairing []ports.Instance, err error) {
	req := ports.PageRequest{Limit: ports.MaxPageLimit}
	for {
		page, err := s.d.Directory.ListInstancesByStatus(ctx, ports.ConnectionWanted(), req)
		if err != nil {
			return nil, nil, fmt.Errorf("list instances to restore: %w", err)
		}
		for _, inst := range page.Items {
			if inst.JID != "" {
				linked = append(linked, inst)
			} else {
				pairing = append(pairing, inst)
			}
		}
		if page.Next == "" {
			return linked, pairing, nil
		}
		req.After = page.Next
	}
}
