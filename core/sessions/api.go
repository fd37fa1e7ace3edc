// Package sessions manages instances: the records of linked WhatsApp numbers
// (create within the tier's limit, list, get, update, delete) and their
// connection lifecycle: connecting and linking through the WhatsApp port,
// the persisted status with its reason, the instance.status and instance.qr
// events, reconnecting at start, and contact checks.
package sessions

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"time"

	"github.com/wagate/wagate/core/events"
	"github.com/wagate/wagate/core/nodecalls"
	"github.com/wagate/wagate/core/tenancy"
	"github.com/wagate/wagate/ports"
)

// Deps are the ports the service uses.
type Deps struct {
	Tx     ports.TxRunner
	Stores ports.Stores
	Clock  ports.Clock
	IDs    ports.IDGen
	Tiers  ports.TierTable
	Log    *slog.Logger

	WhatsApp ports.WhatsApp
	// Events is the event log: a status move appends its instance.status
	// event in the move's transaction.
	Events        *events.Log
	Limiter       ports.RateLimiter
	ContactsLimit ports.Limit // contact checks per instance; stricter than sends
	// PairCodeLimit and PairCodeSubscriptionLimit bound the pair codes
	// asked for per instance and per subscription.
	PairCodeLimit             ports.Limit
	PairCodeSubscriptionLimit ports.Limit
	// CheckProxyURL applies the SSRF rules to a proxy URL when it is saved:
	// the server connects to it. Nil: any proxy (tests only).
	CheckProxyURL ports.URLChecker
	// Directory finds instances across subscriptions: one whose lease
	// this node claimed, the instances to restore at start.
	Directory ports.InstanceDirectory
	// Leases, when several nodes share the database, claims an instance
	// for this node before a connect asked of it (core/ownership); nil:
	// this node holds every instance.
	Leases Holder
	// Owner tells whether this node holds an instance's connection, so
	// that the late events of one it let go of are left to the new
	// holder (core/ownership); nil: this node holds every instance.
	Owner Owner
	// Principals caches authenticated callers: a deleted instance's keys
	// are dropped from it on every node. Nil caches nothing.
	Principals *tenancy.Principals
	// QRCodes keeps the current QR codes where every node reads them
	// (Redis with several nodes); nil: in this process.
	QRCodes ports.QRCodeStore
	// Calls sends the calls that need the instance's connection to the
	// node holding it (with WhatsApp wrapped by nodecalls.NewWhatsApp);
	// nil: this node holds every instance it was asked to connect.
	Calls *nodecalls.Router
	// InstanceChanged, when set, hears of an instance whose status moved
	// or that was deleted, so that what other modules cached of it on
	// this node goes (the accept path's instance check).
	InstanceChanged func(ports.InstanceID)
}

// Holder claims an instance's lease for this node. EConflict when another
// node holds it.
type Holder interface {
	Acquire(ctx context.Context, id ports.InstanceID) error
}

// Owner tells whether this node holds an instance's WhatsApp connection.
type Owner interface {
	Owns(id ports.InstanceID) bool
}

// DefaultContactsLimit is the contact-check allowance of an instance when
// Deps.ContactsLimit is zero: mass lookups get numbers banned.
var DefaultContactsLimit = ports.Limit{Count: 20, Period: time.Minute}

// The pair-code allowances when Deps leaves them zero: enough to retry a
// mistyped number, too few to spam strangers with linking prompts.
var (
	DefaultPairCodeLimit             = ports.Limit{Count: 3, Period: 10 * time.Minute}
	DefaultPairCodeSubscriptionLimit = ports.Limit{Count: 10, Period: time.Hour}
)

// Service is the sessions module.
type Service struct {
	d Deps

	// connectOnHolder runs connectHere on the node holding the instance.
	connectOnHolder func(context.Context, ports.InstanceID, struct{}) error
}

