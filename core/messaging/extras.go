package messaging

import (
	"context"
	"regexp"
	"strings"
	"time"

	"github.com/wagate/wagate/ports"
)

// What a send carries besides its content (SPEC §6a): the quoted message
// of a reply, mentions, the forwarded mark and a text's link preview.

// maxMentions bounds the mentions of one message.
const maxMentions = 50

// previewTimeout bounds the fetch of a link preview: it runs before the
// send's claim, and a slow site must not hold the instance's turn long.
const previewTimeout = 5 * time.Second

// Reply is what every send but a text's carries besides its content
// (SPEC §6a: "every send accepts replyTo … mentions"); a text has the
// same two fields in SendTextCmd.
type Reply struct {
	ReplyTo string // as in SendTextCmd
	// Mentions are phone numbers; on a kind with a caption each is
	// written @number in it.
	Mentions []string
	// MentionAll, in a group, mentions every participant but the
	// instance's own number (SPEC §6a).
	MentionAll bool
}

// check returns the mentioned JIDs and the field errors of r. shown is
// the text the message shows (a caption) where each mention must appear;
// a kind that shows none (location, contact, poll, audio, sticker) carries
// its mentions in the message's context alone, as WhatsApp does.
func (r Reply) check(shown string, hasText bool) ([]string, []*ports.FieldError) {
	var mentions []string
	var fe *ports.FieldError
	if hasText {
		mentions, fe = checkMentions(r.Mentions, shown)
	} else {
		mentions, fe = mentionJIDs(r.Mentions, nil)
	}
	return mentions, []*ports.FieldError{checkReplyTo(r.ReplyTo), fe}
}

// checkMentions turns mentioned phone numbers into JIDs; each must appear
// as @number in the text, which is how WhatsApp shows a mention.
func checkMentions(phones []string, text string) ([]string, *ports.FieldError) {
	return mentionJIDs(phones, func(user string) *ports.FieldError {
		if !strings.Contains(text, "@"+user) {
			return &ports.FieldError{Field: "mentions", Message: "each mentioned number must appear as @" + user + " in the text"}
		}
		return nil
	})
}

// mentionJIDs turns mentioned phone numbers into JIDs, at most
// maxMentions, each passed to also (when not nil) by its number.
func mentionJIDs(phones []string, also func(user string) *ports.FieldError) ([]string, *ports.FieldError) {
	if len(phones) == 0 {
		return nil, nil
	}
	if len(phones) > maxMentions {
		return nil, &ports.FieldError{Field: "mentions", Message: "must be at most 50 phone numbers"}
	}
	out := make([]string, 0, len(phones))
	for _, p := range phones {
		jid, fe := NormaliseTo(p)
		if fe != nil || !strings.HasSuffix(jid, "@"+userServer) {
			return nil, &ports.FieldError{Field: "mentions", Message: "must be phone numbers in international form"}
		}
		user, _, _ := strings.Cut(jid, "@")
		if also != nil {
			if fe := also(user); fe != nil {
				return nil, fe
			}
		}
		out = append(out, jid)
	}
	return out, nil
}

// sendExtras is what a send looks up before its claim.
type sendExtras struct {
	quoted  *ports.WAQuoted
	preview *ports.LinkPreview
}

// extras looks up the quoted message of a reply and fetches a text's link
// preview. Neither can fail the send: a quote without its content still
// links the reply, a text without its preview still says what it says.
func (s *Service) extras(ctx context.Context, m ports.Message) sendExtras {
	var x sendExtras
	if m.ReplyTo != "" {
		if q, err := s.d.Stores.Messages.FindMessageByWAID(ctx, m.SubscriptionID, m.InstanceID, m.ReplyTo); err == nil {
			x.quoted = &ports.WAQuoted{Sender: q.From, Text: firstNonEmpty(q.Text, q.Caption)}
		}
	}
	if m.Type == ports.MessageText && !m.NoLinkPreview && s.d.Previews != nil {
		if u := firstURL(m.Text); u != "" {
			pctx, cancel := context.WithTimeout(ctx, previewTimeout)
			p, err := s.d.Previews.Preview(pctx, u)
			cancel()
			if err != nil {
				s.d.Log.Debug("link preview not fetched; the text goes without", "message", string(m.ID), "err", err)
			} else {
				p.URL = u
				x.preview = &p
			}
		}
	}
	return x
}

// apply puts the extras and the message's own marks on out.
func (x sendExtras) apply(m ports.Message, out *ports.WAOutbound) {
	out.Quoted, out.Preview = x.quoted, x.preview
	out.Mentions, out.Forwarded = m.Mentions, m.IsForwarded
}

// urlPattern finds a link as a chat app does: http(s) and a host.
var urlPattern = regexp.MustCompile(`https?://[^\s<>"']+`)

// firstURL returns the text's first http(s) URL, or "".
func firstURL(text string) string {
	return strings.TrimRight(urlPattern.FindString(text), ".,;:!?)")
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
