package webhooks_test

import (
	"testing"
	"time"

	"github.com/wagate/wagate/core/webhooks"
	"github.com/wagate/wagate/ports"
)

// failOnce makes one delivery to the instance's endpoints fail, starting
// their run of failures now.
func (e *env) failOnce(t *testing.T) {
	t.Helper()
	e.codes <- 500
	e.publish(t, ports.EventInstanceStatus)
	e.run(t)
}

func TestDisableStaleOnce(t *testing.T) {
	obs := &fakeObserver{}
	e := newEnv(t, func(d *webhooks.Deps) { d.Observer = obs })
	w := e.create(t, "*")
	e.failOnce(t)
	e.clock.Advance(webhooks.AutoDisableAfter - time.Minute)
	if n, err := e.svc.DisableStaleOnce(t.Context()); err != nil || n != 0 {
		t.Fatalf("before 5 days: got %d, %v; want 0", n, err)
	}
	e.clock.Advance(time.Minute) // no attempt happens meanwhile: the retry waits
	if n, err := e.svc.DisableStaleOnce(t.Context()); err != nil || n != 1 {
		t.Fatalf("after 5 days: got %d, %v; want 1", n, err)
	}
	got, _ := e.store.Stores().Webhooks.GetWebhook(t.Context(), e.p.SubscriptionID, w.ID)
	if got.Enabled || got.DisabledReason != "no successful delivery for 5 days" {
		t.Errorf("got enabled %v, reason %q; want disabled for failing 5 days", got.Enabled, got.DisabledReason)
	}
	audit := e.store.Audit()
	last := audit[len(audit)-1]
	if last.Action != "webhook.disabled" || last.TargetID != string(w.ID) || last.Details["reason"] != got.DisabledReason || last.ActorUserID != "" {
		t.Errorf("got audit %+v, want webhook.disabled of %s by the system, with the reason", last, w.ID)
	}
	if n, err := e.svc.DisableStaleOnce(t.Context()); err != nil || n != 0 {
		t.Errorf("again: got %d, %v; want 0", n, err)
	}
	if got := obs.disabled[webhooks.DisableFailing]; got != 1 {
		t.Errorf("observer: got %d disabled for failing, want 1", got)
	}
}

func TestDisableStaleSparesHealthy(t *testing.T) {
	e := newEnv(t)
	recovered := e.create(t, "*")
	e.failOnce(t)
	e.clock.Advance(2 * time.Second)
	e.run(t) // the retry succeeds: the run of failures ends
	quiet := e.create(t, "message.status")
	userOff := e.create(t, "*")
	// A failing endpoint its owner disabled: no second disable, no audit.
	if _, err := e.store.Stores().Webhooks.UpdateWebhook(t.Context(), e.p.SubscriptionID, userOff.ID, func(w *ports.WebhookEndpoint) error {
		now := e.clock.Now()
		w.FirstFailureAt, w.Enabled = &now, false
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	before := len(e.store.Audit())
	e.clock.Advance(10 * webhooks.AutoDisableAfter)
	if n, err := e.svc.DisableStaleOnce(t.Context()); err != nil || n != 0 {
		t.Errorf("got %d, %v; want 0", n, err)
	}
	for _, id := range []ports.WebhookID{recovered.ID, quiet.ID} {
		if got, _ := e.store.Stores().Webhooks.GetWebhook(t.Context(), e.p.SubscriptionID, id); !got.Enabled {
			t.Errorf("%s: got disabled (%q), want enabled: it is not failing", id, got.DisabledReason)
		}
	}
	if got := len(e.store.Audit()); got != before {
		t.Errorf("got %d new audit entries, want none", got-before)
	}
}
