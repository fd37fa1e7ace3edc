package contacts

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/wagate/wagate/ports"
)

// Limits of the profile fields, as WhatsApp's apps enforce them.
const (
	maxPushName   = 25
	maxAbout      = 139
	maxPictureLen = 5 << 20
)

const phoneRule = "must be a phone number in international form, 7–15 digits (e.g. +4915123456789)"

// phoneDigits returns the digits of a phone number written with an
// optional +, spaces and dashes; false unless 7–15 digits remain.
func phoneDigits(phone string) (string, bool) {
	if len(phone) > 32 {
		return "", false
	}
	digits := make([]byte, 0, len(phone))
	for i := 0; i < len(phone); i++ {
		switch c := phone[i]; {
		case c >= '0' && c <= '9':
			digits = append(digits, c)
		case c == '+' || c == ' ' || c == '-':
		default:
			return "", false
		}
	}
	if len(digits) < 7 || len(digits) > 15 {
		return "", false
	}
	return string(digits), true
}

func checkPhone(phone string) (string, error) {
	d, ok := phoneDigits(phone)
	if !ok {
		return "", ports.InvalidFields(ports.FieldError{Field: "phone", Message: phoneRule})
	}
	return d, nil
}

// contactsPort returns the adapter's contacts, or not_supported.
func (s *Service) contactsPort() (ports.WAContacts, error) {
	if s.d.Contacts == nil {
		return nil, ports.ReasonError(ports.EUnsupported, "not_supported", "the WhatsApp adapter cannot read contacts")
	}
	return s.d.Contacts, nil
}

// ListContacts pages through the device's address book, by phone number
// (scope contacts:read). EConflict (instance_not_connected) unless
// connected.
func (s *Service) ListContacts(ctx context.Context, p ports.Principal, id ports.InstanceID, page ports.PageRequest) (ports.Page[ports.WAContact], error) {
	wa, err := s.contactsPort()
	if err != nil {
		return ports.Page[ports.WAContact]{}, err
	}
	if err := s.connected(ctx, p, id, ports.ScopeContactsRead); err != nil {
		return ports.Page[ports.WAContact]{}, err
	}
	after := ""
	if page.After != "" {
		b, err := base64.RawURLEncoding.Strict().DecodeString(page.After)
		if _, ok := phoneDigits(string(b)); err != nil || !ok {
			return ports.Page[ports.WAContact]{}, ports.InvalidFields(ports.FieldError{Field: "cursor", Message: "not a cursor of this list"})
		}
		after = string(b)
	}
	limit := page.Limit
	if limit <= 0 || limit > ports.MaxPageLimit {
		limit = ports.DefaultPageLimit
	}
	all, err := wa.Contacts(ctx, id)
	if err != nil {
		return ports.Page[ports.WAContact]{}, fmt.Errorf("read the address book of %s: %w", id, err)
	}
	slices.SortFunc(all, func(a, b ports.WAContact) int { return strings.Compare(a.PhoneNumber, b.PhoneNumber) })
	start, _ := slices.BinarySearchFunc(all, after, func(c ports.WAContact, t string) int {
		if c.PhoneNumber <= t {
			return -1
		}
		return 1
	})
	if after == "" {
		start = 0
	}
	out := ports.Page[ports.WAContact]{Items: all[start:min(len(all), start+limit)]}
	if start+limit < len(all) {
		out.Next = base64.RawURLEncoding.EncodeToString([]byte(out.Items[len(out.Items)-1].PhoneNumber))
	}
	return out, nil
}

// ContactProfile asks WhatsApp about a number (scope contacts:read):
// whether it is on WhatsApp, its push name, about text and picture.
// EInvalid for a malformed number.
func (s *Service) ContactProfile(ctx context.Context, p ports.Principal, id ports.InstanceID, phone string) (ports.WAContactProfile, error) {
	wa, err := s.contactsPort()
	if err != nil {
		return ports.WAContactProfile{}, err
	}
	if err := s.connected(ctx, p, id, ports.ScopeContactsRead); err != nil {
		return ports.WAContactProfile{}, err
	}
	d, err := checkPhone(phone)
	if err != nil {
		return ports.WAContactProfile{}, err
	}
	prof, err := wa.ContactProfile(ctx, id, d)
	if err != nil {
		return ports.WAContactProfile{}, fmt.Errorf("profile of a contact of %s: %w", id, err)
	}
	return prof, nil
}

