package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wagate/wagate/adapters/argon2id"
	"github.com/wagate/wagate/adapters/entstore"
	"github.com/wagate/wagate/adapters/eventjson"
	"github.com/wagate/wagate/adapters/jwt"
	"github.com/wagate/wagate/adapters/prom"
	"github.com/wagate/wagate/adapters/redisbus"
	"github.com/wagate/wagate/adapters/safehttp"
	"github.com/wagate/wagate/adapters/tracing"
	"github.com/wagate/wagate/core/bulks"
	"github.com/wagate/wagate/core/events"
	"github.com/wagate/wagate/core/groups"
	"github.com/wagate/wagate/core/idempotency"
	"github.com/wagate/wagate/core/keys"
	"github.com/wagate/wagate/core/messaging"
	"github.com/wagate/wagate/core/nodecalls"
	"github.com/wagate/wagate/core/ownership"
	"github.com/wagate/wagate/core/sessions"
	"github.com/wagate/wagate/core/stats"
	"github.com/wagate/wagate/core/templates"
	"github.com/wagate/wagate/core/tenancy"
	"github.com/wagate/wagate/core/webhooks"
	"github.com/wagate/wagate/ports"
)

// The core modules' wiring: which ports each gets, built by build (wire.go)
// once the adapters are open.

// buildAccounts wires the accounts (tenancy, with its access tokens) and
// the instance API keys.
func (s *system) buildAccounts(ctx context.Context, cfg Config, clock ports.Clock, ids ports.IDGen, log *slog.Logger) error {
	secret, err := jwtSecret(cfg, log)
	if err != nil {
		return err
	}
	s.jwtSecret = secret
	previous := make([][]byte, 0, len(cfg.JWTPrevious))
	for _, p := range cfg.JWTPrevious {
		previous = append(previous, []byte(p))
	}
	issuer, err := jwt.New(jwt.Options{Secret: secret, Previous: previous, Clock: clock})
	if err != nil {
		return fmt.Errorf("jwt: %w", err)
	}
	if err := s.openPrincipals(ctx, cfg, clock, log); err != nil {
		return err
	}
	stores := s.store.Stores()
	s.tenancy = tenancy.New(tenancy.Deps{
		Tx: s.store, Stores: stores, Clock: clock, IDs: ids, Hasher: argon2id.Default(),
		Tokens: issuer, Limiter: s.limiter, Log: log, Principals: s.principals,
	}, tenancy.Config{
		AccessTTL: cfg.AccessTTL, RefreshTTL: cfg.RefreshTTL,
		Tiers: cfg.Tiers, LoginFailures: cfg.LoginFailures,
	})
	s.keys = keys.New(keys.Deps{Tx: s.store, Stores: stores, Clock: clock, IDs: ids, Log: log, Principals: s.principals})
	return nil
}

// openPrincipals starts the cache of authenticated callers and, with
// Redis, the channel on which nodes tell each other what to drop from it.
// Listening starts before any request can fill the cache.
func (s *system) openPrincipals(ctx context.Context, cfg Config, clock ports.Clock, log *slog.Logger) error {
	log = log.With("component", "auth-cache")
	cache := tenancy.PrincipalCacheConfig{TTL: cfg.AuthCacheTTL}
	if s.redis == nil || cfg.AuthCacheTTL == 0 {
		s.principals = tenancy.NewPrincipals(cache, clock, nil, log)
		return nil
	}
	rv, err := redisbus.NewRevocations(redisbus.RevocationOptions{
		Redis: s.redis, Prefix: cfg.RedisPrefix, Node: ports.NodeID(cfg.NodeID), Log: log,
	})
	if err != nil {
		return err
	}
	s.principals = tenancy.NewPrincipals(cache, clock, rv, log)
	if err := rv.Listen(ctx, s.principals); err != nil {
		return fmt.Errorf("revocation channel: %w", err)
	}
	s.revocations = rv
	return nil
}

// routeWhatsAppEvent hands an event of the WhatsApp adapter to the module
// it belongs to; each module leaves alone the events of instances this
// node does not hold. build sets both modules before it returns, and no
// connection (so no event) exists before then. An error leaves a message
// or receipt unacked, for WhatsApp to send again (messaging.HandleEvent).
func (s *system) routeWhatsAppEvent(e ports.WAEvent) error {
	switch e.Kind {
	case ports.WAMessage, ports.WAReceipt, ports.WAPollVoteKind:
		// The instance's behaviour may drop a group message or a status
		// update (SPEC §16).
		if !s.contacts.Admit(e) {
			return nil
		}
		if err := s.messaging.HandleEvent(e); err != nil {
			return err
		}
	case ports.WAGroupChangeKind:
		s.groups.HandleEvent(e)
	case ports.WACallKind:
	default:
		s.sessions.HandleEvent(e)
	}
	if s.ownership == nil || s.ownership.Owns(e.Instance) {
		s.contacts.HandleEvent(e)
	}
	return nil
}

