package tenancy

import (
	"context"

	"github.com/wagate/wagate/ports"
)

// byPrincipal starts an audit entry for an action of an authenticated user.
func byPrincipal(p ports.Principal, action string) ports.AuditEntry {
	return p.AuditEntry(action, "", "")
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
	return ports.AppendAudit(ctx, st, s.d.IDs, s.d.Clock, e)
}
