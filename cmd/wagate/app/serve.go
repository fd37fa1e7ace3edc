package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/collectors"

	asynqueue "github.com/wagate/wagate/adapters/asynq"
	"github.com/wagate/wagate/adapters/httpgin"
	"github.com/wagate/wagate/core/tenancy"
	"github.com/wagate/wagate/ports"
)

func runServe(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer, hooks Hooks) error {
	fs := newFlags("serve", stdout)
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	log := newLogger(stdout, cfg.LogLevel, cfg.NodeID)
	logConfig(log, getenv)
	// Deferred first, so run last: the spans of the shutdown are flushed too.
	tracer, stopTracing, err := startTracing(ctx, cfg, hooks, log)
	if err != nil {
		return err
	}
	defer stopTracing()
	cfg.tracer = tracer

	sys, err := build(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer sys.close()
	if err := bootstrapAdmin(ctx, sys.tenancy, cfg, log); err != nil {
		return err
	}

	// Background work runs under its own context so that it outlives the
	// HTTP server during shutdown and stops only after it.
	bgCtx, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	var bg sync.WaitGroup
	bg.Go(func() { sys.keys.Run(bgCtx) })
	// The send workers stop (draining their running jobs) when the
	// background context ends, after the HTTP server and before the
	// WhatsApp clients close (sys.close, deferred above).
	bg.Go(func() {
		if err := sys.runner.Run(bgCtx); err != nil {
			log.Error("queue runner", "err", err)
		}
	})
	for _, p := range sys.passes(cfg) {
		bg.Go(func() { periodic(bgCtx, log, p.name, p.every, p.fn) })
	}
	bg.Go(func() { releaseAfterStart(bgCtx, cfg.ReleaseAfter, log) })
	defer func() {
		stopBackground()
		bg.Wait()
		// The send workers have drained: hand the instances over before
		// the WhatsApp clients close (sys.close), so that the other nodes
		// claim them at their next tick rather than after the lease TTL.
		hctx, hcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		if err := sys.ownership.Shutdown(hctx); err != nil {
			log.Error("hand instances over at shutdown", "err", err)
		}
		hcancel()
		// The HTTP server has stopped: no request counts any more, so
		// this last flush loses none.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := sys.stats.Flush(fctx); err != nil {
			log.Error("flush API call counts at shutdown", "err", err)
		}
	}()

	if err := servePprof(bgCtx, cfg.PprofAddr, log); err != nil {
		return fmt.Errorf("WAGATE_PPROF_ADDR: %w", err)
	}
	reg := sys.metrics
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	ready := []httpgin.ReadyCheck{{Name: "database", Check: sys.store}}
	if sys.redis != nil {
		ready = append(ready, httpgin.ReadyCheck{Name: "redis", Check: redisPinger{sys.redis}})
	}
	// Closed when shutdown begins, so that the event streams (hijacked
	// connections, which http.Server.Shutdown leaves alone) close first.
	streamsDone := make(chan struct{})
	var sandbox httpgin.Simulator
	if sys.sim != nil {
		sandbox = sys.sim
	}
	// The queue monitor exists only over Redis: the embedded queue has
	// no such UI.
	var queueUI http.Handler
	if sys.redis != nil {
		queueUI = asynqueue.NewMonitor(sys.redis, httpgin.QueueUIPath)
	}
	handler := httpgin.New(httpgin.Services{
		Tenancy: sys.tenancy, Keys: sys.keys, Sessions: sys.sessions, Messaging: sys.messaging, Bulks: sys.bulks,
		Idempotency: sys.idempotency,
		Webhooks:    sys.webhooks,
		Stats:       sys.stats,
		Templates:   sys.templates,
		EventLog:    sys.eventFeed,
		Governance:  sys.governance,
		Exports:     sys.exports,
		Contacts:    sys.contacts,
		Groups:      sys.groups,
	}, httpgin.Options{
		Log:            log,
		Limiter:        sys.limiter,
		AuthRatePerMin: cfg.AuthRatePerMin,
		CORSOrigins:    cfg.CORSOrigins,
		MaxBodyBytes:   cfg.MaxBodyBytes,
		MaxMediaBytes:  cfg.MaxMediaBytes,
		TLS:            cfg.TLSCertFile != "",
		Ready:          ready,
		Metrics:        reg,
		MetricsToken:   cfg.MetricsToken,
		TrustedProxies: cfg.TrustedProxies,
		Events:         sys.bus,
		Shutdown:       streamsDone,
		Sandbox:        sandbox,
		QueueUI:        queueUI,
		TracerProvider: cfg.tracer,
		// The stream guard: token rechecks and the per-user cap (per node).
		StreamRecheck:     cfg.StreamRecheck,
		MaxStreamsPerUser: cfg.StreamsPerUser,
	})
	// Once the API is up, the lease loop claims this node's share of the
	// instances that should be connected (all of them on a single node)
	// and connects them in the background: a start with many instances
	// must not delay serving.
	restore := func() {
		bg.Go(func() {
			sys.ownership.Run(bgCtx)
			sys.ownership.Wait()
		})
	}
	return serveHTTP(ctx, cfg, log, handler, restore, func() { close(streamsDone) })
}

// serveHTTP listens (port 0 picks a free port, which is logged) and serves
// until ctx ends, then stops accepting and lets requests finish. started
// runs once the listener is open; stopping runs when shutdown begins,
// before the server stops accepting.
func serveHTTP(ctx context.Context, cfg Config, log *slog.Logger, h http.Handler, started, stopping func()) error {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() {
		if cfg.TLSCertFile != "" {
			errc <- srv.ServeTLS(ln, cfg.TLSCertFile, cfg.TLSKeyFile)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	log.Info("listening", "addr", ln.Addr().String(), "tls", cfg.TLSCertFile != "")
	started()

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	stopping()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// bootstrapAdmin creates the configured first admin unless the email is
// already taken (by an earlier start, typically).
func bootstrapAdmin(ctx context.Context, t *tenancy.Service, cfg Config, log *slog.Logger) error {
	if cfg.BootstrapEmail == "" {
		return nil
	}
	u, err := t.CreateUser(ctx, tenancy.CreateUserCmd{Email: cfg.BootstrapEmail, Password: cfg.BootstrapPass, Name: "Admin", Admin: true})
	switch {
	case err == nil:
		log.Info("created the bootstrap admin", "userId", u.ID)
		return nil
	case ports.IsCode(err, ports.EConflict):
		return nil
	default:
		return fmt.Errorf("bootstrap admin: %w", err)
	}
}
