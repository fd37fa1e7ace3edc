package sessions_test

import (
	"context"
	"errors"
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

// lifecycleCalls are the new methods, each run by p on id.
var lifecycleCalls = []struct {
	name string
	call func(e *lifeEnv, p ports.Principal, id ports.InstanceID) error
}{
	{"connect", func(e *lifeEnv, p ports.Principal, id ports.InstanceID) error {
		return e.svc.Connect(context.Background(), p, id)
	}},
	{"qr", func(e *lifeEnv, p ports.Principal, id ports.InstanceID) error {
		_, err := e.svc.QR(context.Background(), p, id)
		return err
	}},
	{"pair-code", func(e *lifeEnv, p ports.Principal, id ports.InstanceID) error {
		_, err := e.svc.PairCode(context.Background(), p, id, "+49 151 1234567")
		return err
	}},
	{"disconnect", func(e *lifeEnv, p ports.Principal, id ports.InstanceID) error {
		return e.svc.Disconnect(context.Background(), p, id)
	}},
	{"logout", func(e *lifeEnv, p ports.Principal, id ports.InstanceID) error {
		return e.svc.Logout(context.Background(), p, id)
	}},
}

func TestLifecycleHidesOtherTenants(t *testing.T) {
	calls := append(lifecycleCalls, struct {
		name string
		call func(e *lifeEnv, p ports.Principal, id ports.InstanceID) error
	}{"check-contacts", func(e *lifeEnv, p ports.Principal, id ports.InstanceID) error {
		_, err := e.svc.CheckContacts(context.Background(), p, id, []string{"+4915112345678"})
		return err
	}})
	for _, tc := range calls {
		t.Run(tc.name, func(t *testing.T) {
			e := newLifeEnv(t)
			theirs := e.instance(t, e.other, "theirs", ports.StatusQR, "")
			e.handle(qrEvent(theirs.ID, "2@their-code", 1, coretest.Epoch.Add(time.Minute)))
			e.bus.Take()
			wantErr(t, tc.call(e, e.owner, theirs.ID), ports.ENotFound, "")
			wantErr(t, tc.call(e, e.owner, "no-such-instance"), ports.ENotFound, "")
			wantStrings(t, "adapter calls", e.log.Take(), nil)
			if evs := e.bus.Take(); len(evs) != 0 {
				t.Errorf("events: got %d, want none", len(evs))
			}
			if got := e.get(t, e.other, theirs.ID).Status; got != ports.StatusQR {
				t.Errorf("their status: got %s, want qr", got)
			}
		})
	}
}

func TestLifecycleForbidsAPIKeys(t *testing.T) {
	for _, tc := range lifecycleCalls {
		t.Run(tc.name, func(t *testing.T) {
			e := newLifeEnv(t)
			inst := e.instance(t, e.owner, "sales", ports.StatusQR, "")
			key := keyPrincipal(inst, ports.AllScopes...)
			wantErr(t, tc.call(e, key, inst.ID), ports.EForbidden, "forbidden")
			wantStrings(t, "adapter calls", e.log.Take(), nil)
		})
	}
}

func TestConnect(t *testing.T) {
	const jid = "4915112345678:3@s.whatsapp.net"
	tests := []struct {
		name      string
		status    ports.InstanceStatus
		jid       string
		wantCall  string // JID handed to the adapter
		wantEvent []string
		wantState ports.InstanceStatus
	}{
		{"created pairs", ports.StatusCreated, "", "", []string{"created>connecting/"}, ports.StatusConnecting},
		{"logged out pairs anew", ports.StatusLoggedOut, jid, "", []string{"logged_out>connecting/"}, ports.StatusConnecting},
		{"disconnected logs in", ports.StatusDisconnected, jid, jid, []string{"disconnected>connecting/"}, ports.StatusConnecting},
		{"connected stays", ports.StatusConnected, jid, jid, nil, ports.StatusConnected},
		{"pairing stays", ports.StatusQR, "", "", nil, ports.StatusQR},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newLifeEnv(t)
			inst := e.instance(t, e.owner, "sales", tc.status, tc.jid)
			if err := e.svc.Connect(context.Background(), e.owner, inst.ID); err != nil {
				t.Fatalf("connect: %v", err)
			}
			wantStrings(t, "adapter calls", e.log.Take(),
				[]string{fmt.Sprintf("connect %s jid=%s proxy=socks5://proxy:1080", inst.ID, tc.wantCall)})
			wantStrings(t, "events", statusSeq(t, e.bus.Take(), inst.SubscriptionID, inst.ID), tc.wantEvent)
			if got := e.get(t, e.owner, inst.ID).Status; got != tc.wantState {
				t.Errorf("status: got %s, want %s", got, tc.wantState)
			}
			if got := e.store.AuditActions(); got[len(got)-1] != "instance.connect" {
				t.Errorf("last audit action: got %q, want instance.connect", got[len(got)-1])
			}
		})
	}
}

