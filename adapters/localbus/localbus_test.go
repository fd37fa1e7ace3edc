package localbus_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/wagate/wagate/adapters/localbus"
	"github.com/wagate/wagate/ports"
)

func event(sub ports.SubscriptionID, inst ports.InstanceID, typ ports.EventType, id string) ports.Event {
	return ports.Event{ID: id, Type: typ, SubscriptionID: sub, InstanceID: inst, At: time.Unix(0, 0)}
}

func subscribe(t *testing.T, b *localbus.Bus, ctx context.Context, f ports.EventFilter) <-chan ports.Event {
	t.Helper()
	ch, err := b.Subscribe(ctx, f)
	if err != nil {
		t.Fatalf("subscribe %+v: %v", f, err)
	}
	return ch
}

func publish(t *testing.T, b *localbus.Bus, evs ...ports.Event) {
	t.Helper()
	for _, e := range evs {
		if err := b.Publish(context.Background(), e); err != nil {
			t.Fatalf("publish %s: %v", e.ID, err)
		}
	}
}

// queued returns the ids of the events waiting in ch without blocking:
// Publish queues synchronously, so what was published is there already.
func queued(ch <-chan ports.Event) (ids []string, open bool) {
	for {
		select {
		case e, ok := <-ch:
			if !ok {
				return ids, false
			}
			ids = append(ids, e.ID)
		default:
			return ids, true
		}
	}
}

// waitClosed fails unless ch is closed (after any queued events) soon.
func waitClosed(t *testing.T, ch <-chan ports.Event) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-timeout:
			t.Fatal("channel: got still open, want closed")
		}
	}
}

func equal(a, b []string) bool { return fmt.Sprint(a) == fmt.Sprint(b) }

func TestSubscriptionRequired(t *testing.T) {
	b := localbus.New(localbus.Options{})
	if _, err := b.Subscribe(t.Context(), ports.EventFilter{InstanceID: "i1"}); !ports.IsCode(err, ports.EInvalid) {
		t.Errorf("subscribe without subscription: got %v, want EInvalid", err)
	}
	if err := b.Publish(t.Context(), event("", "i1", ports.EventInstanceQR, "e1")); !ports.IsCode(err, ports.EInvalid) {
		t.Errorf("publish without subscription: got %v, want EInvalid", err)
	}
}

