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
// the connection state changed.
func (s *Service) transition(ctx context.Context, st ports.InstanceStore, sub ports.SubscriptionID,
	id ports.InstanceID, fn func(*ports.Instance)) (statusChange, error) {
	var before ports.Instance
	after, err := st.UpdateInstance(ctx, sub, id, func(i *ports.Instance) error {
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
	return statusChange{
		inst:       after,
		prev:       before.Status,
		prevReason: before.StatusReason,
		changed:    before.Status != after.Status || before.StatusReason != after.StatusReason,
	}, nil
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