func TestConnectStatusOnceWhenAdapterReportsItToo(t *testing.T) {
	e := newLifeEnv(t)
	inst := e.instance(t, e.owner, "sales", ports.StatusDisconnected, "")
	// The adapter reports connecting itself before Connect returns.
	e.wa.OnConnect = func(id ports.InstanceID) { e.handle(status(id, ports.StatusConnecting, "")) }
	if err := e.svc.Connect(context.Background(), e.owner, inst.ID); err != nil {
		t.Fatalf("connect: %v", err)
	}
	e.handle(status(inst.ID, ports.StatusConnecting, ""))
	wantStrings(t, "events", statusSeq(t, e.bus.Take(), inst.SubscriptionID, inst.ID), []string{"disconnected>connecting/"})
}

func TestConnectRefusedPutsStatusBack(t *testing.T) {
	e := newLifeEnv(t)
	inst := e.instance(t, e.owner, "sales", ports.StatusDisconnected, "")
	if _, err := e.store.Stores().Instances.UpdateInstance(context.Background(), inst.SubscriptionID, inst.ID, func(i *ports.Instance) error {
		i.StatusReason = "qr_timeout"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	e.wa.ConnectErr = map[ports.InstanceID]error{inst.ID: ports.Errorf(ports.EInvalid, "the proxy URL is invalid")}
	wantErr(t, e.svc.Connect(context.Background(), e.owner, inst.ID), ports.EInvalid, "")
	got := e.get(t, e.owner, inst.ID)
	if got.Status != ports.StatusDisconnected || got.StatusReason != "qr_timeout" {
		t.Errorf("status: got %s/%s, want disconnected/qr_timeout", got.Status, got.StatusReason)
	}
	wantStrings(t, "events", statusSeq(t, e.bus.Take(), inst.SubscriptionID, inst.ID),
		[]string{"disconnected>connecting/", "connecting>disconnected/qr_timeout"})
}

func TestConnectWithoutWhatsApp(t *testing.T) {
	e := newLifeEnv(t, func(d *sessions.Deps, _ *lifeEnv) { d.WhatsApp = nil })
	inst := e.instance(t, e.owner, "sales", ports.StatusCreated, "")
	wantErr(t, e.svc.Connect(context.Background(), e.owner, inst.ID), ports.EUnavailable, "")
	if got := e.get(t, e.owner, inst.ID).Status; got != ports.StatusCreated {
		t.Errorf("status: got %s, want created", got)
	}
}

// TestStatusEvents plays a whole pairing as the adapter reports it.
func TestStatusEvents(t *testing.T) {
	e := newLifeEnv(t)
	inst := e.instance(t, e.owner, "sales", ports.StatusCreated, "")
	if err := e.svc.Connect(context.Background(), e.owner, inst.ID); err != nil {
		t.Fatalf("connect: %v", err)
	}
	const jid = "4915112345678:7@s.whatsapp.net"
	for _, ev := range []ports.WAEvent{
		status(inst.ID, ports.StatusConnecting, ""),
		status(inst.ID, ports.StatusQR, ""),
		qrEvent(inst.ID, "2@code-1", 1, e.clock.Now().Add(time.Minute)),
		status(inst.ID, ports.StatusQR, ""),
		status(inst.ID, ports.StatusConnecting, "paired"),
		connected(inst.ID, jid, "Ada"),
		connected(inst.ID, jid, "Ada"),
		{Instance: inst.ID, Kind: ports.WAMessage, Message: &ports.WAInbound{Text: "hi"}},
		{Instance: inst.ID, Kind: ports.WAReceipt, Receipt: &ports.WAReceiptEvent{Type: ports.ReceiptRead}},
		status(inst.ID, ports.StatusConnecting, "network"),
		connected(inst.ID, jid, ""),
	} {
		e.handle(ev)
	}
	evs := e.bus.Take()
	wantStrings(t, "events", statusSeq(t, evs, inst.SubscriptionID, inst.ID), []string{
		"created>connecting/",
		"connecting>qr/",
		"instance.qr",
		"qr>connecting/paired",
		"connecting>connected/",
		"connected>connecting/network",
		"connecting>connected/",
	})
	qr, _ := coretest.DataAs[ports.InstanceQRData](evs[2])
	if qr.QR != "2@code-1" || qr.Attempt != 1 {
		t.Errorf("qr event: got %+v, want code 2@code-1, attempt 1", qr)
	}
	got := e.get(t, e.owner, inst.ID)
	if got.Status != ports.StatusConnected || got.JID != jid || got.PhoneNumber != "4915112345678" || got.PushName != "Ada" {
		t.Errorf("instance: got status %s, jid %q, phone %q, push name %q; want connected with the device's details",
			got.Status, got.JID, got.PhoneNumber, got.PushName)
	}
	if got.LastConnectedAt == nil || !got.LastConnectedAt.Equal(coretest.Epoch) {
		t.Errorf("last connected at: got %v, want %v", got.LastConnectedAt, coretest.Epoch)
	}
}

func TestStatusEventUnlinkedClearsJID(t *testing.T) {
	e := newLifeEnv(t)
	inst := e.instance(t, e.owner, "sales", ports.StatusConnected, "4915112345678:7@s.whatsapp.net")
	e.handle(status(inst.ID, ports.StatusLoggedOut, "unlinked"))
	got := e.get(t, e.owner, inst.ID)
	if got.Status != ports.StatusLoggedOut || got.StatusReason != "unlinked" || got.JID != "" {
		t.Errorf("instance: got %s/%s jid %q, want logged_out/unlinked without a JID", got.Status, got.StatusReason, got.JID)
	}
	wantStrings(t, "events", statusSeq(t, e.bus.Take(), inst.SubscriptionID, inst.ID), []string{"connected>logged_out/unlinked"})
}

func TestEventsOfUnknownInstancesAreDropped(t *testing.T) {
	e := newLifeEnv(t)
	inst := e.instance(t, e.owner, "sales", ports.StatusConnected, "4915112345678:7@s.whatsapp.net")
	// Known to the service (cached owner), then deleted.
	e.handle(status(inst.ID, ports.StatusConnecting, "network"))
	if err := e.svc.Delete(context.Background(), e.owner, inst.ID); err != nil {
		t.Fatalf("delete: %v", err)
	}
	e.bus.Take()
	for _, id := range []ports.InstanceID{inst.ID, "never-existed"} {
		e.handle(status(id, ports.StatusConnected, ""))
		e.handle(qrEvent(id, "2@code", 1, coretest.Epoch.Add(time.Minute)))
	}
	if evs := e.bus.Take(); len(evs) != 0 {
		t.Errorf("events: got %d, want none", len(evs))
	}
}

func TestQR(t *testing.T) {
	e := newLifeEnv(t)
	ctx := context.Background()
	inst := e.instance(t, e.owner, "sales", ports.StatusCreated, "")
	_, err := e.svc.QR(ctx, e.owner, inst.ID)
	wantErr(t, err, ports.EConflict, "not_awaiting_qr")

	e.handle(status(inst.ID, ports.StatusQR, ""))
	_, err = e.svc.QR(ctx, e.owner, inst.ID)
	wantErr(t, err, ports.EConflict, "not_awaiting_qr") // no code yet

	e.handle(qrEvent(inst.ID, "2@code-1", 1, e.clock.Now().Add(time.Minute)))
	got, err := e.svc.QR(ctx, e.owner, inst.ID)
	if err != nil || got.Code != "2@code-1" || got.Attempt != 1 {
		t.Fatalf("qr: got %+v, %v; want code 2@code-1, attempt 1", got, err)
	}
	e.clock.Advance(time.Minute)
	_, err = e.svc.QR(ctx, e.owner, inst.ID)
	wantErr(t, err, ports.EConflict, "not_awaiting_qr") // expired

	e.handle(qrEvent(inst.ID, "2@code-2", 2, e.clock.Now().Add(20*time.Second)))
	got, err = e.svc.QR(ctx, e.owner, inst.ID)
	if err != nil || got.Code != "2@code-2" || got.Attempt != 2 {
		t.Fatalf("qr: got %+v, %v; want code 2@code-2, attempt 2", got, err)
	}

	e.handle(connected(inst.ID, "4915112345678:7@s.whatsapp.net", "Ada"))
	_, err = e.svc.QR(ctx, e.owner, inst.ID)
	wantErr(t, err, ports.EConflict, "not_awaiting_qr")
	// A code that outlives its status must not come back with the next
	// pairing's status before its own code.
	e.handle(status(inst.ID, ports.StatusQR, ""))
	_, err = e.svc.QR(ctx, e.owner, inst.ID)
	wantErr(t, err, ports.EConflict, "not_awaiting_qr")
}

func TestPairCode(t *testing.T) {
	ctx := context.Background()
	for _, phone := range []string{"", "123456", "1234567890123456", "+49 (151) 1234567", "49151abc", "phone"} {
		t.Run("invalid "+phone, func(t *testing.T) {
			e := newLifeEnv(t)
			inst := e.instance(t, e.owner, "sales", ports.StatusQR, "")
			_, err := e.svc.PairCode(ctx, e.owner, inst.ID, phone)
			wantFields(t, err, "phoneNumber")
			wantStrings(t, "adapter calls", e.log.Take(), nil)
		})
	}
	for _, st := range []ports.InstanceStatus{ports.StatusCreated, ports.StatusConnecting, ports.StatusConnected, ports.StatusDisconnected} {
		t.Run("status "+string(st), func(t *testing.T) {
			e := newLifeEnv(t)
			inst := e.instance(t, e.owner, "sales", st, "")
			_, err := e.svc.PairCode(ctx, e.owner, inst.ID, "+49 151 1234567")
			wantErr(t, err, ports.EConflict, "not_awaiting_qr")
			wantStrings(t, "adapter calls", e.log.Take(), nil)
		})
	}
	t.Run("pairing", func(t *testing.T) {
		e := newLifeEnv(t)
		inst := e.instance(t, e.owner, "sales", ports.StatusCreated, "")
		e.handle(status(inst.ID, ports.StatusQR, ""))
		e.handle(qrEvent(inst.ID, "2@code-1", 1, e.clock.Now().Add(time.Minute)))
		code, err := e.svc.PairCode(ctx, e.owner, inst.ID, "+49 151-1234567")
		if err != nil || code != "ABCD-EFGH" {
			t.Fatalf("pair code: got %q, %v; want ABCD-EFGH", code, err)
		}
		wantStrings(t, "adapter calls", e.log.Take(), []string{"pair-code " + string(inst.ID) + " 491511234567"})
		// The adapter stops showing QR codes once a pair code is out.
		_, err = e.svc.QR(ctx, e.owner, inst.ID)
		wantErr(t, err, ports.EConflict, "not_awaiting_qr")
	})
	t.Run("adapter refuses", func(t *testing.T) {
		e := newLifeEnv(t)
		inst := e.instance(t, e.owner, "sales", ports.StatusQR, "")
		e.wa.Err = ports.ReasonError(ports.EConflict, "not_awaiting_qr", "not pairing")
		_, err := e.svc.PairCode(ctx, e.owner, inst.ID, "4915112345678")
		wantErr(t, err, ports.EConflict, "not_awaiting_qr")
	})
}

func TestDisconnect(t *testing.T) {
	const jid = "4915112345678:7@s.whatsapp.net"
	tests := []struct {
		name      string
		status    ports.InstanceStatus
		wantState string
		wantEvent []string
	}{
		{"connected", ports.StatusConnected, "disconnected/manual", []string{"connected>disconnected/manual"}},
		{"pairing", ports.StatusQR, "disconnected/manual", []string{"qr>disconnected/manual"}},
		{"never connected", ports.StatusCreated, "created/", nil},
		{"unlinked", ports.StatusLoggedOut, "logged_out/", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newLifeEnv(t)
			inst := e.instance(t, e.owner, "sales", tc.status, jid)
			if err := e.svc.Disconnect(context.Background(), e.owner, inst.ID); err != nil {
				t.Fatalf("disconnect: %v", err)
			}
			// The adapter's own report of the same status adds nothing.
			if tc.wantEvent != nil {
				e.handle(status(inst.ID, ports.StatusDisconnected, "manual"))
			}
			wantStrings(t, "adapter calls", e.log.Take(), []string{"disconnect " + string(inst.ID)})
			wantStrings(t, "events", statusSeq(t, e.bus.Take(), inst.SubscriptionID, inst.ID), tc.wantEvent)
			got := e.get(t, e.owner, inst.ID)
			if s := string(got.Status) + "/" + got.StatusReason; s != tc.wantState || got.JID != jid {
				t.Errorf("instance: got %s jid %q, want %s jid %q", s, got.JID, tc.wantState, jid)
			}
			if acts := e.store.AuditActions(); acts[len(acts)-1] != "instance.disconnect" {
				t.Errorf("last audit action: got %q, want instance.disconnect", acts[len(acts)-1])
			}
		})
	}
}

func TestDisconnectAdapterError(t *testing.T) {
	e := newLifeEnv(t)
	inst := e.instance(t, e.owner, "sales", ports.StatusConnected, "4915112345678:7@s.whatsapp.net")
	e.wa.Err = ports.Errorf(ports.EUnavailable, "shutting down")
	wantErr(t, e.svc.Disconnect(context.Background(), e.owner, inst.ID), ports.EUnavailable, "")
	if got := e.get(t, e.owner, inst.ID).Status; got != ports.StatusConnected {
		t.Errorf("status: got %s, want connected", got)
	}
	if acts := e.store.AuditActions(); acts[len(acts)-1] == "instance.disconnect" {
		t.Error("audit: got instance.disconnect, want no entry for a failed disconnect")
	}
}

func TestLogout(t *testing.T) {
	const jid = "4915112345678:7@s.whatsapp.net"
	tests := []struct {
		name     string
		opts     []lifeOpt
		status   ports.InstanceStatus
		jid      string
		wantCall string
	}{
		{"linked, adapter removes devices", []lifeOpt{withRemover}, ports.StatusConnected, jid, "remove-device %s " + jid},
		{"linked, plain adapter", nil, ports.StatusDisconnected, jid, "logout %s"},
		{"pairing", []lifeOpt{withRemover}, ports.StatusQR, "", "logout %s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newLifeEnv(t, tc.opts...)
			inst := e.instance(t, e.owner, "sales", tc.status, tc.jid)
			if err := e.svc.Logout(context.Background(), e.owner, inst.ID); err != nil {
				t.Fatalf("logout: %v", err)
			}
			wantStrings(t, "adapter calls", e.log.Take(), []string{fmt.Sprintf(tc.wantCall, inst.ID)})
			wantStrings(t, "events", statusSeq(t, e.bus.Take(), inst.SubscriptionID, inst.ID),
				[]string{string(tc.status) + ">logged_out/manual"})
			got := e.get(t, e.owner, inst.ID)
			if got.Status != ports.StatusLoggedOut || got.StatusReason != "manual" || got.JID != "" {
				t.Errorf("instance: got %s/%s jid %q, want logged_out/manual without a JID", got.Status, got.StatusReason, got.JID)
			}
			if acts := e.store.AuditActions(); acts[len(acts)-1] != "instance.logout" {
				t.Errorf("last audit action: got %q, want instance.logout", acts[len(acts)-1])
			}
		})
	}
}

