package sessions

import (
	"context"

	"github.com/wagate/wagate/ports"
)

// ownerOf returns the subscription of an instance that an event names;
// false (logged) when it cannot be found.
func (s *Service) ownerOf(ctx context.Context, id ports.InstanceID) (ports.SubscriptionID, bool) {
	s.mu.Lock()
	sub, ok := s.owners[id]
	s.mu.Unlock()
	if ok {
		return sub, true
	}
	if s.d.Directory == nil {
		s.d.Log.Error("WhatsApp event dropped: no instance directory", "instance", string(id))
		return "", false
	}
	inst, err := s.d.Directory.LookupInstance(ctx, id)
	if ports.IsCode(err, ports.ENotFound) {
		s.d.Log.Debug("WhatsApp event of an unknown instance", "instance", string(id))
		return "", false
	}
	if err != nil {
		s.d.Log.Error("look up the instance of a WhatsApp event", "instance", string(id), "err", err)
		return "", false
	}
	s.remember(id, inst.SubscriptionID)
	return inst.SubscriptionID, true
}

func (s *Service) remember(id ports.InstanceID, sub ports.SubscriptionID) {
	s.mu.Lock()
	s.owners[id] = sub
	s.mu.Unlock()
}

// forget drops what is remembered about a deleted instance.
func (s *Service) forget(id ports.InstanceID) {
	s.mu.Lock()
	delete(s.qrs, id)
	delete(s.owners, id)
	s.mu.Unlock()
}
