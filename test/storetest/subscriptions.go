package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/wagate/wagate/ports"
)

func testSubscriptions(t *testing.T, f *fixture) {
	st := f.s.Subscriptions
	want := f.subscription()

	got, err := st.GetSubscription(f.ctx, want.ID)
	mustOK(t, "get subscription", err)
	diff(t, "subscription", want, got)
	wantUTC(t, "created at", got.CreatedAt)

	locked, err := st.LockSubscription(f.ctx, want.ID)
	mustOK(t, "lock subscription outside a transaction", err)
	diff(t, "locked subscription", want, locked)

	_, err = st.GetSubscription(f.ctx, ports.SubscriptionID(newID()))
	wantErr(t, "get missing subscription", err, ports.ENotFound, "")
	_, err = st.LockSubscription(f.ctx, ports.SubscriptionID(newID()))
	wantErr(t, "lock missing subscription", err, ports.ENotFound, "")

	err = st.CreateSubscription(f.ctx, want)
	wantErr(t, "create duplicate subscription", err, ports.EConflict, "")
}

func testSubscriptionUpdate(t *testing.T, f *fixture) {
	st := f.s.Subscriptions
	sub := f.subscription()
	later := base.Add(time.Hour)

	got, err := st.UpdateSubscription(f.ctx, sub.ID, func(s *ports.Subscription) error {
		s.Tier = ports.TierPro
		s.UpdatedAt = later
		return nil
	})
	mustOK(t, "update subscription", err)
	want := sub
	want.Tier, want.UpdatedAt = ports.TierPro, later
	diff(t, "updated subscription", want, got)
	stored, err := st.GetSubscription(f.ctx, sub.ID)
	mustOK(t, "get subscription", err)
	diff(t, "stored subscription", want, stored)

	boom := errors.New("boom")
	_, err = st.UpdateSubscription(f.ctx, sub.ID, func(s *ports.Subscription) error {
		s.Tier = ports.TierMax
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("update with failing fn: got %v, want the fn's error", err)
	}
	stored, err = st.GetSubscription(f.ctx, sub.ID)
	mustOK(t, "get subscription", err)
	if stored.Tier != ports.TierPro {
		t.Errorf("tier after an aborted update: got %q, want %q", stored.Tier, ports.TierPro)
	}

	_, err = st.UpdateSubscription(f.ctx, ports.SubscriptionID(newID()), func(*ports.Subscription) error {
		t.Error("fn called for a missing subscription")
		return nil
	})
	wantErr(t, "update missing subscription", err, ports.ENotFound, "")
}

func testSubscriptionPaging(t *testing.T, f *fixture) {
	var want []ports.SubscriptionID
	for range 5 {
		want = append(want, f.subscription().ID)
	}
	got := collect(t, 2, 3, func(p ports.PageRequest) ([]ports.SubscriptionID, string, error) {
		page, err := f.s.Subscriptions.ListSubscriptions(f.ctx, p)
		ids := make([]ports.SubscriptionID, len(page.Items))
		for i, s := range page.Items {
			ids[i] = s.ID
		}
		return ids, page.Next, err
	})
	diff(t, "subscriptions in order", want, got)
}

// collect pages through a list with the given limit and returns every item;
// it fails unless it took exactly wantPages pages, the last one with an
// empty Next.
func collect[T any](t *testing.T, limit, wantPages int, list func(ports.PageRequest) ([]T, string, error)) []T {
	t.Helper()
	var (
		all   []T
		after string
	)
	for pages := 1; ; pages++ {
		items, next, err := list(ports.PageRequest{Limit: limit, After: after})
		mustOK(t, "list page", err)
		if len(items) > limit {
			t.Fatalf("page %d: got %d items, want at most %d", pages, len(items), limit)
		}
		all = append(all, items...)
		if next == "" {
			if pages != wantPages {
				t.Errorf("got %d pages, want %d", pages, wantPages)
			}
			return all
		}
		if pages > wantPages {
			t.Fatalf("got more than %d pages, want %d", pages, wantPages)
		}
		after = next
	}
}
