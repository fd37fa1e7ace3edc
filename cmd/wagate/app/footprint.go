package app

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// releaseAfterStart waits for the start to settle (the lease loop's
// first pass, the first periodic passes), then hands the executable's
// start-only pages back to the kernel (footprint_linux.go). A zero after
// leaves them.
func releaseAfterStart(ctx context.Context, after time.Duration, log *slog.Logger) {
	if after <= 0 {
		return
	}
	t := time.NewTimer(after)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return
	case <-t.C:
	}
	n, err := releaseStartupPages()
	if err != nil {
		log.Warn("release start-up pages", "err", err)
		return
	}
	log.Debug("released start-up pages", "mapped_mib", n>>20)
}

// servePprof serves net/http/pprof on addr until ctx ends: heap and CPU
// profiles of a running node (WAGATE_PPROF_ADDR, off by default). It has
// no authentication, so it belongs on a loopback or private address.
func servePprof(ctx context.Context, addr string, log *slog.Logger) error {
	if addr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("pprof server", "err", err)
		}
	}()
	log.Info("pprof listening", "addr", ln.Addr().String())
	return nil
}
