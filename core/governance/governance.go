// Package governance is the data-governance module of SPEC §18: erasing a
// person, per-subscription retention and its purge, and closing an
// account.
package governance

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"

	"github.com/wagate/wagate/ports"
)

// Deps are the ports the module uses.
type Deps struct {
	Tx     ports.TxRunner
	Stores ports.Stores // outside transactions
	Clock  ports.Clock
	IDs    ports.IDGen
	Hasher ports.PasswordHasher
	// Eraser deletes a person's rows; Peers forgets them in the WhatsApp
	// device store (nil: nothing there to forget).
	Eraser ports.PersonEraser
	Peers  ports.WAPeerEraser
	// Retention keeps the settings and purges by them.
	Retention ports.RetentionStore
	// Wipe deletes a closed subscription's rows.
	Wipe ports.SubscriptionEraser
	// Exports deletes the subscription's data exports, files and rows
	// (nil: there are none to delete).
	Exports ExportDeleter
	// Instances deletes an instance, unlinking its device from WhatsApp
	// (the sessions module's Delete).
	Instances InstanceDeleter
	// Revoke tells every node to forget the callers a revocation covers.
	Revoke func(ctx context.Context, r ports.Revocation)
	// AuditKey keys the HMAC that the audit log keeps of an erased
	// number instead of the number.
	AuditKey []byte
	Log      *slog.Logger
}

// ExportDeleter deletes every data export of a subscription (the
// exports module's DeleteAll); it returns how many went.
type ExportDeleter interface {
	DeleteAll(ctx context.Context, sub ports.SubscriptionID) (int, error)
}

// InstanceDeleter deletes an instance on behalf of a user.
type InstanceDeleter interface {
	Delete(ctx context.Context, p ports.Principal, id ports.InstanceID) error
}

// Service is the governance module.
type Service struct {
	d   Deps
	def ports.Retention
}

// New returns a Service; defaults is the platform retention
// (WAGATE_RETENTION) for subscriptions without their own.
func New(d Deps, defaults ports.Retention) *Service {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Revoke == nil {
		d.Revoke = func(context.Context, ports.Revocation) {}
	}
	return &Service{d: d, def: defaults}
}

// Erase removes every trace of a phone number from the caller's
// subscription, in every instance (SPEC §18), and returns the counts. The
// audit entry keeps an HMAC of the number, never the number. EInvalid when
// phone is not a phone number.
func (s *Service) Erase(ctx context.Context, p ports.Principal, phone string) (ports.ErasureCounts, error) {
	if err := p.RequireUser(); err != nil {
		return ports.ErasureCounts{}, err
	}
	digits, ok := phoneDigits(phone)
	if !ok {
		return ports.ErasureCounts{}, ports.InvalidFields(ports.FieldError{
			Field: "phoneNumber", Message: "must be a phone number in international form (7–15 digits)",
		})
	}
	pn := digits + "@s.whatsapp.net"
	person := ports.Person{JIDs: []string{pn}, Numbers: []string{digits}}
	if s.d.Peers != nil {
		lid, err := s.d.Peers.LIDForPhone(ctx, pn)
		if err != nil {
			return ports.ErasureCounts{}, err
		}
		if lid != "" {
			person.JIDs = append(person.JIDs, lid)
			person.Numbers = append(person.Numbers, strings.TrimSuffix(lid, "@lid"))
		}
	}
	devices, err := s.devices(ctx, p.SubscriptionID)
	if err != nil {
		return ports.ErasureCounts{}, err
	}
	n, err := s.d.Eraser.ErasePerson(ctx, p.SubscriptionID, person)
	if err != nil {
		return n, fmt.Errorf("erase: %w", err)
	}
	// An export already written holds the person's messages. Rewriting
	// ZIPs to take them out would be slow and easy to get wrong; deleting
	// the subscription's exports is simple and surely complete (the
	// client may export again).
	if s.d.Exports != nil {
		x, err := s.d.Exports.DeleteAll(ctx, p.SubscriptionID)
		n.Exports = x
		if err != nil {
			return n, fmt.Errorf("erase: delete exports: %w", err)
		}
	}
	if s.d.Peers != nil {
		c, err := s.d.Peers.ErasePeer(ctx, devices, person.JIDs)
		n.Contacts += c
		if err != nil {
			return n, fmt.Errorf("erase from the device store: %w", err)
		}
	}
	e := p.AuditEntry("privacy.erased", "person", "")
	e.Details = map[string]any{
		"numberHmac": s.numberHMAC(digits),
		"messages":   n.Messages, "media": n.Media, "deliveries": n.Deliveries,
		"bulkRecipients": n.BulkRecipients, "contacts": n.Contacts, "events": n.Events,
		"exports": n.Exports,
	}
	if err := ports.AppendAudit(ctx, s.d.Stores.Audit, s.d.IDs, s.d.Clock, e); err != nil {
		return n, err
	}
	return n, nil
}

// numberHMAC is what the audit log keeps of an erased number: enough to
// answer "was this number erased?" for whoever holds the number and the
// key, nothing for anyone else.
func (s *Service) numberHMAC(digits string) string {
	m := hmac.New(sha256.New, s.d.AuditKey)
	m.Write([]byte("wagate erasure\x00" + digits))
	return hex.EncodeToString(m.Sum(nil))
}

// devices lists the WhatsApp device JIDs of the subscription's instances.
func (s *Service) devices(ctx context.Context, sub ports.SubscriptionID) ([]string, error) {
	var out []string
	err := s.eachInstance(ctx, sub, func(i ports.Instance) error {
		if i.JID != "" {
			out = append(out, i.JID)
		}
		return nil
	})
	return out, err
}

// eachInstance calls fn with every instance of sub.
func (s *Service) eachInstance(ctx context.Context, sub ports.SubscriptionID, fn func(ports.Instance) error) error {
	var all []ports.Instance
	page := ports.PageRequest{Limit: 100}
	for {
		got, err := s.d.Stores.Instances.ListInstances(ctx, sub, page)
		if err != nil {
			return fmt.Errorf("list instances: %w", err)
		}
		all = append(all, got.Items...)
		if got.Next == "" {
			break
		}
		page.After = got.Next
	}
	for _, i := range all {
		if err := fn(i); err != nil {
			return err
		}
	}
	return nil
}

// phoneDigits turns a phone number in international form (an optional +,
// spaces and dashes ignored) into its digits.
func phoneDigits(s string) (string, bool) {
	d := strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(s))
	d = strings.TrimPrefix(d, "+")
	if len(d) < 7 || len(d) > 15 || d[0] == '0' {
		return "", false
	}
	for _, r := range d {
		if r < '0' || r > '9' {
			return "", false
		}
	}
	return d, true
}