// buildSessions wires the instances' lifecycle and this node's leases.
// Sessions claims a lease before a connect asked of this node, and the
// lease loop connects through sessions: ownership comes first, since
// claiming and checking a lease need nothing else, and gets sessions once
// it exists, before anything runs.
func (s *system) buildSessions(cfg Config, clock ports.Clock, ids ports.IDGen, evlog *events.Log, log *slog.Logger) error {
	leaseMetrics, err := prom.NewLeases(s.metrics)
	if err != nil {
		return err
	}
	s.ownership = ownership.New(ownership.Deps{
		Leases: s.store.Leases(), Directory: s.store.Directory(), Clock: clock,
		Observer: leaseMetrics, Log: log.With("component", "leases"),
	}, ownership.Config{Node: ports.NodeID(cfg.NodeID), TTL: cfg.LeaseTTL})
	// The calls on a live connection run on the instance's holder.
	var transport ports.NodeCalls
	if s.calls != nil {
		transport = s.calls
	}
	s.router = nodecalls.New(s.ownership, transport)
	s.forwarded = nodecalls.NewWhatsApp(s.router, s.whatsapp)
	if s.whatsapp != nil {
		s.forwardedGroups = nodecalls.NewGroups(s.router, s.whatsapp)
		s.forwardedContacts = nodecalls.NewContacts(s.router, s.whatsapp)
	}
	var calls *nodecalls.Router
	if transport != nil {
		calls = s.router
	}
	s.sessions = sessions.New(sessions.Deps{
		Tx: s.store, Stores: s.store.Stores(), Clock: clock, IDs: ids, Tiers: cfg.Tiers, Log: log,
		WhatsApp: s.forwarded, Calls: calls, Events: evlog, Limiter: s.limiter, ContactsLimit: cfg.ContactsRate,
		Directory: s.store.Directory(), Leases: s.ownership, Owner: s.ownership,
		CheckProxyURL: func(ctx context.Context, url string) error { return safehttp.CheckProxyURL(ctx, url, proxyGuard(cfg)) },
		PairCodeLimit: cfg.PairCodeRate, PairCodeSubscriptionLimit: cfg.PairCodeSubRate,
		Principals: s.principals, QRCodes: s.qrCodes(cfg, clock),
		// messaging is set before any status can move.
		InstanceChanged: func(id ports.InstanceID) {
			if s.messaging != nil {
				s.messaging.ForgetInstance(id)
			}
		},
	})
	s.ownership.SetInstances(s.sessions)
	return nil
}

// qrCodes is where the current QR codes are kept: in Redis when it is
// configured, so that every node answers GET /qr (SPEC §14); else in this
// process (nil).
func (s *system) qrCodes(cfg Config, clock ports.Clock) ports.QRCodeStore {
	if s.redis == nil {
		return nil
	}
	return redisbus.NewQRCodes(s.redis, cfg.RedisPrefix, clock)
}

// buildMessaging wires the sends and receipts, and the bulks that send
// through them, and registers their jobs.
func (s *system) buildMessaging(cfg Config, clock ports.Clock, ids ports.IDGen, evlog *events.Log, log *slog.Logger) {
	s.messaging = messaging.New(messaging.Deps{
		Tx: s.store, Stores: s.store.Stores(), Outbox: s.store.Outbox(), Clock: clock, IDs: ids,
		Queue: s.queue, WhatsApp: tracing.WhatsApp(s.whatsapp, cfg.tracer), Events: evlog, Log: log.With("component", "messaging"),
		Owner: s.ownership, LIDs: s.whatsapp,
		// URL media passes the webhooks' SSRF guard, lifted by the same switch (SPEC §6).
		Fetcher: safehttp.NewMediaFetcher(safehttp.Options{AllowPrivate: cfg.WebhookAllowPrivate, AllowHTTP: cfg.WebhookAllowHTTP}),
		// Link previews pass the same guard (SPEC §6a).
		Previews: safehttp.NewPreviewer(safehttp.Options{AllowPrivate: cfg.WebhookAllowPrivate, AllowHTTP: cfg.WebhookAllowHTTP}),
		Actions:  s.whatsappActions(),
		Groups:   s.whatsappGroups(),
	}, messaging.Config{
		SendDelayMin: cfg.SendDelayMin, SendDelayMax: cfg.SendDelayMax, MaxAge: cfg.SendMaxAge, MaxMediaBytes: cfg.MaxMediaBytes,
		// The claim goes stale only once its send has certainly given up.
		SendTimeout: cfg.SendTimeout, ClaimStaleAfter: cfg.SendTimeout * 3 / 2, RelayAfter: cfg.RelayAfter,
		// Status moves and deletions on this node drop an entry at once
		// (sessions' InstanceChanged); another node's within the second.
		InstanceCacheTTL: time.Second,
	})
	s.messaging.Register(s.runner)
	s.groups = s.newGroups(clock, evlog, log)
	s.bulks = bulks.New(bulks.Deps{
		Tx: s.store, Stores: s.store.Stores(), Sender: s.messaging, Clock: clock, IDs: ids, Queue: s.queue, Events: evlog,
		// Recipients' texts are rendered by the templates module.
		Render: templates.Render, Backlog: s.store.BulkBacklog(), Log: log.With("component", "bulks"),
	}, bulks.Config{PacingMin: cfg.SendDelayMin, PacingMax: cfg.SendDelayMax})
	s.bulks.Register(s.runner)
}

