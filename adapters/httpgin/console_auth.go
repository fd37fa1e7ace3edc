package httpgin

// The console's refresh cookie. The web console keeps its access token in
// memory only (never localStorage, so an injected script finds nothing
// lasting to steal) and its refresh token in an HttpOnly cookie that no
// script can read. A request opts in with the X-Wagate-Console header: the
// token-issuing routes then set the cookie and blank refreshToken in the
// body, and refresh and logout read it from the cookie.
//
// CSRF: the cookie is SameSite=Strict and scoped to /api/v1/auth, and the
// routes only look at it when the custom X-Wagate-Console header is present.
// A cross-site form cannot set a header, and a cross-origin fetch that does
// needs a CORS preflight, which never allows this header (it is not in the
// CORS allow-list, even for configured origins). So only the console's own
// origin can spend the cookie.

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/core/tenancy"
)

const (
	// consoleHeader opts a request into the refresh cookie.
	consoleHeader = "X-Wagate-Console"
	// refreshCookie holds the console's refresh token.
	refreshCookie = "wagate_refresh"
	// refreshCookiePath scopes the cookie to the routes that spend it.
	refreshCookiePath = "/api/v1/auth"
	// refreshCookieMaxAge matches the default refresh lifetime; the token
	// itself expires on the server whatever the cookie says.
	refreshCookieMaxAge = 30 * 24 * time.Hour
	// maxRefreshCookie bounds the cookie value read back.
	maxRefreshCookie = 512
)

// consoleMode reports whether the request asked for the cookie flow.
func consoleMode(c *gin.Context) bool { return c.GetHeader(consoleHeader) != "" }

// secureCookie reports whether cookies must be marked Secure.
func (a *api) secureCookie(c *gin.Context) bool { return a.opt.TLS || c.Request.TLS != nil }

// issueTokens turns tokens into their JSON form; in console mode the
// refresh token goes into the cookie instead of the body.
func (a *api) issueTokens(c *gin.Context, tok tenancy.Tokens) TokensDTO {
	t := tokensDTO(tok)
	if consoleMode(c) {
		a.setRefreshCookie(c, t.RefreshToken, int(refreshCookieMaxAge/time.Second))
		t.RefreshToken = ""
	}
	return t
}

func (a *api) setRefreshCookie(c *gin.Context, value string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: refreshCookie, Value: value, Path: refreshCookiePath, MaxAge: maxAge,
		HttpOnly: true, Secure: a.secureCookie(c), SameSite: http.SameSiteStrictMode,
	})
}

// clearRefreshCookie removes the cookie.
func (a *api) clearRefreshCookie(c *gin.Context) { a.setRefreshCookie(c, "", -1) }

// cookieRefreshToken is the refresh token of the cookie, in console mode
// only; "" when there is none.
func cookieRefreshToken(c *gin.Context) string {
	if !consoleMode(c) {
		return ""
	}
	v, err := c.Cookie(refreshCookie)
	if err != nil || len(v) > maxRefreshCookie {
		return ""
	}
	return v
}
