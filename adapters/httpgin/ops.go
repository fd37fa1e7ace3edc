package httpgin

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/wagate/wagate/ports"
)

// readyTimeout bounds each readiness check: a load balancer polling
// /readyz must get an answer even when a dependency hangs.
const readyTimeout = 2 * time.Second

func (a *api) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyz runs the checks in parallel. Failures are logged; the response
// names the failing check but never its error, which may describe the
// infrastructure.
func (a *api) readyz(c *gin.Context) {
	results := make(map[string]string, len(a.opt.Ready))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, rc := range a.opt.Ready {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx(c), readyTimeout)
			defer cancel()
			state := "ok"
			if err := rc.Check.Ping(cctx); err != nil {
				state = "error"
				a.log.LogAttrs(ctx(c), slog.LevelWarn, "readiness check failed",
					slog.String("check", rc.Name), slog.String("error", err.Error()))
			}
			mu.Lock()
			results[rc.Name] = state
			mu.Unlock()
		})
	}
	wg.Wait()
	status, code := "ok", http.StatusOK
	for _, s := range results {
		if s != "ok" {
			status, code = "unavailable", http.StatusServiceUnavailable
		}
	}
	c.JSON(code, gin.H{"status": status, "checks": results})
}

// metricsAuth asks for the operator's token on /metrics when one is set:
// the metrics describe the whole system (every tenant's sessions and queue
// depths), not something for whoever reaches the port. SHA-256 digests are
// compared in constant time, so the answer's timing tells nothing about the
// token, not even its length.
func (a *api) metricsAuth(c *gin.Context) {
	if a.opt.MetricsToken == "" {
		c.Next()
		return
	}
	token, ok := bearerToken(c.GetHeader("Authorization"))
	got, want := sha256.Sum256([]byte(token)), sha256.Sum256([]byte(a.opt.MetricsToken))
	if !ok || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
		abortWithError(c, a.log, ports.ReasonError(ports.EUnauthorized, "unauthorized",
			"send the metrics token as 'Authorization: Bearer <token>'"))
		return
	}
	c.Next()
}

func (a *api) metricsHandler() http.Handler {
	return promhttp.HandlerFor(a.opt.Metrics, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelError)})
}

//go:embed openapi.json
var openAPIDoc []byte

func (a *api) openAPI(c *gin.Context) {
	c.Data(http.StatusOK, "application/json", openAPIDoc)
}

//go:embed docs.html
var docsPage []byte

// docsNonce is the placeholder in docs.html that each response replaces
// with a fresh nonce, so that the page's own inline script and style run
// under a CSP that allows nothing else.
var docsNonce = []byte("{{NONCE}}")

func (a *api) docs(c *gin.Context) {
	b := make([]byte, 18)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	nonce := base64.StdEncoding.EncodeToString(b)
	c.Header("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+nonce+"'; style-src 'nonce-"+nonce+"'; "+
		"connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	c.Data(http.StatusOK, "text/html; charset=utf-8", bytes.ReplaceAll(docsPage, docsNonce, []byte(nonce)))
}
