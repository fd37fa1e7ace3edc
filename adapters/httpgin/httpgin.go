// Package httpgin is wagate's HTTP adapter on Gin: the REST routes of
// SPEC §3–7 as thin handlers over the core services, the realtime
// event stream (a WebSocket, §10), the sandbox routes (§15), problem+json errors
// from one code→status table, the middleware every request passes (request
// id, access log, security headers, CORS, body limit, metrics, rate limits,
// bearer authentication), the operational endpoints (/healthz, /readyz,
// /metrics) and the OpenAPI document with its /docs page.
package httpgin

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/wagate/wagate/adapters/ratelimit"
	"github.com/wagate/wagate/core/bulks"
	"github.com/wagate/wagate/core/contacts"
	"github.com/wagate/wagate/core/events"
	"github.com/wagate/wagate/core/exports"
	"github.com/wagate/wagate/core/governance"
	"github.com/wagate/wagate/core/groups"
	"github.com/wagate/wagate/core/idempotency"
	"github.com/wagate/wagate/core/keys"
	"github.com/wagate/wagate/core/messaging"
	"github.com/wagate/wagate/core/sessions"
	"github.com/wagate/wagate/core/stats"
	"github.com/wagate/wagate/core/templates"
	"github.com/wagate/wagate/core/tenancy"
	"github.com/wagate/wagate/core/webhooks"
	"github.com/wagate/wagate/ports"
)

// Services are the core modules the routes call.
type Services struct {
	Tenancy   *tenancy.Service
	Keys      *keys.Service
	Sessions  *sessions.Service
	Messaging *messaging.Service
	Bulks     *bulks.Service // the bulk sends of SPEC §8
	// Idempotency applies Idempotency-Key to the send routes; nil: the
	// header is ignored.
	Idempotency *idempotency.Service
	// Webhooks is the webhooks module of SPEC §9.
	Webhooks *webhooks.Service
	// Stats answers the stats routes and counts API calls; nil: the
	// routes answer 503 and nothing is counted.
	Stats *stats.Service
	// Templates is the templates module of SPEC §8; nil: its routes
	// answer 503.
	Templates *templates.Service
	// EventLog reads the event log back (GET /events, the stream's
	// replay); nil: GET /events and ?after= on the stream answer 503.
	EventLog *events.Feed
	// Governance erases people, keeps the retention settings and closes
	// accounts (SPEC §18); nil: its routes answer 503.
	Governance *governance.Service
	// Exports writes and serves the data exports (SPEC §18); nil: its
	// routes answer 503.
	Exports *exports.Service
	// Contacts answers the chat, contact and profile routes of SPEC §16;
	// nil: they answer 503.
	Contacts *contacts.Service
	// Groups is the groups module of SPEC §16; nil: its routes answer
	// not_supported.
	Groups *groups.Service
}

// ReadyCheck is one dependency /readyz asks.
type ReadyCheck struct {
	Name  string
	Check ports.Pinger
}

// Defaults of Options.
const (
	DefaultAuthRatePerMin       = 60
	DefaultMaxBodyBytes   int64 = 1 << 20
)

