package webhooks

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/wagate/wagate/core/events"
	"github.com/wagate/wagate/ports"
)

// EventEncoder returns the JSON envelope of an event (SPEC §10), the same
// bytes the realtime stream sends; an error for data without a wire form.
type EventEncoder func(e ports.Event) ([]byte, error)

// Deps are the ports the service uses.
type Deps struct {
	Tx       ports.TxRunner
	Stores   ports.Stores
	Outbox   ports.DeliveryOutbox
	Clock    ports.Clock
	IDs      ports.IDGen
	Queue    ports.Queue
	CheckURL ports.URLChecker
	Encode   EventEncoder
	// Events is the event log, which webhook.test events are appended to;
	// EventBacklog its system-level view, for the dispatcher's relay.
	Events       *events.Log
	EventBacklog ports.EventBacklog
	// Realtime is the bus the dispatcher forwards every event to, after
	// its deliveries commit; nil: none.
	Realtime ports.EventBus
	// HTTP sends deliveries. It must refuse forbidden addresses at dial
	// time and not follow redirects; Refused tells its refusals apart.
	HTTP    *http.Client
	Refused func(error) bool
	// Observer is told about attempts, for metrics; nil: nobody.
	Observer Observer
	Log      *slog.Logger
}

// Config tunes delivery. Zero values get the defaults.
type Config struct {
	// Schedule is the retry schedule; nil means DefaultSchedule.
	Schedule Schedule
	// RelayAfter is how long past its due time a pending delivery must be
	// to count as left behind by RelayOnce; default 30 s.
	RelayAfter time.Duration
	// Concurrency is how many deliveries one runner makes at once;
	// default DefaultConcurrency.
	Concurrency int
	// AttemptLease is how long a claimed attempt keeps its delivery from
	// other drains; a crash mid-attempt leaves it due again after it.
	// Default 30 s, and at least twice the HTTP client's timeout.
	AttemptLease time.Duration
}

// DefaultConcurrency is the delivery workers of one node
// (WAGATE_WEBHOOK_CONCURRENCY). Measured by make bench's webhook backlog
// (100 endpoints, 2 cores, load 12-15): 16, 32 and 64 workers made 217,
// 314 and 220 deliveries/s on SQLite and 284, 519 and 378 on PostgreSQL +
// Redis. Fewer leave endpoints idle; more only queue on the database's
// writes and the CPU. One endpoint's deliveries go one at a time anyway.
const DefaultConcurrency = 32

func (c Config) withDefaults() Config {
	if len(c.Schedule) == 0 {
		c.Schedule = DefaultSchedule()
	}
	if c.RelayAfter <= 0 {
		c.RelayAfter = 30 * time.Second
	}
	if c.Concurrency <= 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.AttemptLease <= 0 {
		c.AttemptLease = 30 * time.Second
	}
	return c
}

// Service is the webhooks module: endpoints, fan-out and delivery.
type Service struct {
	d         Deps
	cfg       Config
	lanes     *lanes
	endpoints *endpointCache
	claims    *recentClaims
}

// New returns a Service.
func New(d Deps, cfg Config) *Service {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Refused == nil {
		d.Refused = func(error) bool { return false }
	}
	if d.Observer == nil {
		d.Observer = nopObserver{}
	}
	cfg = cfg.withDefaults()
	if d.HTTP != nil && d.HTTP.Timeout > 0 {
		cfg.AttemptLease = max(cfg.AttemptLease, 2*d.HTTP.Timeout)
	}
	return &Service{d: d, cfg: cfg, lanes: newLanes(), endpoints: newEndpointCache(), claims: newRecentClaims()}
}

// MaxEndpoints is how many endpoints one instance may have (SPEC §9).
const MaxEndpoints = 10

// Field limits.
const (
	maxURLLen         = 2048
	maxDescriptionLen = 500
)