func TestLogoutAdapterError(t *testing.T) {
	e := newLifeEnv(t, withRemover)
	inst := e.instance(t, e.owner, "sales", ports.StatusConnected, "4915112345678:7@s.whatsapp.net")
	e.wa.Err = errors.New("database gone")
	if err := e.svc.Logout(context.Background(), e.owner, inst.ID); err == nil {
		t.Fatal("logout: got nil error, want the adapter's")
	}
	if got := e.get(t, e.owner, inst.ID); got.Status != ports.StatusConnected || got.JID == "" {
		t.Errorf("instance: got %s jid %q, want connected and still linked", got.Status, got.JID)
	}
}

func TestCheckContacts(t *testing.T) {
	ctx := context.Background()
	e := newLifeEnv(t)
	mine := e.instance(t, e.owner, "sales", ports.StatusConnected, "4915112345678:7@s.whatsapp.net")
	sibling := e.instance(t, e.owner, "support", ports.StatusConnected, "4915187654321:2@s.whatsapp.net")
	offline := e.instance(t, e.owner, "offline", ports.StatusDisconnected, "4915100000000:2@s.whatsapp.net")
	theirs := e.instance(t, e.other, "theirs", ports.StatusConnected, "4470000000000:1@s.whatsapp.net")
	e.wa.Exists["4915111111111"] = true
	many := make([]string, 51)
	for i := range many {
		many[i] = fmt.Sprintf("+49151%07d", i)
	}
	tests := []struct {
		name   string
		p      ports.Principal
		id     ports.InstanceID
		phones []string
		code   ports.ErrorCode
		reason string
		fields []string
	}{
		{name: "user", p: e.owner, id: mine.ID, phones: []string{"+49 1511-1111111", "4915122222222"}},
		{name: "own key", p: keyPrincipal(mine, ports.ScopeContactsRead), id: mine.ID, phones: []string{"+49 1511-1111111", "4915122222222"}},
		{name: "key on a sibling", p: keyPrincipal(mine, ports.AllScopes...), id: sibling.ID, phones: []string{"4915111111111"}, code: ports.ENotFound},
		{name: "key without scope", p: keyPrincipal(mine, ports.ScopeMessagesSend), id: mine.ID, phones: []string{"4915111111111"}, code: ports.EForbidden, reason: "forbidden"},
		{name: "another tenant's instance", p: e.owner, id: theirs.ID, phones: []string{"4915111111111"}, code: ports.ENotFound},
		{name: "none", p: e.owner, id: mine.ID, phones: nil, code: ports.EInvalid, fields: []string{"phoneNumbers"}},
		{name: "51", p: e.owner, id: mine.ID, phones: many, code: ports.EInvalid, fields: []string{"phoneNumbers"}},
		{name: "bad numbers", p: e.owner, id: mine.ID, phones: []string{"4915111111111", "12", "4915122222222", "49x15122222222"},
			code: ports.EInvalid, fields: []string{"phoneNumbers[1]", "phoneNumbers[3]"}},
		{name: "not connected", p: e.owner, id: offline.ID, phones: []string{"4915111111111"}, code: ports.EConflict, reason: "instance_not_connected"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.log.Take()
			got, err := e.svc.CheckContacts(ctx, tc.p, tc.id, tc.phones)
			switch {
			case tc.fields != nil:
				wantFields(t, err, tc.fields...)
			case tc.code != "":
				wantErr(t, err, tc.code, tc.reason)
			}
			if tc.code != "" {
				wantStrings(t, "adapter calls", e.log.Take(), nil)
				return
			}
			if err != nil {
				t.Fatalf("check: %v", err)
			}
			wantStrings(t, "adapter calls", e.log.Take(), []string{"check " + string(tc.id) + " 4915111111111,4915122222222"})
			want := []ports.NumberCheck{
				{PhoneNumber: "+49 1511-1111111", Exists: true, JID: "4915111111111@s.whatsapp.net"},
				{PhoneNumber: "4915122222222"},
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("results: got %+v, want %+v", got, want)
			}
		})
	}
}

