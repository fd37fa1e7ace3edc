package groups

import (
	"context"
	"time"

	"github.com/wagate/wagate/ports"
)

// eventTimeout bounds the handling of one group change.
const eventTimeout = 30 * time.Second

// HandleEvent records a group change reported by the WhatsApp adapter as
// a group.participants or group.updated event (SPEC §10). Changes of
// instances this node does not hold are left to their holder.
func (s *Service) HandleEvent(ev ports.WAEvent) {
	c := ev.Group
	if ev.Kind != ports.WAGroupChangeKind || c == nil || s.d.Tx == nil || s.d.Events == nil {
		return
	}
	if s.d.Owner != nil && !s.d.Owner.Owns(ev.Instance) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), eventTimeout)
	defer cancel()
	t, data := ports.EventGroupUpdated, any(ports.GroupUpdatedData{Group: c.Group, By: c.By, Changes: c.Changes})
	if c.Action != "" {
		t, data = ports.EventGroupParticipants, ports.GroupParticipantsData{Group: c.Group, Action: c.Action, Participants: c.Participants, By: c.By}
	}
	err := s.d.Tx.InTx(ctx, func(ctx context.Context, st ports.Stores) error {
		// The instance may have been deleted since: then nothing is told.
		if _, err := st.Instances.GetInstance(ctx, ev.Subscription, ev.Instance); err != nil {
			return err
		}
		_, err := s.d.Events.Append(ctx, st, t, ev.Subscription, ev.Instance, data)
		return err
	})
	if err != nil {
		s.d.Log.Warn("group change not recorded", "instance", string(ev.Instance), "type", string(t), "err", err)
		return
	}
	s.d.Events.Wake(ctx, ev.Subscription)
}
