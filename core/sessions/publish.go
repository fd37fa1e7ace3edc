package sessions

import (
	"context"

	"github.com/wagate/wagate/ports"
)

// publishStatus announces a changed status.
func (s *Service) publishStatus(ctx context.Context, c statusChange) {
	if !c.changed {
		return
	}
	s.publish(ctx, ports.Event{
		Type:           ports.EventInstanceStatus,
		SubscriptionID: c.inst.SubscriptionID,
		InstanceID:     c.inst.ID,
		Data:           ports.InstanceStatusData{Status: c.inst.Status, PreviousStatus: c.prev, Reason: c.inst.StatusReason},
	})
}

// publish stamps e and hands it to the bus, which never waits. A failure
// loses one realtime event; it is logged, not returned, since what caused
// the event has happened.
func (s *Service) publish(ctx context.Context, e ports.Event) {
	if s.d.Bus == nil {
		return
	}
	e.ID = "evt_" + s.d.IDs.NewID()
	e.At = s.d.Clock.Now()
	if err := s.d.Bus.Publish(ctx, e); err != nil {
		s.d.Log.Warn("publish event", "type", string(e.Type), "instance", string(e.InstanceID), "err", err)
	}
}