func TestCheckContactsAdapterNotConnected(t *testing.T) {
	e := newLifeEnv(t)
	inst := e.instance(t, e.owner, "sales", ports.StatusConnected, "4915112345678:7@s.whatsapp.net")
	e.wa.Err = ports.ReasonError(ports.EConflict, "instance_not_connected", "not connected")
	_, err := e.svc.CheckContacts(context.Background(), e.owner, inst.ID, []string{"4915111111111"})
	wantErr(t, err, ports.EConflict, "instance_not_connected")
}

func TestCheckContactsRateLimit(t *testing.T) {
	ctx := context.Background()
	e := newLifeEnv(t, contactsLimit(2))
	a := e.instance(t, e.owner, "sales", ports.StatusConnected, "4915112345678:7@s.whatsapp.net")
	b := e.instance(t, e.owner, "support", ports.StatusConnected, "4915187654321:2@s.whatsapp.net")
	check := func(id ports.InstanceID) error {
		_, err := e.svc.CheckContacts(ctx, e.owner, id, []string{"4915111111111"})
		return err
	}
	for i := range 2 {
		if err := check(a.ID); err != nil {
			t.Fatalf("check %d: %v", i+1, err)
		}
	}
	e.clock.Advance(20*time.Second + 300*time.Millisecond)
	err := check(a.ID)
	wantErr(t, err, ports.ERateLimited, "rate_limited")
	if got := ports.AsError(err).RetryAfter; got != 40*time.Second {
		t.Errorf("retry after: got %v, want 40s", got)
	}
	if err := check(b.ID); err != nil {
		t.Errorf("another instance: got %v, want its own allowance", err)
	}
	e.clock.Advance(40 * time.Second)
	if err := check(a.ID); err != nil {
		t.Errorf("after the window: got %v, want nil", err)
	}
}

