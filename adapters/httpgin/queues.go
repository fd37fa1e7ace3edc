package httpgin

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/ports"
)

// QueueUIPath is where the queue monitor (asynqmon, when Redis is on) is
// mounted; the monitor must be built with the same root path.
const QueueUIPath = "/admin/queues"

// queueUICookie carries the admin's access token for the monitor's own
// requests: a browser app cannot set an Authorization header on its
// navigations, and its XHRs are not ours to change.
const queueUICookie = "wagate_queues"

// queueUICSP is the policy of the monitor only. Its bundled index page runs
// two inline scripts and its components inline styles; it loads its fonts
// (Roboto, Material Icons) from Google. Everything else stays as strict as
// the API's: no framing, no other origins for scripts or XHRs.
const queueUICSP = "default-src 'none'; script-src 'self' 'unsafe-inline'; " +
	"style-src 'self' 'unsafe-inline' https://fonts.googleapis.com; font-src https://fonts.gstatic.com; " +
	"img-src 'self' data:; connect-src 'self'; manifest-src 'self'; " +
	"frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// queueUIRoutes mounts the monitor for platform admins. Only GET is
// routed: the monitor runs read-only and refuses changes itself, and any
// other method gets the router's 405 before it is reached.
func (a *api) queueUIRoutes(e *gin.Engine) {
	h := gin.WrapH(a.opt.QueueUI)
	g := e.Group(QueueUIPath, queueUIHeaders, a.authenticateQueueUI, a.requireAdmin)
	g.GET("", h)
	g.GET("/*path", h)
}

// queueUIHeaders relaxes the CSP for the monitor's pages. The monitor's
// JSON API leaves Content-Type unset, which net/http would sniff as
// text/plain; its errors set their own, replacing this one.
func queueUIHeaders(c *gin.Context) {
	c.Header("Content-Security-Policy", queueUICSP)
	if strings.HasPrefix(c.Request.URL.Path, QueueUIPath+"/api/") {
		c.Header("Content-Type", "application/json; charset=utf-8")
	}
	c.Next()
}

// authenticateQueueUI takes an access token from the Authorization header
// (API clients), from ?access_token= (a browser's first visit) or from the
// cookie that visit set. A token in the query is moved into the cookie and
// the browser redirected to the same URL without it, so that the token
// stays out of the address bar and history. API keys are refused: they
// never belong to an admin.
func (a *api) authenticateQueueUI(c *gin.Context) {
	token, from := queueUIToken(c)
	fromQuery := from == fromQueryParam
	if token == "" {
		abortWithError(c, a.log, ports.ReasonError(ports.EUnauthorized, "unauthorized",
			"send an admin access token as 'Authorization: Bearer <token>' or open "+QueueUIPath+"?access_token=<token>"))
		return
	}
	if strings.HasPrefix(token, apiKeyPrefix) {
		abortWithError(c, a.log, ports.ReasonError(ports.EForbidden, "forbidden",
			"the queue monitor needs an admin's access token, not an API key"))
		return
	}
	p, err := a.svc.Tenancy.AuthenticateAccess(ctx(c), token)
	if err != nil {
		if from == fromCookie {
			a.clearQueueUICookie(c)
		}
		abortWithError(c, a.log, err)
		return
	}
	p.IP = c.ClientIP()
	p.UserAgent = truncate(c.Request.UserAgent(), maxUserAgent)
	c.Set(keyPrincipal, p)
	if fromQuery {
		// Only an admin's token is worth keeping.
		if err := p.RequireAdmin(); err != nil {
			abortWithError(c, a.log, err)
			return
		}
		a.setQueueUICookie(c, token, time.Until(p.TokenExpiresAt))
		c.Redirect(http.StatusSeeOther, withoutAccessToken(c.Request.URL))
		c.Abort()
		return
	}
	c.Next()
}

// Where the monitor's token came from.
const (
	fromHeader = iota
	fromQueryParam
	fromCookie
)

// queueUIToken finds the token, in order of precedence, and tells where it
// came from.
func queueUIToken(c *gin.Context) (token string, from int) {
	if t, ok := bearerToken(c.GetHeader("Authorization")); ok {
		return t, fromHeader
	}
	if t := c.Query("access_token"); t != "" {
		return t, fromQueryParam
	}
	if t, err := c.Cookie(queueUICookie); err == nil && t != "" {
		return t, fromCookie
	}
	return "", fromHeader
}

// setQueueUICookie stores the token for the monitor's path only, for as long
// as the token lives: HttpOnly (no script reads it), SameSite=Strict (no
// other site's page sends it) and Secure when served over TLS.
func (a *api) setQueueUICookie(c *gin.Context, token string, ttl time.Duration) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: queueUICookie, Value: token, Path: QueueUIPath,
		MaxAge: max(1, int(ttl/time.Second)), HttpOnly: true,
		Secure: a.opt.TLS || c.Request.TLS != nil, SameSite: http.SameSiteStrictMode,
	})
}

// clearQueueUICookie drops a cookie whose token no longer authenticates.
func (a *api) clearQueueUICookie(c *gin.Context) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: queueUICookie, Path: QueueUIPath, MaxAge: -1, HttpOnly: true,
		Secure: a.opt.TLS || c.Request.TLS != nil, SameSite: http.SameSiteStrictMode,
	})
}

// withoutAccessToken is the request's path and query minus access_token.
func withoutAccessToken(u *url.URL) string {
	q := u.Query()
	q.Del("access_token")
	out := url.URL{Path: u.Path, RawQuery: q.Encode()}
	return out.String()
}

// requireAdmin keeps the route to platform admins.
func (a *api) requireAdmin(c *gin.Context) {
	if err := principal(c).RequireAdmin(); err != nil {
		abortWithError(c, a.log, err)
		return
	}
	c.Next()
}
