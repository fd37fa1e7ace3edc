package prom

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wagate/wagate/ports"
)

// Events counts the status changes the cores announce, by watching the
// events they publish: message.status (and message.received) and
// instance.status. It sits in front of the event bus the cores are given,
// so the cores need nothing of it. The counts are this node's: sum them
// over the nodes.
type Events struct {
	messages *prometheus.CounterVec
	sessions *prometheus.CounterVec
}

var messageStatuses = []string{
	string(ports.MsgQueued), string(ports.MsgSending), string(ports.MsgSent), string(ports.MsgDelivered),
	string(ports.MsgRead), string(ports.MsgFailed), string(ports.MsgReceived),
}

// NewEvents registers the status-change counters on reg. Registering twice
// on one registry reuses the collectors already there.
func NewEvents(reg prometheus.Registerer) (*Events, error) {
	m := &Events{
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wagate_message_status_changes_total",
			Help: "Messages that reached a status (message.status events), and inbound messages (received), by status.",
		}, []string{"status"}),
		sessions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wagate_session_status_changes_total",
			Help: "Instances that reached a connection status (instance.status events), by status.",
		}, []string{"status"}),
	}
	var err error
	if m.messages, err = register(reg, m.messages); err != nil {
		return nil, err
	}
	if m.sessions, err = register(reg, m.sessions); err != nil {
		return nil, err
	}
	for _, st := range messageStatuses {
		m.messages.WithLabelValues(st)
	}
	for _, st := range instanceStatuses {
		m.sessions.WithLabelValues(st)
	}
	return m, nil
}

// Bus returns next counting the events published through it.
func (m *Events) Bus(next ports.EventBus) ports.EventBus { return countingBus{next: next, m: m} }

// Observe counts e if it announces a status change.
func (m *Events) Observe(e ports.Event) {
	switch e.Type {
	case ports.EventMessageStatus:
		switch d := e.Data.(type) {
		case ports.MessageStatusData:
			m.messages.WithLabelValues(known(messageStatuses, string(d.Status))).Inc()
		case *ports.MessageStatusData:
			m.messages.WithLabelValues(known(messageStatuses, string(d.Status))).Inc()
		}
	case ports.EventMessageReceived:
		m.messages.WithLabelValues(string(ports.MsgReceived)).Inc()
	case ports.EventInstanceStatus:
		switch d := e.Data.(type) {
		case ports.InstanceStatusData:
			m.sessions.WithLabelValues(known(instanceStatuses, string(d.Status))).Inc()
		case *ports.InstanceStatusData:
			m.sessions.WithLabelValues(known(instanceStatuses, string(d.Status))).Inc()
		}
	}
}

type countingBus struct {
	next ports.EventBus
	m    *Events
}

// Publish counts e, then passes it on: the change happened whether or
// not its event reaches anyone.
func (b countingBus) Publish(ctx context.Context, e ports.Event) error {
	b.m.Observe(e)
	return b.next.Publish(ctx, e)
}

func (b countingBus) Subscribe(ctx context.Context, f ports.EventFilter) (<-chan ports.Event, error) {
	return b.next.Subscribe(ctx, f)
}