// CreateCmd creates an endpoint. Enabled nil means enabled.
type CreateCmd struct {
	URL         string
	Events      []string
	Description string
	Enabled     *bool
}

// PatchCmd changes the fields that are not nil.
type PatchCmd struct {
	URL         *string
	Events      []string // nil: unchanged
	Description *string
	Enabled     *bool
}

// Create adds an endpoint to one of the caller's instances and returns it
// with its secret, the only time the secret is shown besides a rotation.
// EForbidden for API keys; ENotFound for another tenant's instance;
// EInvalid for a bad or forbidden URL, events or description; EConflict
// when the instance has MaxEndpoints already. Audited.
func (s *Service) Create(ctx context.Context, p ports.Principal, inst ports.InstanceID, cmd CreateCmd) (ports.WebhookEndpoint, error) {
	if err := p.RequireUser(); err != nil {
		return ports.WebhookEndpoint{}, err
	}
	if cmd.Events == nil {
		cmd.Events = []string{} // a create must list events
	}
	if err := s.validate(ctx, &cmd.URL, cmd.Events, &cmd.Description); err != nil {
		return ports.WebhookEndpoint{}, err
	}
	secret, err := NewSecret()
	if err != nil {
		return ports.WebhookEndpoint{}, err
	}
	now := s.d.Clock.Now()
	w := ports.WebhookEndpoint{
		ID: ports.WebhookID(s.d.IDs.NewID()), SubscriptionID: p.SubscriptionID, InstanceID: inst,
		URL: cmd.URL, Events: cmd.Events, Description: cmd.Description, Enabled: cmd.Enabled == nil || *cmd.Enabled,
		Secret: secret, CreatedAt: now, UpdatedAt: now,
	}
	err = s.d.Tx.InTx(ctx, func(ctx context.Context, st ports.Stores) error {
		// The subscription's lock serializes creates, so that two at once
		// cannot both pass the count.
		if _, err := st.Subscriptions.LockSubscription(ctx, p.SubscriptionID); err != nil {
			return fmt.Errorf("lock subscription: %w", err)
		}
		if _, err := st.Instances.GetInstance(ctx, p.SubscriptionID, inst); err != nil {
			return fmt.Errorf("get instance: %w", err)
		}
		existing, err := st.Webhooks.ListWebhooks(ctx, p.SubscriptionID, inst)
		if err != nil {
			return fmt.Errorf("list webhooks: %w", err)
		}
		if len(existing) >= MaxEndpoints {
			return ports.Errorf(ports.EConflict, "an instance has at most %d webhook endpoints", MaxEndpoints)
		}
		if err := st.Webhooks.CreateWebhook(ctx, p.SubscriptionID, w); err != nil {
			return fmt.Errorf("create webhook: %w", err)
		}
		e := s.entry(p, "webhook.created", w)
		e.Details["events"] = w.Events
		return s.audit(ctx, st.Audit, e)
	})
	if err != nil {
		return ports.WebhookEndpoint{}, err
	}
	return w, nil
}

// Get returns one endpoint of the instance, without its secrets.
func (s *Service) Get(ctx context.Context, p ports.Principal, inst ports.InstanceID, id ports.WebhookID) (ports.WebhookEndpoint, error) {
	if err := p.RequireUser(); err != nil {
		return ports.WebhookEndpoint{}, err
	}
	w, err := s.endpoint(ctx, s.d.Stores, p.SubscriptionID, inst, id)
	if err != nil {
		return ports.WebhookEndpoint{}, err
	}
	return hideSecrets(w), nil
}

// List returns the instance's endpoints, oldest first, without secrets.
func (s *Service) List(ctx context.Context, p ports.Principal, inst ports.InstanceID) ([]ports.WebhookEndpoint, error) {
	if err := p.RequireUser(); err != nil {
		return nil, err
	}
	if _, err := s.d.Stores.Instances.GetInstance(ctx, p.SubscriptionID, inst); err != nil {
		return nil, fmt.Errorf("get instance: %w", err)
	}
	out, err := s.d.Stores.Webhooks.ListWebhooks(ctx, p.SubscriptionID, inst)
	if err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	for i := range out {
		out[i] = hideSecrets(out[i])
	}
	return out, nil
}

