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
	s.events.Publish(ctx, ports.Event{
		Type:           ports.EventInstanceStatus,
		SubscriptionID: c.inst.SubscriptionID,
		InstanceID:     c.inst.ID,
		Data:           ports.InstanceStatusData{Status: c.inst.Status, PreviousStatus: c.prev, Reason: c.inst.StatusReason},
	})
}
