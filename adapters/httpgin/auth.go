package httpgin

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/wagate/wagate/core/tenancy"
	"github.com/wagate/wagate/ports"
)

// apiKeyPrefix tells an API key from a JWT; JWTs start with "ey".
const apiKeyPrefix = "wag_"

// maxUserAgent bounds what the audit log keeps of a User-Agent.
const maxUserAgent = 256

// authenticate is the one Bearer middleware: API keys go to the keys module,
// anything else is treated as an access token.
func (a *api) authenticate(c *gin.Context) {
	token, ok := bearerToken(c.GetHeader("Authorization"))
	if !ok {
		abortWithError(c, a.log, ports.ReasonError(ports.EUnauthorized, "unauthorized",
			"send an access token or API key as 'Authorization: Bearer <token>'"))
		return
	}
	var p ports.Principal
	var err error
	if strings.HasPrefix(token, apiKeyPrefix) {
		p, err = a.svc.Keys.Authenticate(c.Request.Context(), token)
	} else {
		p, err = a.svc.Tenancy.AuthenticateAccess(c.Request.Context(), token)
	}
	if err != nil {
		abortWithError(c, a.log, err)
		return
	}
	p.IP = c.ClientIP()
	p.UserAgent = truncate(c.Request.UserAgent(), maxUserAgent)
	c.Set(keyPrincipal, p)
	if err := a.checkRole(c, p); err != nil {
		abortWithError(c, a.log, err)
		return
	}
	c.Next()
}

// bearerToken parses "Bearer <token>"; the scheme is case-insensitive
// (RFC 9110), the token one word.
func bearerToken(h string) (string, bool) {
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	if token == "" || strings.ContainsAny(token, " \t") {
		return "", false
	}
	return token, true
}

func truncate(s string, n int) string {
	if len(s) > n {
		s = strings.ToValidUTF8(s[:n], "")
	}
	// Headers may carry any byte but NUL; the audit log must hold them on
	// every database, so a short value is cleaned too.
	return ports.CleanText(s)
}

// principalOf returns the caller that authenticate stored.
func principalOf(c *gin.Context) (ports.Principal, bool) {
	v, ok := c.Get(keyPrincipal)
	if !ok {
		return ports.Principal{}, false
	}
	p, ok := v.(ports.Principal)
	return p, ok
}

// principal is principalOf for handlers behind authenticate.
func principal(c *gin.Context) ports.Principal {
	p, _ := principalOf(c)
	return p
}

// client is where the request came from, for unauthenticated core calls.
func client(c *gin.Context) tenancy.Client {
	return tenancy.Client{IP: c.ClientIP(), UserAgent: truncate(c.Request.UserAgent(), maxUserAgent)}
}

// requireUser keeps API keys off routes that act on the caller's own login
// (logout, password change); the rule itself is the principal's.
func (a *api) requireUser(c *gin.Context) {
	if err := principal(c).RequireUser(); err != nil {
		abortWithError(c, a.log, err)
		return
	}
	c.Next()
}

// apiRate counts the request against the caller's subscription.
func (a *api) apiRate(c *gin.Context) {
	r, err := a.svc.Tenancy.CheckAPIRate(c.Request.Context(), principal(c))
	a.finishRate(c, r, err)
}

// authIPRate limits the unauthenticated auth routes per client IP, so that
// password guessing and sign-up floods are slowed before any hashing.
func (a *api) authIPRate(c *gin.Context) {
	lim := ports.Limit{Count: a.opt.AuthRatePerMin, Period: time.Minute}
	r, err := a.opt.Limiter.Take(c.Request.Context(), "auth-ip:"+c.ClientIP(), lim)
	if err == nil && r.Reached {
		err = &ports.Error{Code: ports.ERateLimited, Message: "too many requests from this address; retry later",
			RetryAfter: time.Until(r.Reset)}
	}
	a.finishRate(c, r, err)
}

// finishRate sets the rate-limit headers and stops the request when the
// limit was hit or the limiter failed.
func (a *api) finishRate(c *gin.Context, r ports.RateResult, err error) {
	setRateHeaders(c, r)
	if err != nil {
		if pe := ports.AsError(err); pe != nil && pe.Code == ports.ERateLimited && pe.RetryAfter <= 0 {
			pe.RetryAfter = time.Until(r.Reset)
		}
		abortWithError(c, a.log, err)
		return
	}
	c.Next()
}

// setRateHeaders reports the counter closest to its limit when a request
// passes several (the auth routes that also need a token), as the IETF
// RateLimit header draft recommends.
func setRateHeaders(c *gin.Context, r ports.RateResult) {
	if r.Limit <= 0 {
		return
	}
	if prev, ok := c.Get(keyRate); ok && prev.(ports.RateResult).Remaining < r.Remaining {
		return
	}
	c.Set(keyRate, r)
	limit, remaining := strconv.Itoa(r.Limit), strconv.Itoa(r.Remaining)
	reset := strconv.Itoa(max(0, ceilSeconds(time.Until(r.Reset))))
	h := c.Writer.Header()
	for _, prefix := range []string{"", "X-"} {
		h.Set(prefix+"RateLimit-Limit", limit)
		h.Set(prefix+"RateLimit-Remaining", remaining)
		h.Set(prefix+"RateLimit-Reset", reset)
	}
}

// checkIDs answers 404 for any path id that is not a canonical UUID, without
// asking the core: such an id names nothing, and a store must never see it.
func (a *api) checkIDs(c *gin.Context) {
	for _, p := range c.Params {
		if !isUUID(p.Value) {
			abortWithError(c, a.log, ports.Errorf(ports.ENotFound, "no such resource"))
			return
		}
	}
	c.Next()
}

// isUUID accepts the canonical 36-character form only.
func isUUID(s string) bool {
	return len(s) == 36 && uuid.Validate(s) == nil
}

// ctx is the request's context, for core calls.
func ctx(c *gin.Context) context.Context { return c.Request.Context() }
