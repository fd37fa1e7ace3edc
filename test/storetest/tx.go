package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

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

// testTxBinding checks that the transaction is the stores handed to fn,
// not the context: the update closures of those stores join it, so its
// rollback undoes their writes, while the stores from outside, even given
// fn's ctx, work outside it and do not see its writes before the commit.
// (A write through the outside stores while fn runs is not tried: on
// SQLite, with its one writer, it waits for the transaction to end.)
func testTxBinding(t *testing.T, f *fixture) {
	sub := f.subscription()
	in := f.instance(sub.ID, "sales")
	boom := errors.New("boom")
	var inner ports.InstanceID
	err := f.b.InTx(f.ctx, func(ctx context.Context, s ports.Stores) error {
		i := ports.Instance{ID: ports.InstanceID(newID()), Name: "inner", Status: ports.StatusCreated, CreatedAt: base, UpdatedAt: base}
		inner = i.ID
		if err := s.Instances.CreateInstance(ctx, sub.ID, i); err != nil {
			return err
		}
		_, err := s.Instances.UpdateInstance(ctx, sub.ID, in.ID, func(i *ports.Instance) error {
			i.Name = "renamed"
			return nil
		})
		if err != nil {
			return err
		}
		if n, err := s.Instances.CountInstances(ctx, sub.ID); err != nil || n != 2 {
			return fmt.Errorf("count inside the transaction: got %d, %v; want 2, nil", n, err)
		}
		_, err = f.s.Instances.GetInstance(ctx, sub.ID, inner)
		wantErr(t, "get the uncommitted instance through the outside stores", err, ports.ENotFound, "")
		if got, err := f.s.Instances.GetInstance(ctx, sub.ID, in.ID); err != nil || got.Name != "sales" {
			t.Errorf("name outside the transaction: got %q, %v; want %q", got.Name, err, "sales")
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("transaction: got %v, want the fn's error", err)
	}
	_, err = f.s.Instances.GetInstance(f.ctx, sub.ID, inner)
	wantErr(t, "get instance created in the rolled-back transaction", err, ports.ENotFound, "")
	got, err := f.s.Instances.GetInstance(f.ctx, sub.ID, in.ID)
	mustOK(t, "get instance", err)
	if got.Name != "sales" {
		t.Errorf("name after the rollback: got %q, want %q", got.Name, "sales")
	}
}

// testTxIdempotency checks that an Idempotency-Key answer written through
// the transaction's stores commits or rolls back with it, the guarantee
// that no crash leaves a created resource whose key a retry could reuse.
func testTxIdempotency(t *testing.T, f *fixture) {
	sub := f.subscription()
	rec := ports.IdempotencyRecord{ID: newID(), Key: "k-" + newID(), RequestHash: "h", CreatedAt: base, ExpiresAt: base.Add(24 * time.Hour)}
	_, err := f.s.Idempotency.BeginIdempotency(f.ctx, sub.ID, rec)
	mustOK(t, "begin", err)
	complete := func(fail error) error {
		return f.b.InTx(f.ctx, func(ctx context.Context, s ports.Stores) error {
			if err := s.Idempotency.CompleteIdempotency(ctx, sub.ID, rec.Key, rec.ID, 202, "application/json", []byte(`{}`)); err != nil {
				return err
			}
			return fail
		})
	}
	boom := errors.New("boom")
	if err := complete(boom); !errors.Is(err, boom) {
		t.Fatalf("rolled-back completion: got %v, want the fn's error", err)
	}
	got, err := f.s.Idempotency.BeginIdempotency(f.ctx, sub.ID, rec)
	wantErr(t, "begin again", err, ports.EConflict, "")
	if got.State != ports.IdempotencyInProgress {
		t.Errorf("state after the rollback: got %q, want %q", got.State, ports.IdempotencyInProgress)
	}
	mustOK(t, "committed completion", complete(nil))
	got, _ = f.s.Idempotency.BeginIdempotency(f.ctx, sub.ID, rec)
	if got.State != ports.IdempotencyDone || got.Status != 202 {
		t.Errorf("after the commit: got %q %d, want %q 202", got.State, got.Status, ports.IdempotencyDone)
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