// New returns a Service. Without a tier table it uses ports.DefaultTiers;
// without limits, the Default*Limit values. The lifecycle methods need
// WhatsApp (else EUnavailable), Adopt and Restore the Directory; a nil
// Limiter turns the contact-check and pair-code limits off.
func New(d Deps) *Service {
	if len(d.Tiers) == 0 {
		d.Tiers = ports.DefaultTiers()
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	d.ContactsLimit = limitOr(d.ContactsLimit, DefaultContactsLimit)
	d.PairCodeLimit = limitOr(d.PairCodeLimit, DefaultPairCodeLimit)
	d.PairCodeSubscriptionLimit = limitOr(d.PairCodeSubscriptionLimit, DefaultPairCodeSubscriptionLimit)
	if d.QRCodes == nil {
		d.QRCodes = newMemoryQRs(d.Clock)
	}
	s := &Service{d: d}
	s.connectOnHolder = nodecalls.RouteErr(d.Calls, "sessions.connect", s.connectHere)
	return s
}

// CreateCmd creates an instance.
type CreateCmd struct {
	Name     string
	Metadata map[string]any
	ProxyURL string
}

// UpdateCmd changes an instance; nil fields stay as they are.
type UpdateCmd struct {
	Name     *string
	Metadata *map[string]any
	ProxyURL *string
	Settings *SettingsPatch // the behaviour of SPEC §16 (settings.go)
}

// Create makes an instance in status created. EForbidden for API keys;
// EForbidden (instance_limit_reached) over the tier's limit, also under
// concurrent creates; EConflict (name_taken); EInvalid. Audited.
func (s *Service) Create(ctx context.Context, p ports.Principal, cmd CreateCmd) (ports.Instance, error) {
	if err := p.RequireUser(); err != nil {
		return ports.Instance{}, err
	}
	cmd.Name = strings.TrimSpace(cmd.Name)
	if err := ports.FieldErrors(checkName(cmd.Name), checkMetadata(cmd.Metadata), checkProxyURL(cmd.ProxyURL)); err != nil {
		return ports.Instance{}, err
	}
	if err := s.checkProxyTarget(ctx, &cmd.ProxyURL); err != nil {
		return ports.Instance{}, err
	}
	var inst ports.Instance
	err := s.d.Tx.InTx(ctx, func(ctx context.Context, st ports.Stores) error {
		// The lock serializes creates of one subscription, so that two
		// concurrent creates at the limit cannot both see room. The tier is
		// read from the locked row, not the principal, which may be stale.
		sub, err := st.Subscriptions.LockSubscription(ctx, p.SubscriptionID)
		if err != nil {
			return fmt.Errorf("lock subscription: %w", err)
		}
		used, err := st.Instances.CountInstances(ctx, sub.ID)
		if err != nil {
			return fmt.Errorf("count instances: %w", err)
		}
		if limit := s.limit(sub.Tier); used >= limit {
			return ports.ReasonError(ports.EForbidden, "instance_limit_reached",
				fmt.Sprintf("the %s tier allows %d instances", sub.Tier, limit))
		}
		now := s.d.Clock.Now()
		inst = ports.Instance{
			ID:             ports.InstanceID(s.d.IDs.NewID()),
			SubscriptionID: sub.ID,
			Name:           cmd.Name,
			Status:         ports.StatusCreated,
			Metadata:       metadataOrEmpty(cmd.Metadata),
			ProxyURL:       cmd.ProxyURL,
			CreatedAt:      now,
			UpdatedAt:      now,
		}
		if err := st.Instances.CreateInstance(ctx, sub.ID, inst); err != nil {
			return fmt.Errorf("create instance: %w", err)
		}
		e := s.entry(p, "instance.created", inst.ID)
		e.Details = map[string]any{"name": inst.Name}
		return s.audit(ctx, st.Audit, e)
	})
	if err != nil {
		return ports.Instance{}, err
	}
	return inst, nil
}

// List lists the caller's instances, oldest first.
func (s *Service) List(ctx context.Context, p ports.Principal, page ports.PageRequest) (ports.Page[ports.Instance], error) {
	if err := p.RequireUser(); err != nil {
		return ports.Page[ports.Instance]{}, err
	}
	out, err := s.d.Stores.Instances.ListInstances(ctx, p.SubscriptionID, page)
	if err != nil {
		return ports.Page[ports.Instance]{}, fmt.Errorf("list instances: %w", err)
	}
	return out, nil
}

// Get returns one of the caller's instances; ENotFound otherwise.
func (s *Service) Get(ctx context.Context, p ports.Principal, id ports.InstanceID) (ports.Instance, error) {
	if err := p.RequireUser(); err != nil {
		return ports.Instance{}, err
	}
	inst, err := s.d.Stores.Instances.GetInstance(ctx, p.SubscriptionID, id)
	if err != nil {
		return ports.Instance{}, fmt.Errorf("get instance: %w", err)
	}
	return inst, nil
}

// Update changes name, metadata or proxy. Audited.
func (s *Service) Update(ctx context.Context, p ports.Principal, id ports.InstanceID, cmd UpdateCmd) (ports.Instance, error) {
	if err := p.RequireUser(); err != nil {
		return ports.Instance{}, err
	}
	if err := validateUpdate(&cmd); err != nil {
		return ports.Instance{}, err
	}
	if err := s.checkProxyTarget(ctx, cmd.ProxyURL); err != nil {
		return ports.Instance{}, err
	}
	var out ports.Instance
	err := s.d.Tx.InTx(ctx, func(ctx context.Context, st ports.Stores) error {
		var changed []string
		var err error
		out, err = st.Instances.UpdateInstance(ctx, p.SubscriptionID, id, func(i *ports.Instance) error {
			changed = apply(i, cmd)
			if len(changed) > 0 {
				i.UpdatedAt = s.d.Clock.Now()
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("update instance: %w", err)
		}
		if len(changed) == 0 {
			return nil
		}
		// Only the names of the changed fields: a proxy URL may carry
		// credentials, and metadata is the customer's business.
		e := s.entry(p, "instance.updated", id)
		e.Details = map[string]any{"fields": changed}
		return s.audit(ctx, st.Audit, e)
	})
	if err != nil {
		return ports.Instance{}, err
	}
	return out, nil
}

// checkProxyTarget applies the SSRF rules to a proxy URL being saved
// (nil or empty: none), after its form was checked: the DNS lookup is
// spent only on a URL that could be used.
func (s *Service) checkProxyTarget(ctx context.Context, raw *string) error {
	if raw == nil || *raw == "" {
		return nil
	}
	return s.d.CheckProxyURL.CheckField(ctx, "proxyUrl", *raw)
}

// Delete unlinks the instance's device and removes the instance with its
// keys. An unlink failure is logged and does not stop the delete: the
// customer asked for the record to go. Audited.
func (s *Service) Delete(ctx context.Context, p ports.Principal, id ports.InstanceID) error {
	if err := p.RequireUser(); err != nil {
		return err
	}
	inst, err := s.d.Stores.Instances.GetInstance(ctx, p.SubscriptionID, id)
	if err != nil {
		return fmt.Errorf("get instance: %w", err)
	}
	s.release(ctx, inst)
	defer s.forgetQR(ctx, id)
	// Once the keys are gone, no node may keep accepting them.
	defer s.d.Principals.Revoke(ctx, ports.Revocation{InstanceID: id})
	defer s.changed(id)
	return s.d.Tx.InTx(ctx, func(ctx context.Context, st ports.Stores) error {
		inst, err := st.Instances.GetInstance(ctx, p.SubscriptionID, id)
		if err != nil {
			return fmt.Errorf("get instance: %w", err)
		}
		if err := st.Instances.DeleteInstance(ctx, p.SubscriptionID, id); err != nil {
			return fmt.Errorf("delete instance: %w", err)
		}
		e := s.entry(p, "instance.deleted", id)
		e.Details = map[string]any{"name": inst.Name}
		return s.audit(ctx, st.Audit, e)
	})
}

// Own returns an API key's own instance (scope instance:read). EForbidden
// for users and for keys without the scope.
func (s *Service) Own(ctx context.Context, p ports.Principal) (ports.Instance, error) {
	if p.Kind != ports.PrincipalAPIKey {
		return ports.Instance{}, ports.ReasonError(ports.EForbidden, "forbidden", "this route needs an instance API key")
	}
	if err := p.RequireScope(ports.ScopeInstanceRead); err != nil {
		return ports.Instance{}, err
	}
	inst, err := s.d.Stores.Instances.GetInstance(ctx, p.SubscriptionID, p.InstanceID)
	if err != nil {
		return ports.Instance{}, fmt.Errorf("get instance: %w", err)
	}
	return inst, nil
}

// limit is the tier's instance limit. A tier missing from the table (removed
// from the configuration) gets the basic allowance.
func (s *Service) limit(t ports.Tier) int {
	if l, ok := s.d.Tiers[t]; ok {
		return l.Instances
	}
	return s.d.Tiers[ports.TierBasic].Instances
}

// validateUpdate normalizes and checks the fields that are present.
func validateUpdate(cmd *UpdateCmd) error {
	var checks []*ports.FieldError
	if cmd.Name != nil {
		name := strings.TrimSpace(*cmd.Name)
		cmd.Name = &name
		checks = append(checks, checkName(name))
	}
	if cmd.Metadata != nil {
		checks = append(checks, checkMetadata(*cmd.Metadata))
	}
	if cmd.ProxyURL != nil {
		checks = append(checks, checkProxyURL(*cmd.ProxyURL))
	}
	if cmd.Settings != nil {
		checks = append(checks, checkSettings(cmd.Settings))
	}
	return ports.FieldErrors(checks...)
}

// apply sets the given fields and returns the API names of those that
// changed.
func apply(i *ports.Instance, cmd UpdateCmd) []string {
	var changed []string
	if cmd.Name != nil && *cmd.Name != i.Name {
		i.Name = *cmd.Name
		changed = append(changed, "name")
	}
	if cmd.Metadata != nil && !jsonEqual(*cmd.Metadata, i.Metadata) {
		i.Metadata = metadataOrEmpty(*cmd.Metadata)
		changed = append(changed, "metadata")
	}
	if cmd.ProxyURL != nil && *cmd.ProxyURL != i.ProxyURL {
		i.ProxyURL = *cmd.ProxyURL
		changed = append(changed, "proxyUrl")
	}
	if cmd.Settings != nil && applySettings(&i.Settings, *cmd.Settings) {
		changed = append(changed, "settings")
	}
	return changed
}

// metadataOrEmpty copies m, so that an instance never shares the caller's
// map, and turns nil into an empty map, which clients see as {}.
func metadataOrEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return maps.Clone(m)
}

// entry starts an audit entry about an instance.
func (s *Service) entry(p ports.Principal, action string, id ports.InstanceID) ports.AuditEntry {
	return p.AuditEntry(action, "instance", string(id))
}

// audit stamps the entry with an id and the time and stores it.
func (s *Service) audit(ctx context.Context, st ports.AuditStore, e ports.AuditEntry) error {
	return ports.AppendAudit(ctx, st, s.d.IDs, s.d.Clock, e)
}
