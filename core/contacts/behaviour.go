package contacts

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/wagate/wagate/ports"
)

// The per-instance behaviour of SPEC §16, applied to the WhatsApp
// adapter's events: calls are call.received events and are rejected when
// the instance says so (with an optional message to the caller); the
// account shows online; group messages and status updates are dropped;
// received messages are marked read.

// eventTimeout bounds the handling of one event.
const eventTimeout = 30 * time.Second

// statusBroadcast is the chat of status updates.
const statusBroadcast = "status@broadcast"

// BehaviourDeps are what the behaviour needs beyond Deps; set with
// WithBehaviour.
type BehaviourDeps struct {
	Tx       ports.TxRunner
	Messages ports.MessageStore
	Events   EventLog
	Calls    ports.WACalls
	Actions  ports.WAActions
	WhatsApp ports.WhatsApp
	Clock    ports.Clock
}

// EventLog appends events in a transaction and wakes their dispatch
// (core/events.Log).
type EventLog interface {
	Append(ctx context.Context, st ports.Stores, t ports.EventType, sub ports.SubscriptionID, inst ports.InstanceID, data any) (ports.Event, error)
	Wake(ctx context.Context, sub ports.SubscriptionID)
}

// WithBehaviour sets what the behaviour needs and returns s.
func (s *Service) WithBehaviour(b BehaviourDeps) *Service {
	s.b = b
	return s
}

// settings reads the instance's behaviour; the defaults if it is gone.
func (s *Service) settings(ctx context.Context, sub ports.SubscriptionID, id ports.InstanceID) (ports.InstanceSettings, error) {
	inst, err := s.d.Instances.GetInstance(ctx, sub, id)
	if err != nil {
		return ports.InstanceSettings{}, err
	}
	return inst.Settings, nil
}

// Admit tells whether an inbound message is kept: false for a group
// message when the instance ignores groups, and for a status update when
// it ignores status broadcasts. Other events are admitted.
func (s *Service) Admit(ev ports.WAEvent) bool {
	if ev.Kind != ports.WAMessage || ev.Message == nil {
		return true
	}
	group := strings.HasSuffix(ev.Message.Chat, "@g.us")
	status := ev.Message.Chat == statusBroadcast
	if !group && !status {
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), eventTimeout)
	defer cancel()
	set, err := s.settings(ctx, ev.Subscription, ev.Instance)
	if err != nil {
		s.d.Log.Warn("read the instance's settings; the message is kept", "instance", string(ev.Instance), "err", err)
		return true
	}
	return !(group && set.IgnoreGroups || status && set.IgnoreStatusBroadcasts)
}

// HandleEvent applies the behaviour to an event the other modules have
// handled: calls, the connected status (always online) and inbound
// messages (auto-read).
func (s *Service) HandleEvent(ev ports.WAEvent) {
	ctx, cancel := context.WithTimeout(context.Background(), eventTimeout)
	defer cancel()
	var err error
	switch {
	case ev.Kind == ports.WACallKind && ev.Call != nil:
		err = s.onCall(ctx, ev)
	case ev.Kind == ports.WAStatus && ev.Status != nil && ev.Status.Status == ports.StatusConnected:
		err = s.onConnected(ctx, ev)
	case ev.Kind == ports.WAMessage && ev.Message != nil && ev.Message.Action == nil:
		err = s.onInbound(ctx, ev)
	}
	if err != nil {
		s.d.Log.Error("apply the instance's behaviour", "instance", string(ev.Instance), "kind", string(ev.Kind), "err", err)
	}
}

// onCall rejects the call if the instance says so, then records it as a
// call.received event, rejected or not.
func (s *Service) onCall(ctx context.Context, ev ports.WAEvent) error {
	set, err := s.settings(ctx, ev.Subscription, ev.Instance)
	if err != nil {
		return fmt.Errorf("settings: %w", err)
	}
	rejected := false
	if set.RejectCalls && s.b.Calls != nil {
		if err := s.b.Calls.RejectCall(ctx, ev.Instance, *ev.Call); err != nil {
			s.d.Log.Warn("reject a call", "instance", string(ev.Instance), "err", err)
		} else {
			rejected = true
		}
	}
	data := ports.CallReceivedData{From: ev.Call.From, IsVideo: ev.Call.IsVideo, IsGroup: ev.Call.IsGroup, Rejected: rejected}
	if err := s.b.Tx.InTx(ctx, func(ctx context.Context, st ports.Stores) error {
		_, err := s.b.Events.Append(ctx, st, ports.EventCallReceived, ev.Subscription, ev.Instance, data)
		return err
	}); err != nil {
		return fmt.Errorf("record the call: %w", err)
	}
	s.b.Events.Wake(ctx, ev.Subscription)
	if rejected && set.RejectCallMessage != "" && s.b.WhatsApp != nil {
		if _, err := s.b.WhatsApp.Send(ctx, ev.Instance, ports.WAOutbound{To: ev.Call.From, Text: set.RejectCallMessage}); err != nil {
			return fmt.Errorf("send the reject message: %w", err)
		}
	}
	return nil
}

// onConnected shows the account online when the instance says so.
func (s *Service) onConnected(ctx context.Context, ev ports.WAEvent) error {
	set, err := s.settings(ctx, ev.Subscription, ev.Instance)
	if err != nil || !set.AlwaysOnline || s.b.Calls == nil {
		return err
	}
	return s.b.Calls.SetOnline(ctx, ev.Instance, true)
}

// onInbound marks a stored inbound message read when the instance says
// so: on WhatsApp (the sender sees blue ticks) and in the store.
func (s *Service) onInbound(ctx context.Context, ev ports.WAEvent) error {
	if s.b.Actions == nil || s.b.Messages == nil {
		return nil
	}
	set, err := s.settings(ctx, ev.Subscription, ev.Instance)
	if err != nil || !set.AutoRead {
		return err
	}
	m, err := s.b.Messages.FindMessageByWAID(ctx, ev.Subscription, ev.Instance, ev.Message.WAMessageID)
	if err != nil {
		return fmt.Errorf("find the message to mark read: %w", err)
	}
	if m.Direction != ports.DirectionInbound || m.ReadAt != nil {
		return nil
	}
	at := s.b.Clock.Now()
	key := ports.WAMessageKey{Chat: m.Chat, ID: m.WAMessageID, Sender: m.From}
	if err := s.b.Actions.MarkRead(ctx, ev.Instance, []ports.WAMessageKey{key}, at); err != nil {
		return fmt.Errorf("mark read on WhatsApp: %w", err)
	}
	_, err = s.b.Messages.UpdateMessage(ctx, ev.Subscription, m.ID, func(m *ports.Message) error {
		if m.ReadAt == nil {
			m.ReadAt = &at
		}
		return nil
	})
	return err
}