func TestTenantIsolation(t *testing.T) {
	b := localbus.New(localbus.Options{})
	a := subscribe(t, b, t.Context(), ports.EventFilter{SubscriptionID: "sub-a"})
	other := subscribe(t, b, t.Context(), ports.EventFilter{SubscriptionID: "sub-b"})
	// The same instance id under another subscription must not leak either.
	sneaky := subscribe(t, b, t.Context(), ports.EventFilter{SubscriptionID: "sub-b", InstanceID: "inst-a"})
	publish(t, b,
		event("sub-a", "inst-a", ports.EventInstanceStatus, "a1"),
		event("sub-a", "inst-a", ports.EventInstanceQR, "a2"),
		event("sub-b", "inst-b", ports.EventInstanceStatus, "b1"),
	)
	for _, tc := range []struct {
		name string
		ch   <-chan ports.Event
		want []string
	}{
		{"subscriber of A", a, []string{"a1", "a2"}},
		{"subscriber of B", other, []string{"b1"}},
		{"subscriber of B naming A's instance", sneaky, nil},
	} {
		if got, _ := queued(tc.ch); !equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestFilters(t *testing.T) {
	evs := []ports.Event{
		event("sub", "i1", ports.EventInstanceStatus, "i1-status"),
		event("sub", "i1", ports.EventInstanceQR, "i1-qr"),
		event("sub", "i2", ports.EventInstanceStatus, "i2-status"),
		event("sub", "i2", ports.EventMessageReceived, "i2-message"),
	}
	tests := []struct {
		name   string
		filter ports.EventFilter
		want   []string
	}{
		{"everything", ports.EventFilter{SubscriptionID: "sub"}, []string{"i1-status", "i1-qr", "i2-status", "i2-message"}},
		{"one instance", ports.EventFilter{SubscriptionID: "sub", InstanceID: "i2"}, []string{"i2-status", "i2-message"}},
		{"one type", ports.EventFilter{SubscriptionID: "sub", Types: []ports.EventType{ports.EventInstanceStatus}},
			[]string{"i1-status", "i2-status"}},
		{"two types", ports.EventFilter{SubscriptionID: "sub", Types: []ports.EventType{ports.EventInstanceQR, ports.EventMessageReceived}},
			[]string{"i1-qr", "i2-message"}},
		{"instance and type", ports.EventFilter{SubscriptionID: "sub", InstanceID: "i1", Types: []ports.EventType{ports.EventInstanceQR}},
			[]string{"i1-qr"}},
		{"unknown instance", ports.EventFilter{SubscriptionID: "sub", InstanceID: "i9"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := localbus.New(localbus.Options{})
			ch := subscribe(t, b, t.Context(), tc.filter)
			publish(t, b, evs...)
			got, open := queued(ch)
			if !equal(got, tc.want) {
				t.Errorf("events: got %v, want %v", got, tc.want)
			}
			if !open {
				t.Error("channel: got closed, want open")
			}
		})
	}
}

func TestSubscriberFilterIsCopied(t *testing.T) {
	b := localbus.New(localbus.Options{})
	types := []ports.EventType{ports.EventInstanceQR}
	ch := subscribe(t, b, t.Context(), ports.EventFilter{SubscriptionID: "sub", Types: types})
	types[0] = ports.EventInstanceStatus
	publish(t, b, event("sub", "i1", ports.EventInstanceQR, "qr"), event("sub", "i1", ports.EventInstanceStatus, "status"))
	if got, _ := queued(ch); !equal(got, []string{"qr"}) {
		t.Errorf("events after the caller changed its slice: got %v, want [qr]", got)
	}
}

func TestSlowSubscriberIsDropped(t *testing.T) {
	b := localbus.New(localbus.Options{Buffer: 2})
	slow := subscribe(t, b, t.Context(), ports.EventFilter{SubscriptionID: "sub"})
	fast := subscribe(t, b, t.Context(), ports.EventFilter{SubscriptionID: "sub"})
	var fastGot []string
	for i := range 4 {
		// Nobody reads slow: Publish must return anyway.
		publish(t, b, event("sub", "i1", ports.EventInstanceStatus, fmt.Sprint("e", i)))
		got, open := queued(fast)
		if !open {
			t.Fatalf("fast subscriber after event %d: got closed, want open", i)
		}
		fastGot = append(fastGot, got...)
	}
	if want := []string{"e0", "e1", "e2", "e3"}; !equal(fastGot, want) {
		t.Errorf("fast subscriber: got %v, want %v", fastGot, want)
	}
	got, open := queued(slow)
	if want := []string{"e0", "e1"}; !equal(got, want) || open {
		t.Errorf("slow subscriber: got %v (open %v), want %v then closed", got, open, want)
	}
	if n := b.Subscribers(); n != 1 {
		t.Errorf("subscribers: got %d, want 1", n)
	}
}

func TestContextEndClosesChannel(t *testing.T) {
	b := localbus.New(localbus.Options{})
	ctx, cancel := context.WithCancel(t.Context())
	ch := subscribe(t, b, ctx, ports.EventFilter{SubscriptionID: "sub"})
	keep := subscribe(t, b, t.Context(), ports.EventFilter{SubscriptionID: "sub"})
	cancel()
	waitClosed(t, ch)
	publish(t, b, event("sub", "i1", ports.EventInstanceQR, "after"))
	if got, open := queued(keep); !equal(got, []string{"after"}) || !open {
		t.Errorf("other subscriber: got %v (open %v), want [after] and open", got, open)
	}
	if n := b.Subscribers(); n != 1 {
		t.Errorf("subscribers: got %d, want 1", n)
	}
}

func TestEndedContextClosesAtOnce(t *testing.T) {
	b := localbus.New(localbus.Options{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	ch := subscribe(t, b, ctx, ports.EventFilter{SubscriptionID: "sub"})
	waitClosed(t, ch)
	if n := b.Subscribers(); n != 0 {
		t.Errorf("subscribers: got %d, want 0", n)
	}
}

func TestCloseEndsEverySubscriber(t *testing.T) {
	b := localbus.New(localbus.Options{})
	a := subscribe(t, b, t.Context(), ports.EventFilter{SubscriptionID: "sub-a"})
	c := subscribe(t, b, t.Context(), ports.EventFilter{SubscriptionID: "sub-b"})
	b.Close()
	waitClosed(t, a)
	waitClosed(t, c)
	if _, err := b.Subscribe(t.Context(), ports.EventFilter{SubscriptionID: "sub-a"}); !ports.IsCode(err, ports.EUnavailable) {
		t.Errorf("subscribe after close: got %v, want EUnavailable", err)
	}
	if err := b.Publish(t.Context(), event("sub-a", "i1", ports.EventInstanceQR, "late")); err != nil {
		t.Errorf("publish after close: got %v, want nil", err)
	}
}

// TestConcurrentUse is for the race detector: publishers, subscribers that
// come and go, and slow ones dropped, all at once.
func TestConcurrentUse(t *testing.T) {
	b := localbus.New(localbus.Options{Buffer: 4})
	var wg sync.WaitGroup
	for p := range 4 {
		wg.Go(func() {
			for i := range 200 {
				sub := ports.SubscriptionID(fmt.Sprint("sub-", i%2))
				if err := b.Publish(context.Background(), event(sub, "i1", ports.EventInstanceStatus, fmt.Sprint(p, "-", i))); err != nil {
					t.Errorf("publish: %v", err)
				}
			}
		})
	}
	for s := range 8 {
		wg.Go(func() {
			for range 20 {
				ctx, cancel := context.WithCancel(context.Background())
				ch, err := b.Subscribe(ctx, ports.EventFilter{SubscriptionID: ports.SubscriptionID(fmt.Sprint("sub-", s%2))})
				if err != nil {
					t.Errorf("subscribe: %v", err)
					cancel()
					return
				}
				if s%2 == 0 {
					<-time.After(time.Millisecond) // fall behind now and then
				}
				cancel()
				for e := range ch {
					if e.SubscriptionID != ports.SubscriptionID(fmt.Sprint("sub-", s%2)) {
						t.Errorf("event of %s delivered to a subscriber of sub-%d", e.SubscriptionID, s%2)
					}
				}
			}
		})
	}
	wg.Wait()
	b.Close()
	if n := b.Subscribers(); n != 0 {
		t.Errorf("subscribers after close: got %d, want 0", n)
	}
}