func TestRestore(t *testing.T) {
	e := newLifeEnv(t)
	jid := func(n int) string { return fmt.Sprintf("49151000000%d:1@s.whatsapp.net", n) }
	want := []ports.Instance{
		e.instance(t, e.owner, "connected", ports.StatusConnected, jid(1)),
		e.instance(t, e.owner, "connecting", ports.StatusConnecting, jid(2)),
		e.instance(t, e.other, "theirs", ports.StatusConnected, jid(3)),
	}
	pairing := e.instance(t, e.owner, "pairing", ports.StatusConnecting, "")
	qr := e.instance(t, e.owner, "qr", ports.StatusQR, "")
	e.instance(t, e.owner, "stopped", ports.StatusDisconnected, jid(4))
	e.instance(t, e.owner, "unlinked", ports.StatusLoggedOut, "")
	e.instance(t, e.owner, "new", ports.StatusCreated, "")
	// One refusal does not stop the others.
	e.wa.ConnectErr = map[ports.InstanceID]error{want[0].ID: ports.Errorf(ports.EUnavailable, "network down")}
	audits := len(e.store.Audit())
	if err := e.svc.Restore(context.Background()); err != nil {
		t.Fatalf("restore: %v", err)
	}
	var wantCalls []string
	for _, inst := range want {
		wantCalls = append(wantCalls, fmt.Sprintf("connect %s jid=%s proxy=socks5://proxy:1080", inst.ID, inst.JID))
	}
	got := e.log.Take()
	slices.Sort(got)
	slices.Sort(wantCalls)
	wantStrings(t, "adapter calls", got, wantCalls)
	// Interrupted pairings are closed; restored instances get no event of
	// ours (the adapter reports their progress).
	evs := e.bus.Take()
	if len(evs) != 2 {
		t.Fatalf("events: got %d, want 2 (the interrupted pairings)", len(evs))
	}
	byInstance := func(id ports.InstanceID) []ports.Event {
		return slices.DeleteFunc(slices.Clone(evs), func(ev ports.Event) bool { return ev.InstanceID != id })
	}
	wantStrings(t, "pairing events", statusSeq(t, byInstance(pairing.ID), e.owner.SubscriptionID, pairing.ID), []string{"connecting>disconnected/interrupted"})
	wantStrings(t, "qr events", statusSeq(t, byInstance(qr.ID), e.owner.SubscriptionID, qr.ID), []string{"qr>disconnected/interrupted"})
	if n := len(e.store.Audit()); n != audits {
		t.Errorf("audit entries: got %d new, want none for the server's own reconnects", n-audits)
	}
	// Restored instances' events find their tenant.
	e.handle(status(want[2].ID, ports.StatusConnecting, "network"))
	wantStrings(t, "events", statusSeq(t, e.bus.Take(), e.other.SubscriptionID, want[2].ID), []string{"connected>connecting/network"})
}