// newWebhooks wires the webhooks core and its event dispatcher:
// deliveries go through the SSRF-guarded client, URLs are checked with the
// same options when saved, and payloads are the envelope the realtime
// stream sends (adapters/eventjson).
func newWebhooks(cfg Config, st *entstore.Store, q ports.Queue, evlog *events.Log, bus ports.EventBus, clock ports.Clock, ids ports.IDGen, reg prometheus.Registerer, log *slog.Logger) (*webhooks.Service, error) {
	opt := safehttp.Options{AllowPrivate: cfg.WebhookAllowPrivate, AllowHTTP: cfg.WebhookAllowHTTP}
	webhookOpt := opt
	webhookOpt.IdlePerHost = cfg.WebhookConcurrency
	metrics, err := prom.NewWebhooks(reg)
	if err != nil {
		return nil, fmt.Errorf("webhook metrics: %w", err)
	}
	return webhooks.New(webhooks.Deps{
		Tx: st, Stores: st.Stores(), Outbox: st.DeliveryOutbox(), Clock: clock, IDs: ids, Queue: q,
		CheckURL: func(ctx context.Context, url string) error { return safehttp.CheckURL(ctx, url, opt) },
		Encode:   eventjson.Encode,
		Events:   evlog, EventBacklog: st.EventBacklog(),
		Realtime: bus,
		// Attempts are traced without a trace header reaching the customer.
		HTTP:     tracing.WebhookClient(safehttp.NewClient(webhookOpt), cfg.tracer),
		Refused:  func(err error) bool { return errors.Is(err, safehttp.ErrForbiddenAddress) },
		Observer: metrics,
		Log:      log.With("component", "webhooks"),
	}, webhooks.Config{Schedule: cfg.WebhookSchedule, RelayAfter: cfg.RelayAfter, Concurrency: cfg.WebhookConcurrency}), nil
}

// buildStoreOnly wires the modules that need only the store: statistics,
// Idempotency-Keys and templates.
func (s *system) buildStoreOnly(clock ports.Clock, ids ports.IDGen, log *slog.Logger) {
	stores := s.store.Stores()
	s.stats = stats.New(stats.Deps{
		Stats: stores.Stats, Instances: stores.Instances, Clock: clock, Log: log.With("component", "stats"),
	})
	s.idempotency = idempotency.New(idempotency.Deps{
		Store: s.store.Idempotency(), Clock: clock, IDs: ids, Log: log.With("component", "idempotency"),
	}, idempotency.Config{})
	s.templates = templates.New(templates.Deps{Tx: s.store, Stores: stores, Clock: clock, IDs: ids})
}

// proxyGuard is the SSRF guard of instance proxies: they are tenant-chosen
// destinations like webhooks, so the same rules and switch apply, when
// saved and when dialled.
func proxyGuard(cfg Config) safehttp.Options {
	return safehttp.Options{AllowPrivate: cfg.WebhookAllowPrivate}
}

// newGroups wires the groups module to the WhatsApp adapter (none: its
// routes answer not_supported).
func (s *system) newGroups(clock ports.Clock, evlog *events.Log, log *slog.Logger) *groups.Service {
	d := groups.Deps{Instances: s.store.Stores().Instances, Limiter: s.limiter, Clock: clock, Log: log.With("component", "groups"),
		Tx: s.store, Events: evlog, Owner: s.ownership}
	if s.whatsapp != nil {
		d.Groups, d.Members = s.forwardedGroups, s.forwardedGroups
	}
	return groups.New(d)
}

// whatsappGroups is the adapter's groups port; nil without an adapter.
func (s *system) whatsappGroups() ports.WAGroups {
	if s.forwardedGroups == nil {
		return nil
	}
	return s.forwardedGroups
}

// whatsappActions is the adapter's actions on messages; nil when there is
// no WhatsApp adapter (the routes then answer not_supported).
func (s *system) whatsappActions() ports.WAActions {
	if s.forwarded == nil {
		return nil
	}
	return s.forwarded
}
