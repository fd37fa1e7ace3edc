package sessions_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/wagate/wagate/core/sessions"
	"github.com/wagate/wagate/ports"
)

func pairCodeLimits(perInstance, perSubscription int) lifeOpt {
	return func(d *sessions.Deps, _ *lifeEnv) {
		d.PairCodeLimit = ports.Limit{Count: perInstance, Period: 10 * time.Minute}
		d.PairCodeSubscriptionLimit = ports.Limit{Count: perSubscription, Period: time.Hour}
	}
}

// TestPairCodeRateLimit: every pair code sends a linking prompt to a
// phone, so they are limited per instance and per subscription (issue 10:
// one instance issued 8 in a row). A refused request never reaches
// WhatsApp and says how long to wait.
func TestPairCodeRateLimit(t *testing.T) {
	ctx := context.Background()
	e := newLifeEnv(t, pairCodeLimits(2, 3))
	a := e.instance(t, e.owner, "a", ports.StatusQR, "")
	b := e.instance(t, e.owner, "b", ports.StatusQR, "")
	c := e.instance(t, e.owner, "c", ports.StatusQR, "")
	other := e.instance(t, e.other, "other", ports.StatusQR, "")
	pair := func(p ports.Principal, id ports.InstanceID) error {
		_, err := e.svc.PairCode(ctx, p, id, "+49 151 1234567")
		return err
	}
	for i := range 2 {
		if err := pair(e.owner, a.ID); err != nil {
			t.Fatalf("code %d of a: %v", i+1, err)
		}
	}
	e.clock.Advance(time.Minute + 300*time.Millisecond)
	err := pair(e.owner, a.ID)
	wantErr(t, err, ports.ERateLimited, "rate_limited")
	if got := ports.AsError(err); got.RetryAfter != 9*time.Minute || !strings.Contains(got.Message, "instance") {
		t.Errorf("got %q retry after %v, want the instance's limit and 9m", got.Message, got.RetryAfter)
	}
	// a's refusal did not use up the subscription's third code.
	if err := pair(e.owner, b.ID); err != nil {
		t.Fatalf("code of b: %v", err)
	}
	for _, id := range []ports.InstanceID{b.ID, c.ID} {
		err = pair(e.owner, id)
		wantErr(t, err, ports.ERateLimited, "rate_limited")
		if got := ports.AsError(err); got.RetryAfter != 59*time.Minute || !strings.Contains(got.Message, "subscription") {
			t.Errorf("%s: got %q retry after %v, want the subscription's limit and 59m", id, got.Message, got.RetryAfter)
		}
	}
	if err := pair(e.other, other.ID); err != nil {
		t.Errorf("another subscription: got %v, want its own allowance", err)
	}
	calls := e.log.Take()
	if len(calls) != 4 {
		t.Errorf("adapter calls: got %q, want the 4 codes allowed", calls)
	}
	e.clock.Advance(time.Hour)
	if err := pair(e.owner, c.ID); err != nil {
		t.Errorf("after the window: got %v, want nil", err)
	}
}
