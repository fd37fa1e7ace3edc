package tenancy

import (
	"context"
	"fmt"

	"github.com/wagate/wagate/ports"
)

// byPrincipal starts an audit entry for an action of an authenticated user.
func byPrincipal(p ports.Principal, action string) ports.AuditEntry {
	return ports.AuditEntry{
		SubscriptionID: p.SubscriptionID,
		Action:         action,
		ActorUserID:    p.UserID,
		ActorAPIKeyID:  p.APIKeyID,
		IP:             p.IP,
		UserAgent:      p.UserAgent,
	}
}

// byUser starts an audit entry for an action of a user who is not yet
// authenticated (register, login, refresh).
func byUser(u ports.User, c Client, action string) ports.AuditEntry {
	return ports.AuditEntry{
		SubscriptionID: u.SubscriptionID,
		Action:         action,
		ActorUserID:    u.ID,
		TargetType:     "user",
		TargetID:       string(u.ID),
		IP:             c.IP,
		UserAgent:      c.UserAgent,
	}
}

// audit stamps the entry with an id and the time and stores it.
func (s *Service) audit(ctx context.Context, st ports.AuditStore, e ports.AuditEntry) error {
	e.ID = s.d.IDs.NewID()
	e.At = s.d.Clock.Now()
	if err := st.AppendAudit(ctx, e); err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}
