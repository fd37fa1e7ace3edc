package messaging

import (
	"context"
	"fmt"
	"strings"

	"github.com/wagate/wagate/ports"
)

// Limits of contact messages (SPEC §6a).
const (
	MaxContactCards   = 10
	MaxContactPhones  = 10
	MaxContactName    = 256
	maxContactField   = 256
	maxContactPhoneLn = 32
)

// SendContactCmd shares 1–10 contacts, each with a name and 1–10 numbers.
type SendContactCmd struct {
	To       string
	Contacts []ports.ContactCard
	Reply
	Idempotency *ports.IdempotencyClaim[ports.Message] // as in SendTextCmd
}

// SendContact accepts a contact message; the errors of SendText, with
// field errors named contacts[i].name, contacts[i].phones[j].number, ….
func (s *Service) SendContact(ctx context.Context, p ports.Principal, inst ports.InstanceID, cmd SendContactCmd) (ports.Message, error) {
	if err := canSend(p, inst); err != nil {
		return ports.Message{}, err
	}
	to, toErr := NormaliseTo(cmd.To)
	mentions, replyErrs := cmd.check("", false)
	errs := append([]*ports.FieldError{toErr}, checkContacts(cmd.Contacts)...)
	if err := ports.FieldErrors(append(errs, replyErrs...)...); err != nil {
		return ports.Message{}, err
	}
	cards := make([]ports.ContactCard, len(cmd.Contacts))
	for i, c := range cmd.Contacts {
		cards[i] = c
		cards[i].Phones = append([]ports.ContactPhone(nil), c.Phones...)
		for j := range cards[i].Phones {
			cards[i].Phones[j].Type = strings.ToUpper(cards[i].Phones[j].Type)
		}
	}
	mentions, err := s.withMentionAll(ctx, p, inst, to, cmd.MentionAll, mentions)
	if err != nil {
		return ports.Message{}, err
	}
	draft := ports.Message{To: to, Type: ports.MessageContact, Contacts: cards, Mentions: mentions}
	return s.accept(ctx, p, inst, draft, cmd.ReplyTo, cmd.Idempotency)
}

// CheckContacts returns the field errors of contact cards to share (nil
// when they are fine), for the sandbox's contacts too.
func CheckContacts(cards []ports.ContactCard) error {
	return ports.FieldErrors(checkContacts(cards)...)
}

func checkContacts(cards []ports.ContactCard) []*ports.FieldError {
	if len(cards) == 0 || len(cards) > MaxContactCards {
		return []*ports.FieldError{{Field: "contacts", Message: fmt.Sprintf("must hold 1 to %d contacts", MaxContactCards)}}
	}
	var errs []*ports.FieldError
	for i, c := range cards {
		f := fmt.Sprintf("contacts[%d].", i)
		if strings.TrimSpace(c.Name) == "" {
			errs = append(errs, &ports.FieldError{Field: f + "name", Message: "is required"})
		}
		errs = append(errs, ports.CheckText(f+"name", c.Name, MaxContactName),
			ports.CheckText(f+"email", c.Email, maxContactField),
			ports.CheckText(f+"organization", c.Organization, maxContactField))
		if len(c.Phones) == 0 || len(c.Phones) > MaxContactPhones {
			errs = append(errs, &ports.FieldError{Field: f + "phones", Message: fmt.Sprintf("must hold 1 to %d numbers", MaxContactPhones)})
		}
		for j, ph := range c.Phones {
			errs = append(errs, checkContactPhone(fmt.Sprintf("%sphones[%d].", f, j), ph))
		}
	}
	return errs
}

// checkContactPhone accepts a number of digits with the usual separators
// (+, spaces, dashes, dots, parentheses) and a short letters-only label.
func checkContactPhone(f string, ph ports.ContactPhone) *ports.FieldError {
	n := strings.Map(func(r rune) rune {
		if strings.ContainsRune("+ -.()", r) {
			return -1
		}
		return r
	}, ph.Number)
	if n == "" || len(n) > maxContactPhoneLn || strings.Trim(n, "0123456789") != "" {
		return &ports.FieldError{Field: f + "number", Message: "must be a phone number: digits, with + spaces dashes dots or parentheses"}
	}
	if len(ph.Type) > 16 || strings.Trim(strings.ToUpper(ph.Type), "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		return &ports.FieldError{Field: f + "type", Message: "must be a label of up to 16 letters, e.g. CELL or WORK"}
	}
	return nil
}
