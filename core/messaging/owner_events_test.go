package messaging_test

import (
	"testing"

	"github.com/wagate/wagate/ports"
)

// A connection this node let go of may still report: its events are the
// new holder's to handle, so they are dropped here.
func TestEventsOnlyOfHeldInstances(t *testing.T) {
	e := newEnv(t, ports.StatusConnected)
	o := withOwner(e)
	inbound := func(waID string) ports.WAEvent {
		return ports.WAEvent{Subscription: e.p.SubscriptionID, Instance: e.inst.ID, Kind: ports.WAMessage, Message: &ports.WAInbound{
			WAMessageID: waID, Chat: "15550002222@s.whatsapp.net", From: "15550002222@s.whatsapp.net", Text: "hi",
		}}
	}
	e.svc.HandleEvent(inbound("3EB0ELSEWHERE"))
	o.Set(e.inst.ID, true)
	e.svc.HandleEvent(inbound("3EB0HERE"))
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
