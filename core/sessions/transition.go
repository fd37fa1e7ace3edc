package sessions

import (
	"context"
	"errors"
	"time"

	"github.com/wagate/wagate/ports"
)

// statusChange is the outcome of a transition.
type statusChange struct {
	inst       ports.Instance // as saved
	prev       ports.InstanceStatus
	prevReason string
	changed    bool // status or reason changed: an instance.status event
}

// errUnchanged aborts an update that would write what is there already.
var errUnchanged = errors.New("unchanged")

// transition applies fn to the instance under its row lock and saves it if
// the connection state changed, with its instance.status event when the
// status or reason changed. st must be a transaction's stores, so that
// the move and its event commit together; wake after the commit.
func (s *Service) transition(ctx context.Context, st ports.Stores, sub ports.SubscriptionID,
	id ports.InstanceID, fn func(*ports.Instance)) (statusChange, error) {
	var before ports.Instance
	after, err := st.Instances.UpdateInstance(ctx, sub, id, func(i *ports.Instance) error {
		before = *i
		fn(i)
		if sameConnection(before, *i) {
			return errUnchanged
		}
		i.UpdatedAt = s.d.Clock.Now()
		return nil
	})
	if errors.Is(err, errUnchanged) {
		return statusChange{inst: before, prev: before.Status, prevReason: before.StatusReason}, nil
	}
	if err != nil {
		return statusChange{}, err
	}
	c := statusChange{
		inst:       after,
		prev:       before.Status,
		prevReason: before.StatusReason,
		changed:    before.Status != after.Status || before.StatusReason != after.StatusReason,
	}
	if !c.changed {
		return c, nil
	}
	// Before the commit, and again in the cache's own way: a read that
	// raced the drop is not kept.
	s.changed(id)
	data := ports.InstanceStatusData{Status: after.Status, PreviousStatus: c.prev, Reason: after.StatusReason}
	_, err = s.d.Events.Append(ctx, st, ports.EventInstanceStatus, sub, id, data)
	return c, err
}

// transitionTx is transition in a transaction of its own, with then (when
// set) in it too; the dispatcher is woken after the commit.
func (s *Service) transitionTx(ctx context.Context, sub ports.SubscriptionID, id ports.InstanceID,
	fn func(*ports.Instance), then func(ctx context.Context, st ports.Stores, c statusChange) error) (statusChange, error) {
	var c statusChange
	err := s.d.Tx.InTx(ctx, func(ctx context.Context, st ports.Stores) error {
		var err error
		if c, err = s.transition(ctx, st, sub, id, fn); err != nil || then == nil {
			return err
		}
		return then(ctx, st, c)
	})
	if err != nil {
		return statusChange{}, err
	}
	if c.changed || then != nil {
		s.d.Events.Wake(ctx, sub)
	}
	return c, nil
}

func sameConnection(a, b ports.Instance) bool {
	return a.Status == b.Status && a.StatusReason == b.StatusReason && a.JID == b.JID &&
		a.PhoneNumber == b.PhoneNumber && a.PushName == b.PushName &&
		timesEqual(a.LastConnectedAt, b.LastConnectedAt)
}

func timesEqual(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// changed tells InstanceChanged of id.
func (s *Service) changed(id ports.InstanceID) {
	if s.d.InstanceChanged != nil {
		s.d.InstanceChanged(id)
	}
}
