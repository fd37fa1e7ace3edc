package messaging_test

import (
	"testing"

	"github.com/wagate/wagate/ports"
)

// A connection this node let go of may still report: its events are the
// new holder's to handle, so they are left here (unacked).
func TestEventsOnlyOfHeldInstances(t *testing.T) {
	e := newEnv(t, ports.StatusConnected)
	o := withOwner(e)
	inbound := func(waID string) ports.WAEvent {
		return ports.WAEvent{Subscription: e.p.SubscriptionID, Instance: e.inst.ID, Kind: ports.WAMessage, Message: &ports.WAInbound{
			WAMessageID: waID, Chat: "15550002222@s.whatsapp.net", From: "15550002222@s.whatsapp.net", Text: "hi",
		}}
	}
	// Not handled here, and not to be acked: WhatsApp gives it to the
	// holder's connection.
	if err := e.svc.HandleEvent(inbound("3EB0ELSEWHERE")); !ports.IsCode(err, ports.EUnavailable) {
		t.Errorf("an instance held elsewhere: got %v, want unavailable (left unacked)", err)
	}
	o.Set(e.inst.ID, true)
	if err := e.svc.HandleEvent(inbound("3EB0HERE")); err != nil {
		t.Errorf("an instance held here: got %v, want nil", err)
	}
	// A database that cannot serve: the message is not stored and the
	// error says so, so that WhatsApp sends it again.
	e.store.Hook = func(string) error { return ports.Errorf(ports.EUnavailable, "database down") }
	if err := e.svc.HandleEvent(inbound("3EB0DBDOWN")); !ports.IsCode(err, ports.EUnavailable) {
		t.Errorf("database down: got %v, want unavailable (left unacked)", err)
	}
	e.store.Hook = nil
	page, err := e.svc.List(t.Context(), e.p, e.inst.ID, ports.MessageFilter{Direction: ports.DirectionInbound}, ports.PageRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range page.Items {
		got = append(got, m.WAMessageID)
	}
	if len(got) != 1 || got[0] != "3EB0HERE" {
		t.Errorf("got inbound messages %v, want only [3EB0HERE], received while held", got)
	}
}
