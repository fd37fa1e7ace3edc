package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/wagate/wagate/ports"
)

func testTx(t *testing.T, f *fixture) {
	var committed ports.Subscription
	err := f.b.InTx(f.ctx, func(ctx context.Context, s ports.Stores) error {
		committed = ports.Subscription{ID: ports.SubscriptionID(newID()), Tier: ports.TierBasic, CreatedAt: base, UpdatedAt: base}
		if err := s.Subscriptions.CreateSubscription(ctx, committed); err != nil {
			return err
		}
		// The transaction reads its own writes.
		_, err := s.Subscriptions.GetSubscription(ctx, committed.ID)
		return err
	})
	mustOK(t, "commit", err)
	_, err = f.s.Subscriptions.GetSubscription(f.ctx, committed.ID)
	mustOK(t, "get committed subscription", err)

	boom := errors.New("boom")
	var rolledBack ports.SubscriptionID
	err = f.b.InTx(f.ctx, func(ctx context.Context, s ports.Stores) error {
		sub := ports.Subscription{ID: ports.SubscriptionID(newID()), Tier: ports.TierBasic, CreatedAt: base, UpdatedAt: base}
		rolledBack = sub.ID
		if err := s.Subscriptions.CreateSubscription(ctx, sub); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("rollback: got %v, want the fn's error", err)
	}
	_, err = f.s.Subscriptions.GetSubscription(f.ctx, rolledBack)
	wantErr(t, "get rolled-back subscription", err, ports.ENotFound, "")

	err = f.b.InTx(f.ctx, func(context.Context, ports.Stores) error {
		return ports.ReasonError(ports.EForbidden, "instance_limit_reached", "limit")
	})
	wantErr(t, "port error through InTx", err, ports.EForbidden, "instance_limit_reached")
}

// testTxNested checks that InTx and the update closures join a surrounding
// transaction, so that its rollback undoes their writes too.
func testTxNested(t *testing.T, f *fixture) {
	sub := f.subscription()
	in := f.instance(sub.ID, "sales")
	boom := errors.New("boom")
	var inner ports.InstanceID
	err := f.b.InTx(f.ctx, func(ctx context.Context, s ports.Stores) error {
		err := f.b.InTx(ctx, func(ctx context.Context, s ports.Stores) error {
			i := ports.Instance{ID: ports.InstanceID(newID()), Name: "inner", Status: ports.StatusCreated, CreatedAt: base, UpdatedAt: base}
			inner = i.ID
			return s.Instances.CreateInstance(ctx, sub.ID, i)
		})
		if err != nil {
			return err
		}
		_, err = s.Instances.UpdateInstance(ctx, sub.ID, in.ID, func(i *ports.Instance) error {
			i.Name = "renamed"
			return nil
		})
		if err != nil {
			return err
		}
		if n, err := s.Instances.CountInstances(ctx, sub.ID); err != nil || n != 2 {
			return fmt.Errorf("count inside the transaction: got %d, %v; want 2, nil", n, err)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("outer transaction: got %v, want the fn's error", err)
	}
	_, err = f.s.Instances.GetInstance(f.ctx, sub.ID, inner)
	wantErr(t, "get instance created by the inner InTx", err, ports.ENotFound, "")
	got, err := f.s.Instances.GetInstance(f.ctx, sub.ID, in.ID)
	mustOK(t, "get instance", err)
	if got.Name != "sales" {
		t.Errorf("name after the rollback: got %q, want %q", got.Name, "sales")
	}
}

// testInstanceLimitRace runs the core's limit check (lock the subscription,
// count, create) from many transactions at once: the lock must keep them
// from all seeing a count under the limit.
func testInstanceLimitRace(t *testing.T, f *fixture) {
	const (
		limit    = 3
		creators = 10
	)
	sub := f.subscription()
	errLimit := ports.ReasonError(ports.EForbidden, "instance_limit_reached", "limit reached")
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		ok     int
		others []error
	)
	start := make(chan struct{})
	for i := range creators {
		wg.Go(func() {
			<-start
			err := f.b.InTx(f.ctx, func(ctx context.Context, s ports.Stores) error {
				if _, err := s.Subscriptions.LockSubscription(ctx, sub.ID); err != nil {
					return err
				}
				n, err := s.Instances.CountInstances(ctx, sub.ID)
				if err != nil {
					return err
				}
				if n >= limit {
					return errLimit
				}
				in := ports.Instance{
					ID: ports.InstanceID(newID()), Name: fmt.Sprintf("inst-%d", i),
					Status: ports.StatusCreated, CreatedAt: base, UpdatedAt: base,
				}
				return s.Instances.CreateInstance(ctx, sub.ID, in)
			})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, errLimit):
				others = append(others, err)
			}
		})
	}
	close(start)
	wg.Wait()
	n, err := f.s.Instances.CountInstances(f.ctx, sub.ID)
	mustOK(t, "count instances", err)
	if ok != limit || n != limit || len(others) > 0 {
		t.Errorf("got %d creates, %d instances, other errors %v; want %d, %d, none", ok, n, others, limit, limit)
	}
}
