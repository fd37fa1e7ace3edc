package storetest

import (
	"testing"

	"github.com/wagate/wagate/ports"
)

// testMessageLocation: a location message keeps its pin through create,
// get and update; a message without one reads back without one.
func testMessageLocation(t *testing.T, f *fixture, _ ports.MessageOutbox) {
	sub := f.subscription()
	inst := f.instance(sub.ID, "one")
	pin := ports.WALocation{Latitude: -33.856784, Longitude: 151.215297, Name: "Opera House ✓", Address: "Bennelong Point, Sydney"}
	m := f.message(inst, base, func(m *ports.Message) {
		m.Type, m.Text, m.Location = ports.MessageLocation, "", &ports.WALocation{Latitude: pin.Latitude, Longitude: pin.Longitude, Name: pin.Name, Address: pin.Address}
	})
	got, err := f.s.Messages.GetMessage(f.ctx, sub.ID, m.ID)
	mustOK(t, "get location message", err)
	if got.Type != ports.MessageLocation || got.Location == nil || *got.Location != pin {
		t.Fatalf("got %s %+v, want location %+v", got.Type, got.Location, pin)
	}
	upd, err := f.s.Messages.UpdateMessage(f.ctx, sub.ID, m.ID, func(m *ports.Message) error {
		m.Status = ports.MsgSent
		return nil
	})
	mustOK(t, "update location message", err)
	if upd.Location == nil || *upd.Location != pin {
		t.Errorf("after update: got %+v, want %+v", upd.Location, pin)
	}
	text := f.message(inst, base, nil)
	if got, err := f.s.Messages.GetMessage(f.ctx, sub.ID, text.ID); err != nil || got.Location != nil {
		t.Errorf("a text message: got location %+v (%v), want none", got.Location, err)
	}
}