// Blocked lists the numbers the account blocked (scope contacts:read).
func (s *Service) Blocked(ctx context.Context, p ports.Principal, id ports.InstanceID) ([]string, error) {
	wa, err := s.contactsPort()
	if err != nil {
		return nil, err
	}
	if err := s.connected(ctx, p, id, ports.ScopeContactsRead); err != nil {
		return nil, err
	}
	list, err := wa.Blocklist(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("block list of %s: %w", id, err)
	}
	return list, nil
}

// SetBlocked blocks or unblocks a number and returns the block list after
// it. It changes the account: API keys need messages:send.
func (s *Service) SetBlocked(ctx context.Context, p ports.Principal, id ports.InstanceID, phone string, blocked bool) ([]string, error) {
	wa, err := s.contactsPort()
	if err != nil {
		return nil, err
	}
	if err := s.connected(ctx, p, id, ports.ScopeMessagesSend); err != nil {
		return nil, err
	}
	d, err := checkPhone(phone)
	if err != nil {
		return nil, err
	}
	list, err := wa.SetBlocked(ctx, id, d, blocked)
	if err != nil {
		return nil, fmt.Errorf("block list of %s: %w", id, err)
	}
	return list, nil
}

// ProfileCmd changes the instance's own profile; nil fields stay.
type ProfileCmd struct {
	PushName *string
	About    *string
}

// UpdateProfile changes the account's push name and about text (API keys
// need messages:send). EInvalid for an empty or too long name or a too
// long about; not_supported (EUnsupported) names what whatsmeow cannot do.
func (s *Service) UpdateProfile(ctx context.Context, p ports.Principal, id ports.InstanceID, cmd ProfileCmd) error {
	var bad []ports.FieldError
	if cmd.PushName == nil && cmd.About == nil {
		bad = append(bad, ports.FieldError{Field: "pushName", Message: "give pushName, about or both"})
	}
	if n := cmd.PushName; n != nil && (strings.TrimSpace(*n) == "" || utf8.RuneCountInString(*n) > maxPushName || !utf8.ValidString(*n)) {
		bad = append(bad, ports.FieldError{Field: "pushName", Message: fmt.Sprintf("must be 1 to %d characters", maxPushName)})
	}
	if a := cmd.About; a != nil && (utf8.RuneCountInString(*a) > maxAbout || !utf8.ValidString(*a)) {
		bad = append(bad, ports.FieldError{Field: "about", Message: fmt.Sprintf("must be at most %d characters", maxAbout)})
	}
	if len(bad) > 0 {
		return ports.InvalidFields(bad...)
	}
	if s.d.Profile == nil {
		return ports.ReasonError(ports.EUnsupported, "not_supported", "the WhatsApp adapter cannot change the profile")
	}
	if err := s.connected(ctx, p, id, ports.ScopeMessagesSend); err != nil {
		return err
	}
	// The about first: it works on every linked device, and a push name
	// whatsmeow cannot set then still reports not_supported.
	if cmd.About != nil {
		if err := s.d.Profile.SetAbout(ctx, id, *cmd.About); err != nil {
			return fmt.Errorf("set the about text of %s: %w", id, err)
		}
	}
	if cmd.PushName != nil {
		if err := s.d.Profile.SetPushName(ctx, id, strings.TrimSpace(*cmd.PushName)); err != nil {
			return fmt.Errorf("set the push name of %s: %w", id, err)
		}
	}
	return nil
}

// SetPicture changes the account's profile picture (a JPEG up to 5 MiB).
func (s *Service) SetPicture(ctx context.Context, p ports.Principal, id ports.InstanceID, jpeg []byte) error {
	if len(jpeg) < 3 || jpeg[0] != 0xFF || jpeg[1] != 0xD8 || jpeg[2] != 0xFF {
		return ports.InvalidFields(ports.FieldError{Field: "image", Message: "must be a JPEG image"})
	}
	if len(jpeg) > maxPictureLen {
		return ports.InvalidFields(ports.FieldError{Field: "image", Message: "must be at most 5 MiB"})
	}
	if s.d.Profile == nil {
		return ports.ReasonError(ports.EUnsupported, "not_supported", "the WhatsApp adapter cannot change the profile")
	}
	if err := s.connected(ctx, p, id, ports.ScopeMessagesSend); err != nil {
		return err
	}
	if err := s.d.Profile.SetPicture(ctx, id, jpeg); err != nil {
		return fmt.Errorf("set the picture of %s: %w", id, err)
	}
	return nil
}
