package messaging_test

import (
	"math"
	"strings"
	"testing"

	"github.com/wagate/wagate/core/coretest"
	"github.com/wagate/wagate/core/messaging"
	"github.com/wagate/wagate/ports"
)

func f64(v float64) *float64 { return &v }

func TestSendLocationValidation(t *testing.T) {
	long := func(n int) string { return strings.Repeat("é", n) }
	ok := messaging.SendLocationCmd{To: "+15550001111", Latitude: f64(52.52), Longitude: f64(13.405)}
	with := func(change func(*messaging.SendLocationCmd)) messaging.SendLocationCmd {
		c := ok
		change(&c)
		return c
	}
	tests := []struct {
		name   string
		cmd    messaging.SendLocationCmd
		fields string // the failed fields; empty when accepted
	}{
		{"coordinates only", ok, ""},
		{"the corners", with(func(c *messaging.SendLocationCmd) { c.Latitude, c.Longitude = f64(-90), f64(180) }), ""},
		{"longest labels", with(func(c *messaging.SendLocationCmd) { c.Name, c.Address = long(256), long(512) }), ""},
		{"no latitude", with(func(c *messaging.SendLocationCmd) { c.Latitude = nil }), "latitude"},
		{"no longitude", with(func(c *messaging.SendLocationCmd) { c.Longitude = nil }), "longitude"},
		{"latitude over 90", with(func(c *messaging.SendLocationCmd) { c.Latitude = f64(90.0001) }), "latitude"},
		{"longitude under -180", with(func(c *messaging.SendLocationCmd) { c.Longitude = f64(-180.5) }), "longitude"},
		{"NaN", with(func(c *messaging.SendLocationCmd) { c.Latitude = f64(math.NaN()) }), "latitude"},
		{"infinity", with(func(c *messaging.SendLocationCmd) { c.Longitude = f64(math.Inf(1)) }), "longitude"},
		{"name too long", with(func(c *messaging.SendLocationCmd) { c.Name = long(257) }), "name"},
		{"address too long", with(func(c *messaging.SendLocationCmd) { c.Address = long(513) }), "address"},
		{"bad to and both missing", messaging.SendLocationCmd{To: "x"}, "to,latitude,longitude"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, ports.StatusConnected)
			m, err := e.svc.SendLocation(t.Context(), e.p, e.inst.ID, tc.cmd)
			if tc.fields == "" {
				if err != nil || m.Type != ports.MessageLocation || m.Status != ports.MsgQueued || m.Location == nil ||
					m.Location.Latitude != *tc.cmd.Latitude || m.Location.Name != tc.cmd.Name {
					t.Fatalf("got %+v, %v; want a queued location with the command's pin", m, err)
				}
				return
			}
			var got []string
			if pe := ports.AsError(err); pe != nil {
				for _, f := range pe.Fields {
					got = append(got, f.Field)
				}
			}
			if strings.Join(got, ",") != tc.fields {
				t.Errorf("got %v (fields %v), want invalid fields %s", err, got, tc.fields)
			}
		})
	}
}

func TestSendLocationRefusals(t *testing.T) {
	cmd := messaging.SendLocationCmd{To: "+15550001111", Latitude: f64(1), Longitude: f64(2)}
	e := newEnv(t, ports.StatusLoggedOut)
	if _, err := e.svc.SendLocation(t.Context(), e.p, e.inst.ID, cmd); ports.AsError(err) == nil || ports.AsError(err).Reason != "instance_not_connected" {
		t.Errorf("a logged-out instance: got %v, want instance_not_connected", err)
	}
	e = newEnv(t, ports.StatusConnected)
	key := ports.Principal{Kind: ports.PrincipalAPIKey, SubscriptionID: e.p.SubscriptionID, InstanceID: e.inst.ID, Scopes: []ports.Scope{ports.ScopeMessagesRead}}
	if _, err := e.svc.SendLocation(t.Context(), key, e.inst.ID, cmd); !ports.IsCode(err, ports.EForbidden) {
		t.Errorf("a key without messages:send: got %v, want forbidden", err)
	}
}

func TestSendLocationReachesWhatsApp(t *testing.T) {
	e := newEnv(t, ports.StatusConnected)
	m, err := e.svc.SendLocation(t.Context(), e.p, e.inst.ID, messaging.SendLocationCmd{
		To: "+15550001111", Latitude: f64(-33.8568), Longitude: f64(151.2153), Name: "Opera House", Address: "Bennelong Point",
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.run(t, m.ID); err != nil {
		t.Fatalf("handle send: %v", err)
	}
	want := ports.WALocation{Latitude: -33.8568, Longitude: 151.2153, Name: "Opera House", Address: "Bennelong Point"}
	if len(e.wa.Sent) != 1 || e.wa.Sent[0].Location == nil || *e.wa.Sent[0].Location != want || e.wa.Sent[0].Text != "" {
		t.Fatalf("got sends %+v, want one location %+v without text", e.wa.Sent, want)
	}
	if got := e.get(t, m.ID); got.Status != ports.MsgSent || got.Location == nil || *got.Location != want {
		t.Errorf("got %s %+v, want sent with the pin kept", got.Status, got.Location)
	}
}

func TestInboundLocationStored(t *testing.T) {
	e := newEnv(t, ports.StatusConnected)
	pin := ports.WALocation{Latitude: 48.8584, Longitude: 2.2945, Name: strings.Repeat("n", 300), Address: "Champ de Mars"}
	e.svc.HandleEvent(ports.WAEvent{Subscription: e.p.SubscriptionID, Instance: e.inst.ID, Kind: ports.WAMessage, Message: &ports.WAInbound{
		WAMessageID: "3EB0LOC", Chat: "15550002222@s.whatsapp.net", From: "15550002222@s.whatsapp.net", Location: &pin,
	}})
	page, err := e.svc.List(t.Context(), e.p, e.inst.ID, ports.MessageFilter{Direction: ports.DirectionInbound}, ports.PageRequest{})
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("inbound messages: got %d, %v; want 1", len(page.Items), err)
	}
	m := page.Items[0]
	if m.Type != ports.MessageLocation || m.Location == nil || m.Location.Latitude != pin.Latitude ||
		m.Location.Longitude != pin.Longitude || len(m.Location.Name) != messaging.MaxLocationName || m.Location.Address != pin.Address {
		t.Errorf("got %s %+v, want a location with the pin, its name cut to %d", m.Type, m.Location, messaging.MaxLocationName)
	}
	var emitted *ports.Message
	for _, ev := range e.bus.Events() {
		if d, err := coretest.DataAs[ports.Message](ev); err == nil && ev.Type == ports.EventMessageReceived {
			emitted = &d
		}
	}
	if emitted == nil || emitted.Location == nil || emitted.ID != m.ID {
		t.Errorf("got message.received %+v, want the stored location", emitted)
	}
}
