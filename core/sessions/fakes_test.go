package sessions_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wagate/wagate/core/coretest"
	"github.com/wagate/wagate/core/sessions"
	"github.com/wagate/wagate/ports"
)

// removerWA adds the optional ports.WADeviceRemover.
type removerWA struct{ *coretest.WhatsApp }

var _ ports.WADeviceRemover = removerWA{}

func (f removerWA) RemoveDevice(_ context.Context, id ports.InstanceID, jid string) error {
	f.Log.Add(fmt.Sprintf("remove-device %s %s", id, jid))
	return f.Failure()
}

// lifeEnv is a service wired to fakes for the lifecycle tests.
type lifeEnv struct {
	*env
	wa    *coretest.WhatsApp
	log   *coretest.CallLog
	bus   *coretest.EventTap
	other ports.Principal // a user of another subscription
}

type lifeOpt func(*sessions.Deps, *lifeEnv)

// withRemover gives the fake adapter the optional device remover.
func withRemover(d *sessions.Deps, e *lifeEnv) { d.WhatsApp = removerWA{e.wa} }

func contactsLimit(n int) lifeOpt {
	return func(d *sessions.Deps, _ *lifeEnv) { d.ContactsLimit = ports.Limit{Count: n, Period: time.Minute} }
}

func newLifeEnv(t *testing.T, opts ...lifeOpt) *lifeEnv {
	t.Helper()
	log := &coretest.CallLog{}
	e := &lifeEnv{
		env: &env{store: coretest.NewStore(), clock: coretest.NewClock(), ids: &coretest.IDs{}},
		wa:  coretest.NewWhatsApp(log), log: log,
	}
	e.bus = coretest.NewEventTap(e.store)
	d := sessions.Deps{
		Tx: e.store, Stores: e.store.Stores(), Clock: e.clock, IDs: e.ids,
		WhatsApp: e.wa, Events: coretest.NewEventLog(e.clock, nil), Limiter: coretest.NewLimiter(e.clock), Directory: e.store.Directory(),
	}
	for _, o := range opts {
		o(&d, e)
	}
	e.svc = sessions.New(d)
	e.owner = e.store.SeedAccount(e.ids, e.clock, ports.TierMax, "ada@example.com")
	e.other = e.store.SeedAccount(e.ids, e.clock, ports.TierMax, "eve@example.com")
	return e
}

// instance creates an instance of p's subscription in the given state.
func (e *lifeEnv) instance(t *testing.T, p ports.Principal, name string, st ports.InstanceStatus, jid string) ports.Instance {
	t.Helper()
	inst, err := e.svc.Create(context.Background(), p, sessions.CreateCmd{Name: name, ProxyURL: "socks5://proxy:1080"})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	if st == ports.StatusCreated && jid == "" {
		return inst
	}
	inst, err = e.store.Stores().Instances.UpdateInstance(context.Background(), p.SubscriptionID, inst.ID, func(i *ports.Instance) error {
		i.Status, i.JID = st, jid
		if jid != "" {
			i.PhoneNumber = strings.SplitN(jid, "@", 2)[0]
		}
		return nil
	})
	if err != nil {
		t.Fatalf("set %s to %s: %v", name, st, err)
	}
	return inst
}

func (e *lifeEnv) get(t *testing.T, p ports.Principal, id ports.InstanceID) ports.Instance {
	t.Helper()
	inst, err := e.store.Stores().Instances.GetInstance(context.Background(), p.SubscriptionID, id)
	if err != nil {
		t.Fatalf("get %s: %v", id, err)
	}
	return inst
}

// status is an adapter status event.
func status(id ports.InstanceID, st ports.InstanceStatus, reason string) ports.WAEvent {
	return ports.WAEvent{Instance: id, Kind: ports.WAStatus, At: coretest.Epoch, Status: &ports.WAStatusChange{Status: st, Reason: reason}}
}

func connected(id ports.InstanceID, jid, pushName string) ports.WAEvent {
	ev := status(id, ports.StatusConnected, "")
	user, _, _ := strings.Cut(jid, "@")
	user, _, _ = strings.Cut(user, ":")
	ev.Status.JID, ev.Status.PhoneNumber, ev.Status.PushName = jid, user, pushName
	return ev
}

func qrEvent(id ports.InstanceID, code string, attempt int, expires time.Time) ports.WAEvent {
	return ports.WAEvent{Instance: id, Kind: ports.WAQR, At: coretest.Epoch, QR: &ports.WAQRCode{Code: code, Attempt: attempt, ExpiresAt: expires}}
}

// statusSeq renders instance.status events as "prev>status/reason" and
// checks their envelope.
func statusSeq(t *testing.T, evs []ports.Event, sub ports.SubscriptionID, id ports.InstanceID) []string {
	t.Helper()
	var out []string
	for _, ev := range evs {
		checkEnvelope(t, ev, sub, id)
		d, err := coretest.DataAs[ports.InstanceStatusData](ev)
		if ev.Type != ports.EventInstanceStatus || err != nil {
			out = append(out, string(ev.Type))
			continue
		}
		out = append(out, fmt.Sprintf("%s>%s/%s", d.PreviousStatus, d.Status, d.Reason))
	}
	return out
}

func checkEnvelope(t *testing.T, ev ports.Event, sub ports.SubscriptionID, id ports.InstanceID) {
	t.Helper()
	if !strings.HasPrefix(ev.ID, "evt_") || ev.SubscriptionID != sub || ev.InstanceID != id || !ev.At.Equal(coretest.Epoch) {
		t.Errorf("event envelope: got id %q, subscription %q, instance %q, at %v; want evt_ id, %q, %q, %v",
			ev.ID, ev.SubscriptionID, ev.InstanceID, ev.At, sub, id, coretest.Epoch)
	}
}

func wantStrings(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: got %q, want %q", what, got, want)
	}
}

// handle delivers ev as the adapter does, stamped with the subscription
// of its instance (none for an instance that is gone).
func (e *lifeEnv) handle(ev ports.WAEvent) {
	if inst, err := e.store.Directory().LookupInstance(context.Background(), ev.Instance); err == nil {
		ev.Subscription = inst.SubscriptionID
	}
	e.svc.HandleEvent(ev)
}
