package wasim_test

import (
	"testing"

	"go.mau.fi/whatsmeow/appstate"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"
)

// TestStatusBroadcast: a phone's status update reaches a linked whatsmeow
// client in the chat status@broadcast, decrypted with the phone's sender
// key; a phone outside the audience gets nothing of it.
func TestStatusBroadcast(t *testing.T) {
	sim := newSim(t, wasimOptions())
	alice := pairQR(t, sim, newContainer(t), "15550920")
	poster := sim.Contact("15550921")
	id, err := poster.SendStatus(ctxTimeout(t), []string{"15550920"}, &waE2E.Message{Conversation: proto.String("my story")})
	if err != nil {
		t.Fatalf("post a status: %v", err)
	}
	for {
		evt := waitEvent[*events.Message](t, alice)
		if evt.Message.GetSenderKeyDistributionMessage() != nil && evt.Message.GetConversation() == "" {
			continue // the key itself, which whatsmeow emits on its own
		}
		if evt.Info.ID != id || evt.Info.Chat != types.StatusBroadcastJID || evt.Info.Sender.User != "15550921" ||
			evt.Message.GetConversation() != "my story" {
			t.Fatalf("got message %s in %s from %s: %q, want %s in status@broadcast from 15550921: \"my story\"",
				evt.Info.ID, evt.Info.Chat, evt.Info.Sender, evt.Message.GetConversation(), id)
		}
		break
	}
}

// TestPresence: the server remembers the presence a client announces, with
// the push name it sent.
func TestPresence(t *testing.T) {
	sim := newSim(t, wasimOptions())
	alice := pairQR(t, sim, newContainer(t), "15550930")
	if _, ok := sim.Presence("15550930"); ok {
		t.Fatalf("presence before any was sent: got one, want none")
	}
	alice.Store.PushName = "Alice"
	if err := alice.SendPresence(ctxTimeout(t), types.PresenceAvailable); err != nil {
		t.Fatalf("send presence: %v", err)
	}
	p, err := sim.WaitPresence(ctxTimeout(t), "+15550930", true)
	if err != nil || p.Name != "Alice" {
		t.Fatalf("presence: got %+v, %v, want available as Alice", p, err)
	}
	if err := alice.SendPresence(ctxTimeout(t), types.PresenceUnavailable); err != nil {
		t.Fatalf("send presence: %v", err)
	}
	if _, err := sim.WaitPresence(ctxTimeout(t), "15550930", false); err != nil {
		t.Fatalf("presence after unavailable: %v", err)
	}
}

// TestSharePushName: once the phone shares its app-state key, a linked
// whatsmeow client syncs the phone's push name, can announce its presence
// with it, and can change it by a patch of its own.
func TestSharePushName(t *testing.T) {
	sim := newSim(t, wasimOptions())
	alice := pairQR(t, sim, newContainer(t), "15550940")
	if err := sim.SharePushName(ctxTimeout(t), "15550940", "Alice's shop"); err != nil {
		t.Fatalf("share push name: %v", err)
	}
	if evt := waitEvent[*events.AppStateSyncComplete](t, alice); evt.Name != appstate.WAPatchCriticalBlock {
		t.Errorf("first app state synced: got %s, want %s", evt.Name, appstate.WAPatchCriticalBlock)
	}
	// whatsmeow set the name before it dispatched the event.
	if got := alice.Store.PushName; got != "Alice's shop" {
		t.Fatalf("push name after the sync: got %q, want %q", got, "Alice's shop")
	}
	if err := alice.SendPresence(ctxTimeout(t), types.PresenceAvailable); err != nil {
		t.Fatalf("send presence: %v", err)
	}
	if p, err := sim.WaitPresence(ctxTimeout(t), "15550940", true); err != nil || p.Name != "Alice's shop" {
		t.Fatalf("presence: got %+v, %v, want available as Alice's shop", p, err)
	}
	if err := alice.SendAppState(ctxTimeout(t), appstate.BuildSettingPushName("Alice")); err != nil {
		t.Fatalf("a patch of the device's own: %v", err)
	}
}
