package webhooks_test

import (
	"sync"
	"testing"

	"github.com/wagate/wagate/ports"
)

// A delivery's cost in store calls, each one statement in the SQL stores
// (no UpdateDelivery, whose locked read-modify-write is four): the drain
// reads due deliveries in batches, claims each batch's run in one call,
// records each delivery in one call, and the jobs its drain made already
// end without a read.
func TestDeliveryStoreCallsPerDelivery(t *testing.T) {
	e := newEnv(t)
	e.create(t, "*")
	const n = 40
	for range n {
		e.publish(t, ports.EventInstanceStatus)
	}
	var mu sync.Mutex
	calls := map[string]int{}
	e.store.Hook = func(method string) error {
		mu.Lock()
		calls[method]++
		mu.Unlock()
		return nil
	}
	for range n {
		e.run(t)
	}
	e.store.Hook = nil
	if got := len(e.hitIDs()); got != n {
		t.Fatalf("got %d posts, want %d", got, n)
	}
	total := 0
	for _, c := range calls {
		total += c
	}
	t.Logf("store calls for %d deliveries: %v (%.2f per delivery)", n, calls, float64(total)/n)
	if calls["UpdateDelivery"] != 0 || calls["ClaimDelivery"] != 0 || calls["SaveAttempt"] != n {
		t.Errorf("got %v, want one SaveAttempt per delivery, claims in batches and no UpdateDelivery", calls)
	}
	// The batch reads and claims (n/16 each, and a read that finds none)
	// and the endpoint's first read and success record come on top.
	if max := n + n/8 + 6; total > max {
		t.Errorf("got %d store calls for %d deliveries, want at most %d", total, n, max)
	}
}
