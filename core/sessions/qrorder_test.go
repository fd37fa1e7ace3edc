package sessions_test

import (
	"context"
	"testing"
	"time"

	"github.com/wagate/wagate/core/sessions"
	"github.com/wagate/wagate/ports"
)

// watchedTx calls committed with the instances a transaction saved, once
// it has committed: the moment a client polling GET /instances/{id} could
// see the new status.
type watchedTx struct {
	ports.TxRunner
	committed func(ports.Instance)
}

func (w watchedTx) InTx(ctx context.Context, fn func(ctx context.Context, st ports.Stores) error) error {
	var saved []ports.Instance
	err := w.TxRunner.InTx(ctx, func(ctx context.Context, st ports.Stores) error {
		st.Instances = watchedInstances{InstanceStore: st.Instances, saved: func(i ports.Instance) { saved = append(saved, i) }}
		return fn(ctx, st)
	})
	if err == nil {
		for _, i := range saved {
			w.committed(i)
		}
	}
	return err
}

// watchedInstances calls saved after every saved update.
type watchedInstances struct {
	ports.InstanceStore
	saved func(ports.Instance)
}

func (w watchedInstances) UpdateInstance(ctx context.Context, sub ports.SubscriptionID, id ports.InstanceID, fn func(*ports.Instance) error) (ports.Instance, error) {
	i, err := w.InstanceStore.UpdateInstance(ctx, sub, id, fn)
	if err == nil {
		w.saved(i)
	}
	return i, err
}

// TestQRVisibleWithItsStatus: from the moment status qr is stored, GET
// /qr must find the code (issue 10: a client polling until qr got 409
// not_awaiting_qr about one time in three, the status being written
// before the code was held). The adapter reports the status first, then
// the code, as the whatsmeow adapter does.
func TestQRVisibleWithItsStatus(t *testing.T) {
	ctx := context.Background()
	var svc *sessions.Service
	var owner ports.Principal
	var atQR []error // the QR call's outcome each time qr was stored
	watch := func(d *sessions.Deps, e *lifeEnv) {
		d.Tx = watchedTx{TxRunner: d.Tx, committed: func(i ports.Instance) {
			if i.Status == ports.StatusQR {
				_, err := svc.QR(ctx, owner, i.ID)
				atQR = append(atQR, err)
			}
		}}
	}
	e := newLifeEnv(t, watch)
	svc, owner = e.svc, e.owner
	inst := e.instance(t, e.owner, "sales", ports.StatusCreated, "")
	if err := e.svc.Connect(ctx, e.owner, inst.ID); err != nil {
		t.Fatalf("connect: %v", err)
	}
	e.handle(status(inst.ID, ports.StatusConnecting, ""))
	e.handle(status(inst.ID, ports.StatusQR, ""))
	e.handle(qrEvent(inst.ID, "2@code-1", 1, e.clock.Now().Add(time.Minute)))

	if len(atQR) != 1 || atQR[0] != nil {
		t.Fatalf("QR when status qr was stored: got %v, want one store of qr with the code already held", atQR)
	}
	if got := e.get(t, e.owner, inst.ID).Status; got != ports.StatusQR {
		t.Errorf("status: got %s, want qr", got)
	}
	wantStrings(t, "events", statusSeq(t, e.bus.Take(), inst.SubscriptionID, inst.ID), []string{
		"created>connecting/", "connecting>qr/", "instance.qr",
	})
}
