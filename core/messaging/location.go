package messaging

import (
	"context"
	"fmt"
	"math"

	"github.com/wagate/wagate/ports"
)

// The longest name and address of a location, in characters.
const (
	MaxLocationName    = 256
	MaxLocationAddress = 512
)

// SendLocationCmd is a location pin to send. Latitude and Longitude are
// required, hence pointers: a missing one is not the equator.
type SendLocationCmd struct {
	To                  string
	Latitude, Longitude *float64
	Name, Address       string
	Reply
	Idempotency *ports.IdempotencyClaim[ports.Message] // as in SendTextCmd
}

// SendLocation accepts a location message for sending, like SendText:
// latitude in [-90, 90] and longitude in [-180, 180], both required and
// finite; name up to 256 and address up to 512 characters. The same
// errors as SendText.
func (s *Service) SendLocation(ctx context.Context, p ports.Principal, inst ports.InstanceID, cmd SendLocationCmd) (ports.Message, error) {
	if err := canSend(p, inst); err != nil {
		return ports.Message{}, err
	}
	to, toErr := NormaliseTo(cmd.To)
	mentions, replyErrs := cmd.check("", false)
	errs := []*ports.FieldError{toErr,
		checkCoordinate("latitude", cmd.Latitude, 90),
		checkCoordinate("longitude", cmd.Longitude, 180),
		checkLabel("name", cmd.Name, MaxLocationName),
		checkLabel("address", cmd.Address, MaxLocationAddress),
	}
	if err := ports.FieldErrors(append(errs, replyErrs...)...); err != nil {
		return ports.Message{}, err
	}
	loc := &ports.WALocation{Latitude: *cmd.Latitude, Longitude: *cmd.Longitude, Name: cmd.Name, Address: cmd.Address}
	mentions, err := s.withMentionAll(ctx, p, inst, to, cmd.MentionAll, mentions)
	if err != nil {
		return ports.Message{}, err
	}
	draft := ports.Message{To: to, Type: ports.MessageLocation, Location: loc, Mentions: mentions}
	return s.accept(ctx, p, inst, draft, cmd.ReplyTo, cmd.Idempotency)
}

func checkCoordinate(field string, v *float64, limit float64) *ports.FieldError {
	if v == nil || math.IsNaN(*v) || math.IsInf(*v, 0) || *v < -limit || *v > limit {
		return &ports.FieldError{Field: field, Message: fmt.Sprintf("is required, a number from %v to %v", -limit, limit)}
	}
	return nil
}

func checkLabel(field, v string, maxLen int) *ports.FieldError {
	return ports.CheckText(field, v, maxLen)
}

// outbound is what the worker hands WhatsApp for m, with md, its file, on
// media messages.
func outbound(m ports.Message, md *ports.MessageMedia) ports.WAOutbound {
	out := ports.WAOutbound{To: m.To, ReplyTo: m.ReplyTo}
	if m.ChatLID != "" {
		out.To = m.ChatLID // asked for the LID: To may be its number
	}
	switch {
	case m.Type == ports.MessageLocation && m.Location != nil:
		l := *m.Location
		out.Location = &l
	case m.Type == ports.MessageContact:
		out.Contacts = m.Contacts
	case m.Type == ports.MessagePoll && m.Poll != nil:
		out.Poll = &ports.Poll{Question: m.Poll.Question, Options: m.Poll.Options, MultipleAnswers: m.Poll.MultipleAnswers}
	case md != nil:
		out.Caption = m.Caption
		out.Media = &ports.WAMedia{Kind: mediaKind(m.Type), Data: md.Data, MimeType: md.MimeType, FileName: md.FileName, PTT: md.PTT, GIF: md.GIF}
	default:
		out.Text = m.Text
	}
	return out
}
