package httpgin

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/wagate/wagate/ports"
)

func (f *fakeSimulator) ContactSendTextFromLID(_ context.Context, from, to, text string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return errors.New("no linked device")
	}
	f.lids = append(f.lids, textCall{from, to, text})
	return nil
}

// lid:true makes the contact write from its LID (SPEC §15a); without it,
// from its phone number; another tenant's instance is 404.
func TestSandboxInboundFromLID(t *testing.T) {
	e := newLifecycleEnv(t)
	access, _ := e.account("lid@example.com")
	other, _ := e.account("lid-other@example.com")
	inst := e.instanceOf(access, "one")
	phone := sandboxPhone(ports.InstanceID(inst.ID))
	e.status(inst.ID, ports.StatusConnected, phone)
	inbound := "/api/v1/sandbox/instances/" + inst.ID + "/inbound"

	w := e.do(req{method: "POST", path: inbound, token: access, body: `{"from":"+15550001111","text":"hi","lid":true}`})
	if w.Code != http.StatusAccepted || len(e.sim.lids) != 1 || e.sim.lids[0] != (textCall{"+15550001111", phone, "hi"}) || len(e.sim.texts) != 0 {
		t.Fatalf("lid:true: got %d %s, LID sends %+v and plain sends %+v; want 202 and one send from the LID", w.Code, w.Body, e.sim.lids, e.sim.texts)
	}
	w = e.do(req{method: "POST", path: inbound, token: access, body: `{"from":"+15550001111","text":"hi","lid":false}`})
	if w.Code != http.StatusAccepted || len(e.sim.texts) != 1 || len(e.sim.lids) != 1 {
		t.Fatalf("lid:false: got %d %s, LID sends %+v and plain sends %+v; want one plain send", w.Code, w.Body, e.sim.lids, e.sim.texts)
	}
	p := wantProblem(t, e.do(req{method: "POST", path: inbound, token: access,
		body: `{"from":"+15550001111","type":"location","latitude":1,"longitude":2,"lid":true}`}), http.StatusUnprocessableEntity, "validation_failed")
	if len(p.Errors) != 1 || p.Errors[0].Field != "lid" {
		t.Errorf("lid with a location: got errors %+v, want one on lid", p.Errors)
	}
	wantProblem(t, e.do(req{method: "POST", path: inbound, token: other, body: `{"from":"+15550001111","text":"hi","lid":true}`}), http.StatusNotFound, "not_found")
	if len(e.sim.lids) != 1 {
		t.Fatalf("got LID sends %+v after another tenant's call, want still one", e.sim.lids)
	}
}
