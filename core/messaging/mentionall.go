package messaging

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/wagate/wagate/ports"
)

// maxGroupMentions bounds mentionAll: WhatsApp's largest groups.
const maxGroupMentions = 1024

// withMentionAll adds, when all is set, every participant of the group to
// (but the instance's own number) to mentions. The participants are read
// from WhatsApp when the send is accepted, so the instance must be
// connected then (EConflict instance_not_connected otherwise); a send
// that is not to a group is EInvalid.
func (s *Service) withMentionAll(ctx context.Context, p ports.Principal, inst ports.InstanceID, to string, all bool, mentions []string) ([]string, error) {
	if !all {
		return mentions, nil
	}
	if !strings.HasSuffix(to, "@"+groupServer) {
		return nil, ports.InvalidFields(ports.FieldError{Field: "mentionAll", Message: "only for a group (to …@g.us)"})
	}
	if s.d.Groups == nil {
		return nil, ports.ReasonError(ports.EUnsupported, "not_supported", "the WhatsApp adapter cannot list group participants")
	}
	i, err := s.d.Stores.Instances.GetInstance(ctx, p.SubscriptionID, inst)
	if err != nil {
		return nil, fmt.Errorf("get instance: %w", err)
	}
	g, err := s.d.Groups.GroupInfo(ctx, inst, to)
	if err != nil {
		return nil, fmt.Errorf("mention all: %w", err)
	}
	own := strings.TrimPrefix(i.PhoneNumber, "+")
	out := slices.Clone(mentions)
	for _, m := range g.Participants {
		if m.PhoneNumber == "" || m.PhoneNumber == own {
			continue
		}
		jid := m.PhoneNumber + "@" + userServer
		if !slices.Contains(out, jid) && len(out) < maxGroupMentions {
			out = append(out, jid)
		}
	}
	return out, nil
}
