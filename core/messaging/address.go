package messaging

import (
	"strings"

	"github.com/wagate/wagate/ports"
)

// The JID servers a message may go to.
const (
	userServer  = "s.whatsapp.net"
	groupServer = "g.us"
	lidServer   = "lid" // WhatsApp's anonymous user ids (SPEC §6a)
)

// The length of a LID user part: WhatsApp's are 14–15 digits today; the
// bounds leave room without accepting anything that is not an id.
const (
	minLIDDigits = 6
	maxLIDDigits = 20
)

// NormaliseTo turns a recipient into a JID (SPEC §6): a phone number in
// international form (digits, an optional +, spaces and dashes ignored;
// 7–15 digits) becomes digits@s.whatsapp.net; a user, LID (digits@lid)
// or group JID is kept as given. Device JIDs (user:N@…) are refused: a
// message goes to every device of a user.
func NormaliseTo(to string) (string, *ports.FieldError) {
	bad := &ports.FieldError{Field: "to", Message: "must be a phone number in international form (7–15 digits) or a JID (…@s.whatsapp.net, …@lid, …@g.us)"}
	to = strings.TrimSpace(to)
	if user, server, ok := strings.Cut(to, "@"); ok {
		switch {
		case server == userServer && isDigits(user) && len(user) >= 7 && len(user) <= 15:
			return to, nil
		case server == groupServer && isGroupID(user):
			return to, nil
		case server == lidServer && isDigits(user) && len(user) >= minLIDDigits && len(user) <= maxLIDDigits:
			return to, nil
		}
		return "", bad
	}
	digits := strings.NewReplacer(" ", "", "-", "").Replace(to)
	digits = strings.TrimPrefix(digits, "+")
	if !isDigits(digits) || len(digits) < 7 || len(digits) > 15 || digits[0] == '0' {
		return "", bad
	}
	return digits + "@" + userServer, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// isGroupID accepts group ids: digits, or the older creator-timestamp form
// with one dash.
func isGroupID(s string) bool {
	a, b, dash := strings.Cut(s, "-")
	return isDigits(a) && len(s) <= 64 && (!dash || isDigits(b))
}

// isLID reports whether a normalised JID is a LID (…@lid).
func isLID(jid string) bool { return strings.HasSuffix(jid, "@"+lidServer) }