// Update changes an endpoint. Enabling it clears the reason the system
// disabled it, and its failure run. Audited.
func (s *Service) Update(ctx context.Context, p ports.Principal, inst ports.InstanceID, id ports.WebhookID, cmd PatchCmd) (ports.WebhookEndpoint, error) {
	if err := p.RequireUser(); err != nil {
		return ports.WebhookEndpoint{}, err
	}
	if err := s.validate(ctx, cmd.URL, cmd.Events, cmd.Description); err != nil {
		return ports.WebhookEndpoint{}, err
	}
	var out ports.WebhookEndpoint
	err := s.d.Tx.InTx(ctx, func(ctx context.Context, st ports.Stores) error {
		if _, err := s.endpoint(ctx, st, p.SubscriptionID, inst, id); err != nil {
			return err
		}
		w, err := st.Webhooks.UpdateWebhook(ctx, p.SubscriptionID, id, func(w *ports.WebhookEndpoint) error {
			applyPatch(w, cmd)
			w.UpdatedAt = s.d.Clock.Now()
			return nil
		})
		if err != nil {
			return fmt.Errorf("update webhook: %w", err)
		}
		out = w
		return s.audit(ctx, st.Audit, s.entry(p, "webhook.updated", w))
	})
	s.endpoints.forget(id) // drains read the change before their next claim
	if err != nil {
		return ports.WebhookEndpoint{}, err
	}
	return hideSecrets(out), nil
}

func applyPatch(w *ports.WebhookEndpoint, cmd PatchCmd) {
	if cmd.URL != nil {
		w.URL = *cmd.URL
	}
	if cmd.Events != nil {
		w.Events = cmd.Events
	}
	if cmd.Description != nil {
		w.Description = *cmd.Description
	}
	if cmd.Enabled != nil {
		if *cmd.Enabled && !w.Enabled {
			w.DisabledReason, w.FirstFailureAt = "", nil
		}
		w.Enabled = *cmd.Enabled
	}
}

// Delete removes an endpoint and its delivery log. Audited.
func (s *Service) Delete(ctx context.Context, p ports.Principal, inst ports.InstanceID, id ports.WebhookID) error {
	if err := p.RequireUser(); err != nil {
		return err
	}
	defer s.endpoints.forget(id)
	return s.d.Tx.InTx(ctx, func(ctx context.Context, st ports.Stores) error {
		w, err := s.endpoint(ctx, st, p.SubscriptionID, inst, id)
		if err != nil {
			return err
		}
		if err := st.Webhooks.DeleteWebhook(ctx, p.SubscriptionID, id); err != nil {
			return fmt.Errorf("delete webhook: %w", err)
		}
		return s.audit(ctx, st.Audit, s.entry(p, "webhook.deleted", w))
	})
}

// RotateSecret gives the endpoint a new secret and returns it; the old one
// keeps signing alongside for RotationOverlap. Audited.
func (s *Service) RotateSecret(ctx context.Context, p ports.Principal, inst ports.InstanceID, id ports.WebhookID) (ports.WebhookEndpoint, error) {
	if err := p.RequireUser(); err != nil {
		return ports.WebhookEndpoint{}, err
	}
	secret, err := NewSecret()
	if err != nil {
		return ports.WebhookEndpoint{}, err
	}
	var out ports.WebhookEndpoint
	err = s.d.Tx.InTx(ctx, func(ctx context.Context, st ports.Stores) error {
		if _, err := s.endpoint(ctx, st, p.SubscriptionID, inst, id); err != nil {
			return err
		}
		w, err := st.Webhooks.UpdateWebhook(ctx, p.SubscriptionID, id, func(w *ports.WebhookEndpoint) error {
			now := s.d.Clock.Now()
			w.PreviousSecret, w.Secret, w.RotatedAt, w.UpdatedAt = w.Secret, secret, now, now
			return nil
		})
		if err != nil {
			return fmt.Errorf("rotate webhook secret: %w", err)
		}
		out = w
		return s.audit(ctx, st.Audit, s.entry(p, "webhook.secret_rotated", w))
	})
	s.endpoints.forget(id)
	if err != nil {
		return ports.WebhookEndpoint{}, err
	}
	out.PreviousSecret = ""
	return out, nil
}