func TestRestoreListFailure(t *testing.T) {
	e := newLifeEnv(t)
	e.store.Hook = func(method string) error {
		if method == "ListInstancesByStatus" {
			return errors.New("database gone")
		}
		return nil
	}
	if err := e.svc.Restore(context.Background()); err == nil || !strings.Contains(err.Error(), "database gone") {
		t.Errorf("restore: got %v, want the listing error", err)
	}
}

func TestDeleteUnlinks(t *testing.T) {
	const jid = "4915112345678:7@s.whatsapp.net"
	tests := []struct {
		name     string
		opts     []lifeOpt
		status   ports.InstanceStatus
		jid      string
		fail     bool
		wantCall string
	}{
		{"linked, adapter removes devices", []lifeOpt{withRemover}, ports.StatusDisconnected, jid, false, "remove-device %s " + jid},
		{"linked, plain adapter", nil, ports.StatusConnected, jid, false, "logout %s"},
		{"unlink fails", []lifeOpt{withRemover}, ports.StatusConnected, jid, true, "remove-device %s " + jid},
		{"pairing", []lifeOpt{withRemover}, ports.StatusQR, "", false, "disconnect %s"},
		{"never linked", []lifeOpt{withRemover}, ports.StatusCreated, "", false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newLifeEnv(t, tc.opts...)
			inst := e.instance(t, e.owner, "sales", tc.status, tc.jid)
			if tc.fail {
				e.wa.Err = errors.New("WhatsApp did not answer")
			}
			e.store.Hook = func(method string) error {
				if method == "DeleteInstance" {
					e.log.Add("store delete")
				}
				return nil
			}
			if err := e.svc.Delete(context.Background(), e.owner, inst.ID); err != nil {
				t.Fatalf("delete: %v", err)
			}
			want := []string{"store delete"}
			if tc.wantCall != "" {
				want = append([]string{fmt.Sprintf(tc.wantCall, inst.ID)}, want...)
			}
			wantStrings(t, "calls", e.log.Take(), want)
			_, err := e.store.Stores().Instances.GetInstance(context.Background(), e.owner.SubscriptionID, inst.ID)
			wantErr(t, err, ports.ENotFound, "")
		})
	}
}

