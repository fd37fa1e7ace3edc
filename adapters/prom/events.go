package prom

import (
	"context"
	"encoding/json"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wagate/wagate/ports"
)

// Events counts the status changes the cores announce, by watching the
// events the dispatcher forwards to the realtime bus: message.status (and
// message.received) and instance.status. It sits in front of that bus, so
// the cores need nothing of it. Each event is dispatched once, on one
// node: sum the counts over the nodes.
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
		m.messages.WithLabelValues(known(messageStatuses, statusOf(e.Data))).Inc()
	case ports.EventMessageReceived:
		m.messages.WithLabelValues(string(ports.MsgReceived)).Inc()
	case ports.EventInstanceStatus:
		m.sessions.WithLabelValues(known(instanceStatuses, statusOf(e.Data))).Inc()
	}
}

// statusOf reads the "status" member of a status event's data (the wire
// form of SPEC §10); "" when there is none.
func statusOf(data json.RawMessage) string {
	var d struct {
		Status string `json:"status"`
	}
	_ = json.Unmarshal(data, &d)
	return d.Status
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