// Options configure the adapter. Zero values get the documented defaults.
type Options struct {
	Log *slog.Logger // default: discard
	// Limiter counts the per-IP auth limit; default: an in-memory one.
	Limiter        ports.RateLimiter
	AuthRatePerMin int      // requests per minute per client IP on /auth/*; default 60
	CORSOrigins    []string // exact origins allowed to call from a browser
	MaxBodyBytes   int64    // request body limit; default 1 MiB
	TLS            bool     // served over TLS (directly or behind a TLS proxy): send HSTS
	Ready          []ReadyCheck
	// MaxMediaBytes is the largest file of a media send; the media routes'
	// body limit is raised to fit it, base64 or multipart. Default
	// messaging.DefaultMaxMedia.
	MaxMediaBytes int64
	// Metrics receives the HTTP metrics and is served at /metrics; default:
	// a fresh registry.
	Metrics *prometheus.Registry
	// MetricsToken, when set, is the Bearer token /metrics requires;
	// empty: /metrics is open.
	MetricsToken string
	// TrustedProxies are the CIDRs or IPs whose X-Forwarded-For is believed
	// for the client IP; none by default.
	TrustedProxies []string
	// Events feeds the realtime stream; nil: /events/ws answers 503.
	Events ports.EventBus
	// Shutdown is closed when the server starts shutting down: open
	// streams then close with 1001 (going away). http.Server.Shutdown
	// does not close hijacked connections, so they must be told.
	Shutdown <-chan struct{}
	// PingInterval is how often the stream pings an idle client; default
	// 30 s.
	PingInterval time.Duration
	// StreamRecheck is how often an open stream checks its access token
	// again, closing with 4001 once it is revoked or expired; default
	// DefaultStreamRecheck.
	StreamRecheck time.Duration
	// MaxStreamsPerUser caps a user's open streams on this node; default
	// DefaultMaxStreamsPerUser.
	MaxStreamsPerUser int
	// Sandbox, when set, is the simulated network of sandbox mode and the
	// /api/v1/sandbox routes exist; nil (live mode): they do not.
	Sandbox Simulator
	// QueueUI, when set, is the queue monitor (asynqmon over Redis),
	// mounted read-only at /admin/queues for platform admins; nil (no
	// Redis): those routes do not exist.
	QueueUI http.Handler
	// TracerProvider, when set, receives a server span per request
	// (tracing.go); nil: requests are not traced.
	TracerProvider trace.TracerProvider
}