// TestConcurrentEventsAndCalls is for the race detector: the adapter's
// event goroutines and API calls touch the same instances at once.
func TestConcurrentEventsAndCalls(t *testing.T) {
	e := newLifeEnv(t)
	var ids []ports.InstanceID
	for i := range 4 {
		ids = append(ids, e.instance(t, e.owner, fmt.Sprint("i", i), ports.StatusCreated, "").ID)
	}
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() {
			for n := range 20 {
				e.handle(status(id, ports.StatusQR, ""))
				e.handle(qrEvent(id, fmt.Sprint("2@code-", n), 1, coretest.Epoch.Add(time.Minute)))
				e.handle(connected(id, "4915112345678:7@s.whatsapp.net", "Ada"))
			}
		})
		wg.Go(func() {
			for range 20 {
				_ = e.svc.Connect(context.Background(), e.owner, id)
				_, _ = e.svc.QR(context.Background(), e.owner, id)
				_ = e.svc.Disconnect(context.Background(), e.owner, id)
			}
		})
	}
	wg.Wait()
	for _, id := range ids {
		if st := e.get(t, e.owner, id).Status; !slices.Contains([]ports.InstanceStatus{
			ports.StatusQR, ports.StatusConnected, ports.StatusConnecting, ports.StatusDisconnected}, st) {
			t.Errorf("status of %s: got %s, want one the calls lead to", id, st)
		}
	}
}

// TestInstanceChangedHearsMovesAndDeletes: what other modules cached of an
// instance (the accept path's check) is dropped when its status moves or
// it is deleted, and not when nothing moved.
func TestInstanceChangedHearsMovesAndDeletes(t *testing.T) {
	var mu sync.Mutex
	var heard []ports.InstanceID
	e := newLifeEnv(t, func(d *sessions.Deps, _ *lifeEnv) {
		d.InstanceChanged = func(id ports.InstanceID) {
			mu.Lock()
			heard = append(heard, id)
			mu.Unlock()
		}
	})
	inst := e.instance(t, e.owner, "sales", ports.StatusConnected, "4915112345678:7@s.whatsapp.net")
	take := func() int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, id := range heard {
			if id == inst.ID {
				n++
			}
		}
		heard = nil
		return n
	}
	take()
	if err := e.svc.Logout(context.Background(), e.owner, inst.ID); err != nil {
		t.Fatal(err)
	}
	if n := take(); n == 0 {
		t.Error("logout: heard nothing, want the instance")
	}
	if err := e.svc.Delete(context.Background(), e.owner, inst.ID); err != nil {
		t.Fatal(err)
	}
	if n := take(); n == 0 {
		t.Error("delete: heard nothing, want the instance")
	}
}
