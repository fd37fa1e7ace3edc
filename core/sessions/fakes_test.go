package sessions_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wagate/wagate/core/coretest"
	"github.com/wagate/wagate/core/sessions"
	"github.com/wagate/wagate/ports"
)

// fakeWA is a hand-written ports.WhatsApp that records its calls in a log
// it may share with the store's hook, so that tests see the order of both.
type fakeWA struct {
	log *callLog

	mu         sync.Mutex
	connectErr map[ports.InstanceID]error
	err        error // returned by every other call when set
	onConnect  func(ports.InstanceID)
	exists     map[string]bool // digits → on WhatsApp
}

var _ ports.WhatsApp = (*fakeWA)(nil)

func (f *fakeWA) Connect(_ context.Context, id ports.InstanceID, opt ports.ConnectOptions) error {
	f.log.add(fmt.Sprintf("connect %s jid=%s proxy=%s", id, opt.JID, opt.ProxyURL))
	f.mu.Lock()
	err, hook := f.connectErr[id], f.onConnect
	f.mu.Unlock()
	if err == nil && hook != nil {
		hook(id)
	}
	return err
}

func (f *fakeWA) PairCode(_ context.Context, id ports.InstanceID, phone string) (string, error) {
	f.log.add(fmt.Sprintf("pair-code %s %s", id, phone))
	if err := f.failure(); err != nil {
		return "", err
	}
	return "ABCD-EFGH", nil
}

func (f *fakeWA) Disconnect(_ context.Context, id ports.InstanceID) error {
	f.log.add("disconnect " + string(id))
	return f.failure()
}

func (f *fakeWA) Logout(_ context.Context, id ports.InstanceID) error {
	f.log.add("logout " + string(id))
	return f.failure()
}

func (f *fakeWA) CheckNumbers(_ context.Context, id ports.InstanceID, phones []string) ([]ports.NumberCheck, error) {
	f.log.add(fmt.Sprintf("check %s %s", id, strings.Join(phones, ",")))
	if err := f.failure(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]ports.NumberCheck, len(phones))
	for i, p := range phones {
		out[i] = ports.NumberCheck{PhoneNumber: p}
		if f.exists[p] {
			out[i].Exists, out[i].JID = true, p+"@s.whatsapp.net"
		}
	}
	return out, nil
}

func (f *fakeWA) Send(context.Context, ports.InstanceID, ports.WAOutbound) (ports.WASent, error) {
	return ports.WASent{}, ports.Errorf(ports.EUnsupported, "the fake does not send")
}

func (f *fakeWA) failure() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// removerWA adds the optional ports.WADeviceRemover.
type removerWA struct{ *fakeWA }

var _ ports.WADeviceRemover = removerWA{}

func (f removerWA) RemoveDevice(_ context.Context, id ports.InstanceID, jid string) error {
	f.log.add(fmt.Sprintf("remove-device %s %s", id, jid))
	return f.failure()
}

// callLog is an ordered, concurrency-safe list of calls.
type callLog struct {
	mu    sync.Mutex
	calls []string
}

func (l *callLog) add(c string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, c)
}

// take returns the calls so far and starts a new list.
func (l *callLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.calls
	l.calls = nil
	return out
}

// recordingBus is a ports.EventBus that keeps what is published.
type recordingBus struct {
	mu     sync.Mutex
	events []ports.Event
}

func (b *recordingBus) Publish(_ context.Context, e ports.Event) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.events = append(b.events, e)
	return nil
}

func (b *recordingBus) Subscribe(context.Context, ports.EventFilter) (<-chan ports.Event, error) {
	return nil, ports.Errorf(ports.EUnsupported, "the recording bus has no subscribers")
}

// take returns the events so far and starts a new list.
func (b *recordingBus) take() []ports.Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.events
	b.events = nil
	return out
}

// lifeEnv is a service wired to fakes for the lifecycle tests.
type lifeEnv struct {
	*env
	wa    *fakeWA
	log   *callLog
	bus   *recordingBus
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
	log := &callLog{}
	e := &lifeEnv{
		env: &env{store: coretest.NewStore(), clock: coretest.NewClock(), ids: &coretest.IDs{}},
		wa:  &fakeWA{log: log, exists: map[string]bool{}}, log: log, bus: &recordingBus{},
	}
	d := sessions.Deps{
		Tx: e.store, Stores: e.store.Stores(), Clock: e.clock, IDs: e.ids,
		WhatsApp: e.wa, Bus: e.bus, Limiter: coretest.NewLimiter(e.clock), Directory: e.store.Directory(),
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
		d, ok := ev.Data.(ports.InstanceStatusData)
		if ev.Type != ports.EventInstanceStatus || !ok {
			out = append(out, string(ev.Type))
			continue
		}
		out = append(out, fmt.Sprintf("%s>%s/%s", d.PreviousStatus, d.Status, d.Reason))
	}
	return out
}

func checkEnvelope(t *testing.T, ev ports.Event, sub ports.SubscriptionID, id ports.InstanceID) {
	t.Helper()
	if !strings.HasPrefix(ev.ID, "evt_id-") || ev.SubscriptionID != sub || ev.InstanceID != id || !ev.At.Equal(coretest.Epoch) {
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