func (o Options) withDefaults() Options {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Limiter == nil {
		o.Limiter = ratelimit.NewMemory()
	}
	if o.AuthRatePerMin <= 0 {
		o.AuthRatePerMin = DefaultAuthRatePerMin
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.MaxMediaBytes <= 0 {
		o.MaxMediaBytes = messaging.DefaultMaxMedia
	}
	if o.Metrics == nil {
		o.Metrics = prometheus.NewRegistry()
	}
	if o.PingInterval <= 0 {
		o.PingInterval = DefaultPingInterval
	}
	if o.StreamRecheck <= 0 {
		o.StreamRecheck = DefaultStreamRecheck
	}
	if o.MaxStreamsPerUser <= 0 {
		o.MaxStreamsPerUser = DefaultMaxStreamsPerUser
	}
	return o
}

// api holds what the handlers share.
type api struct {
	svc     Services
	opt     Options
	log     *slog.Logger
	streams *streamCounts
}

// New returns the HTTP handler of wagate.
func New(svc Services, opt Options) *gin.Engine {
	opt = opt.withDefaults()
	a := &api{svc: svc, opt: opt, log: opt.Log, streams: &streamCounts{open: map[ports.UserID]int{}}}

	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.HandleMethodNotAllowed = true
	// An API answers the path it was asked, not a redirect to a guess.
	e.RedirectTrailingSlash = false
	e.RedirectFixedPath = false
	if err := e.SetTrustedProxies(opt.TrustedProxies); err != nil {
		// Fall back to trusting no proxy: a client IP from an untrusted
		// header would let anyone dodge the per-IP limits.
		opt.Log.Error("invalid trusted proxies; trusting none", slog.Any("error", err))
		_ = e.SetTrustedProxies(nil)
	}

	metrics, err := newHTTPMetrics(opt.Metrics)
	if err != nil {
		opt.Log.Error("register HTTP metrics", slog.Any("error", err))
	}
	if opt.TracerProvider != nil {
		e.Use(traceRequests(opt.TracerProvider))
	}
	e.Use(withRequestID(), securityHeaders(opt.TLS))
	if metrics != nil {
		e.Use(metrics.middleware())
	}
	e.Use(accessLog(opt.Log), recoverPanics(opt.Log), cors(opt.CORSOrigins), limitBody(opt.MaxBodyBytes, mediaBodyLimit(opt), opt.Log))

	e.NoRoute(func(c *gin.Context) {
		abortWithError(c, a.log, ports.Errorf(ports.ENotFound, "no such route"))
	})
	e.NoMethod(func(c *gin.Context) {
		writeProblem(c, methodNotAllowed(c))
	})
	a.routes(e)
	return e
}

// methodNotAllowed is the 405 problem; it has no ports code, as no core
// call can fail that way. Gin has set the Allow header.
func methodNotAllowed(c *gin.Context) Problem {
	return Problem{
		Type:      problemBase + "method_not_allowed",
		Title:     http.StatusText(http.StatusMethodNotAllowed),
		Status:    http.StatusMethodNotAllowed,
		Detail:    "the route does not accept " + c.Request.Method,
		Code:      "method_not_allowed",
		RequestID: requestID(c),
	}
}

// routes registers every route; openapi.json documents the same list, and a
// test keeps the two equal. Each route's role is a line of routeRoles
// (roles.go).
func (a *api) routes(e *gin.Engine) {
	e.GET("/healthz", a.healthz)
	e.GET("/readyz", a.readyz)
	e.GET("/metrics", a.metricsAuth, gin.WrapH(a.metricsHandler()))
	e.GET("/openapi.json", a.openAPI)
	e.GET("/docs", a.docs)
	e.GET("/", a.consoleIndex)
	e.GET("/console/*file", a.consoleFile)

	v1 := e.Group("/api/v1", a.checkQuery)

	auth := v1.Group("/auth", a.authIPRate)
	auth.POST("/register", a.register)
	auth.POST("/login", a.login)
	auth.POST("/refresh", a.refresh)
	auth.POST("/accept-invitation", a.acceptInvitation)
	authed := auth.Group("", a.authenticate, a.countCall, a.requireUser, a.apiRate)
	authed.POST("/logout", a.logout)
	authed.POST("/password", a.changePassword)

	r := v1.Group("", a.authenticate, a.traceTenant, a.countCall, a.apiRate, a.checkIDs)
	r.GET("/me", a.me)

	r.GET("/members", a.listMembers)
	r.PATCH("/members/:userId", a.changeMemberRole)
	r.DELETE("/members/:userId", a.removeMember)
	r.POST("/members/invitations", a.createInvitation)
	r.GET("/members/invitations", a.listInvitations)
	r.DELETE("/members/invitations/:id", a.deleteInvitation)

	r.POST("/instances", a.createInstance)
	r.GET("/instances", a.listInstances)
	r.GET("/instances/:id", a.getInstance)
	r.PATCH("/instances/:id", a.updateInstance)
	r.DELETE("/instances/:id", a.deleteInstance)

	r.POST("/instances/:id/api-keys", a.createKey)
	r.GET("/instances/:id/api-keys", a.listKeys)
	r.DELETE("/instances/:id/api-keys/:keyId", a.deleteKey)
	r.GET("/instance", a.ownInstance)

	r.POST("/instances/:id/connect", a.connectInstance)
	r.GET("/instances/:id/qr", a.instanceQR)
	r.POST("/instances/:id/pair-code", a.pairCode)
	r.POST("/instances/:id/disconnect", a.disconnectInstance)
	r.POST("/instances/:id/logout", a.logoutInstance)
	r.POST("/instances/:id/contacts/check", a.checkContacts)
	r.POST("/contacts/check", a.checkContacts)

	r.POST("/messages/text", a.idempotent, a.sendText)
	r.POST("/messages/location", a.idempotent, a.sendLocation)
	r.POST("/messages/image", a.idempotent, a.sendImage)
	r.POST("/messages/document", a.idempotent, a.sendDocument)
	r.POST("/messages/audio", a.idempotent, a.sendAudio)
	r.POST("/messages/video", a.idempotent, a.sendVideo)
	r.POST("/messages/sticker", a.idempotent, a.sendSticker)
	r.POST("/messages/contact", a.idempotent, a.sendContact)
	r.POST("/messages/poll", a.idempotent, a.sendPoll)
	r.GET("/messages/:messageId/poll", a.getPoll)
	r.GET("/messages", a.listMessages)
	r.GET("/messages/:messageId", a.getMessage)
	r.GET("/messages/:messageId/media", a.getMedia)
	r.POST("/instances/:id/messages/text", a.idempotent, a.sendText)
	r.POST("/instances/:id/messages/location", a.idempotent, a.sendLocation)
	r.POST("/instances/:id/messages/image", a.idempotent, a.sendImage)
	r.POST("/instances/:id/messages/document", a.idempotent, a.sendDocument)
	r.POST("/instances/:id/messages/audio", a.idempotent, a.sendAudio)
	r.POST("/instances/:id/messages/video", a.idempotent, a.sendVideo)
	r.POST("/instances/:id/messages/sticker", a.idempotent, a.sendSticker)
	r.POST("/instances/:id/messages/contact", a.idempotent, a.sendContact)
	r.POST("/instances/:id/messages/poll", a.idempotent, a.sendPoll)
	r.GET("/instances/:id/messages/:messageId/poll", a.getPoll)
	r.GET("/instances/:id/messages", a.listMessages)
	r.GET("/instances/:id/messages/:messageId", a.getMessage)
	r.GET("/instances/:id/messages/:messageId/media", a.getMedia)
	a.messageActionRoutes(r, v1.Group("", a.authenticate, a.traceTenant, a.countCall, a.apiRate))
	a.contactRoutes(r, v1.Group("", a.authenticate, a.traceTenant, a.countCall, a.apiRate))
	a.groupRoutes(v1.Group("", a.authenticate, a.traceTenant, a.countCall, a.apiRate))

	r.POST("/instances/:id/webhooks", a.createWebhook)
	r.GET("/instances/:id/webhooks", a.listWebhooks)
	r.GET("/instances/:id/webhooks/:wid", a.getWebhook)
	r.PATCH("/instances/:id/webhooks/:wid", a.updateWebhook)
	r.DELETE("/instances/:id/webhooks/:wid", a.deleteWebhook)
	r.POST("/instances/:id/webhooks/:wid/rotate-secret", a.rotateWebhookSecret)
	r.POST("/instances/:id/webhooks/:wid/test", a.testWebhook)
	r.GET("/instances/:id/webhooks/:wid/deliveries", a.listDeliveries)
	r.POST("/instances/:id/webhooks/:wid/deliveries/:did/retry", a.retryDelivery)

	r.GET("/admin/subscriptions", a.listSubscriptions)
	r.PATCH("/admin/subscriptions/:id", a.changeTier)

	r.GET("/audit-logs", a.listAudit)

	r.POST("/templates", a.createTemplate)
	r.GET("/templates", a.listTemplates)
	r.GET("/templates/:id", a.getTemplate)
	r.PATCH("/templates/:id", a.updateTemplate)
	r.DELETE("/templates/:id", a.deleteTemplate)
	r.POST("/templates/:id/render", a.renderTemplate)

	r.POST("/bulk", a.idempotent, a.createBulk)
	r.POST("/instances/:id/bulk", a.idempotent, a.createBulk)
	r.GET("/bulk/:id", a.getBulk)
	r.POST("/bulk/:id/pause", a.pauseBulk)
	r.POST("/bulk/:id/resume", a.resumeBulk)
	r.POST("/bulk/:id/cancel", a.cancelBulk)
	r.GET("/bulk/:id/messages", a.listBulkMessages)

	r.GET("/events", a.listEvents)

	r.POST("/privacy/erase", a.erasePerson)
	r.GET("/subscription", a.getOwnSubscription)
	r.PATCH("/subscription", a.patchOwnSubscription)
	r.DELETE("/subscription", a.closeSubscription)

	r.POST("/exports", a.createExport)
	r.GET("/exports", a.listExports)
	r.GET("/exports/:id", a.getExport)
	r.GET("/exports/:id/download", a.downloadExport)

	r.GET("/stats", a.stats)
	r.GET("/instances/:id/stats", a.instanceStats)

	// The stream authenticates itself: browsers pass the token in the
	// query, and API keys are refused.
	v1.GET("/events/ws", a.authenticateStream, a.countCall, a.apiRate, a.eventStream)

	if a.opt.Sandbox != nil {
		sb := r.Group("/sandbox/instances/:id")
		sb.POST("/scan", a.sandboxScan)
		sb.POST("/inbound", a.sandboxInbound)
		sb.POST("/vote", a.sandboxVote)
		a.sandboxActionRoutes(sb)
		sb.POST("/call", a.sandboxCall)
		sb.POST("/group-event", a.sandboxGroupEvent)
		// A phone number is no UUID: this route checks its own parameters.
		byPhone := v1.Group("", a.authenticate, a.traceTenant, a.countCall, a.apiRate)
		byPhone.GET("/sandbox/phones/:phone/messages", a.sandboxPhoneMessages)
	}
	if a.opt.QueueUI != nil {
		a.queueUIRoutes(e)
	}
}