// endpoint loads an endpoint of the instance; ENotFound for another
// instance's or tenant's.
func (s *Service) endpoint(ctx context.Context, st ports.Stores, sub ports.SubscriptionID, inst ports.InstanceID, id ports.WebhookID) (ports.WebhookEndpoint, error) {
	w, err := st.Webhooks.GetWebhook(ctx, sub, id)
	if err != nil {
		return ports.WebhookEndpoint{}, fmt.Errorf("get webhook: %w", err)
	}
	if w.InstanceID != inst {
		return ports.WebhookEndpoint{}, ports.Errorf(ports.ENotFound, "webhook not found")
	}
	return w, nil
}

func hideSecrets(w ports.WebhookEndpoint) ports.WebhookEndpoint {
	w.Secret, w.PreviousSecret = "", ""
	return w
}

// validate checks the fields a create or patch sets (nil: not set); a
// create sets them all.
func (s *Service) validate(ctx context.Context, url *string, events []string, description *string) error {
	var fields []ports.FieldError
	if url != nil {
		if err := s.checkURL(ctx, *url); err != nil {
			e := ports.AsError(err)
			if e == nil || e.Code != ports.EInvalid {
				return err
			}
			fields = append(fields, e.Fields...)
		}
	}
	if events != nil {
		if err := ValidateEvents(events); err != nil {
			fields = append(fields, ports.AsError(err).Fields...)
		}
	}
	if description != nil {
		// A description is shown like a name, so it follows the name rule.
		if fe := ports.CheckName("description", *description, maxDescriptionLen); fe != nil {
			fields = append(fields, *fe)
		}
	}
	if len(fields) > 0 {
		return ports.InvalidFields(fields...)
	}
	return nil
}

// checkURL applies the length rule and the SSRF checker, naming the field.
func (s *Service) checkURL(ctx context.Context, url string) error {
	if url == "" {
		return ports.InvalidFields(ports.FieldError{Field: "url", Message: "is required"})
	}
	if fe := ports.CheckText("url", url, maxURLLen); fe != nil {
		return ports.InvalidFields(*fe)
	}
	return s.d.CheckURL.CheckField(ctx, "url", url)
}

// entry starts an audit entry about endpoint w by the caller.
func (s *Service) entry(p ports.Principal, action string, w ports.WebhookEndpoint) ports.AuditEntry {
	e := p.AuditEntry(action, "webhook", string(w.ID))
	e.Details = endpointDetails(w)
	return e
}

// endpointDetails are what every audit entry about an endpoint says of it.
func endpointDetails(w ports.WebhookEndpoint) map[string]any {
	return map[string]any{"instanceId": string(w.InstanceID), "url": auditURL(w.URL)}
}

// auditURL is an endpoint URL as the audit log keeps it: without userinfo,
// query and fragment, where receivers put their tokens
// (https://…/hook?token=…). The audit log is read by every admin and kept
// for long; the endpoint itself keeps the whole URL. An unparsable URL
// (never saved: Create validates) is kept as nothing rather than whole.
func auditURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	return u.String()
}

// audit stamps the entry with an id and the time and stores it.
func (s *Service) audit(ctx context.Context, st ports.AuditStore, e ports.AuditEntry) error {
	return ports.AppendAudit(ctx, st, s.d.IDs, s.d.Clock, e)
}
