package httpgin

// The role every route needs (SPEC §17), in one table next to the routes.

import (
	"log/slog"

	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/ports"
)

// need is what a route asks of its caller.
type need string

const (
	// open routes authenticate no member: health, docs, metrics (its own
	// token), sign-up, login, refresh and accepting an invitation.
	open need = "public"
	// platform routes are for platform admins; the core (or the queue
	// monitor's own guard) checks that, whatever the member role.
	platform  need = "platform"
	viewer    need = need(ports.MemberViewer)
	developer need = need(ports.MemberDeveloper)
	admin     need = need(ports.MemberAdmin)
	owner     need = need(ports.MemberOwner)
)

// routeRoles is the role each route needs, keyed "METHOD /route/:param" as
// gin names routes. One line per route: a new route gets its line here, or
// members reaching it get 403 insufficient_role (authenticate fails
// closed), and TestRoleTableCoversRouter names the missing line. The core
// modules keep their own finer rules (API key scopes, the owner rules of
// the members module, platform admins).
var routeRoles = map[string]need{
	"GET /healthz":       open,
	"GET /readyz":        open,
	"GET /metrics":       open,
	"GET /openapi.json":  open,
	"GET /docs":          open,
	"GET /":              open, // the console's page: it signs in through the API
	"GET /console/*file": open, // its scripts and styles

	"POST /api/v1/auth/register":          open,
	"POST /api/v1/auth/login":             open,
	"POST /api/v1/auth/refresh":           open,
	"POST /api/v1/auth/accept-invitation": open,
	"POST /api/v1/auth/logout":            viewer,
	"POST /api/v1/auth/password":          viewer,
	"GET /api/v1/me":                      viewer,

	"GET /api/v1/members":                    viewer,
	"PATCH /api/v1/members/:userId":          admin, // owner rules: core/tenancy
	"DELETE /api/v1/members/:userId":         admin,
	"POST /api/v1/members/invitations":       admin,
	"GET /api/v1/members/invitations":        admin,
	"DELETE /api/v1/members/invitations/:id": admin,

	"POST /api/v1/instances":                    developer,
	"GET /api/v1/instances":                     viewer,
	"GET /api/v1/instances/:id":                 viewer,
	"PATCH /api/v1/instances/:id":               developer,
	"DELETE /api/v1/instances/:id":              admin,
	"GET /api/v1/instance":                      viewer,
	"POST /api/v1/instances/:id/connect":        developer,
	"GET /api/v1/instances/:id/qr":              developer, // links a phone: no viewer
	"POST /api/v1/instances/:id/pair-code":      developer,
	"POST /api/v1/instances/:id/disconnect":     developer,
	"POST /api/v1/instances/:id/logout":         developer,
	"GET /api/v1/instances/:id/stats":           viewer,
	"POST /api/v1/instances/:id/contacts/check": developer,
	"POST /api/v1/contacts/check":               developer,

	"POST /api/v1/instances/:id/api-keys":          developer,
	"GET /api/v1/instances/:id/api-keys":           developer,
	"DELETE /api/v1/instances/:id/api-keys/:keyId": developer,

	"POST /api/v1/messages/text":                              developer,
	"POST /api/v1/messages/location":                          developer,
	"POST /api/v1/messages/image":                             developer,
	"POST /api/v1/messages/document":                          developer,
	"POST /api/v1/messages/audio":                             developer,
	"POST /api/v1/messages/video":                             developer,
	"POST /api/v1/messages/sticker":                           developer,
	"POST /api/v1/messages/contact":                           developer,
	"POST /api/v1/messages/poll":                              developer,
	"GET /api/v1/messages":                                    viewer,
	"GET /api/v1/messages/:messageId":                         viewer,
	"GET /api/v1/messages/:messageId/poll":                    viewer,
	"GET /api/v1/messages/:messageId/media":                   developer, // files: beyond metadata and text
	"PATCH /api/v1/messages/:messageId":                       developer,
	"DELETE /api/v1/messages/:messageId":                      developer,
	"POST /api/v1/messages/:messageId/forward":                developer,
	"POST /api/v1/messages/:messageId/reaction":               developer,
	"POST /api/v1/messages/:messageId/read":                   developer,
	"POST /api/v1/chats/:chat/presence":                       developer,
	"POST /api/v1/instances/:id/messages/text":                developer,
	"POST /api/v1/instances/:id/messages/location":            developer,
	"POST /api/v1/instances/:id/messages/image":               developer,
	"POST /api/v1/instances/:id/messages/document":            developer,
	"POST /api/v1/instances/:id/messages/audio":               developer,
	"POST /api/v1/instances/:id/messages/video":               developer,
	"POST /api/v1/instances/:id/messages/sticker":             developer,
	"POST /api/v1/instances/:id/messages/contact":             developer,
	"POST /api/v1/instances/:id/messages/poll":                developer,
	"GET /api/v1/instances/:id/messages":                      viewer,
	"GET /api/v1/instances/:id/messages/:messageId":           viewer,
	"GET /api/v1/instances/:id/messages/:messageId/poll":      viewer,
	"GET /api/v1/instances/:id/messages/:messageId/media":     developer,
	"PATCH /api/v1/instances/:id/messages/:messageId":         developer,
	"DELETE /api/v1/instances/:id/messages/:messageId":        developer,
	"POST /api/v1/instances/:id/messages/:messageId/forward":  developer,
	"POST /api/v1/instances/:id/messages/:messageId/reaction": developer,
	"POST /api/v1/instances/:id/messages/:messageId/read":     developer,
	"POST /api/v1/instances/:id/chats/:chat/presence":         developer,

	"GET /api/v1/chats":                                  viewer,
	"GET /api/v1/instances/:id/chats":                    viewer,
	"GET /api/v1/contacts":                               viewer,
	"GET /api/v1/instances/:id/contacts":                 viewer,
	"GET /api/v1/contacts/:phone/profile":                viewer,
	"GET /api/v1/instances/:id/contacts/:phone/profile":  viewer,
	"GET /api/v1/contacts/blocked":                       viewer,
	"GET /api/v1/instances/:id/contacts/blocked":         viewer,
	"POST /api/v1/contacts/:phone/block":                 developer,
	"POST /api/v1/contacts/:phone/unblock":               developer,
	"POST /api/v1/instances/:id/contacts/:phone/block":   developer,
	"POST /api/v1/instances/:id/contacts/:phone/unblock": developer,
	"PATCH /api/v1/instance/profile":                     developer,
	"PATCH /api/v1/instances/:id/profile":                developer,
	"PUT /api/v1/instance/profile/picture":               developer,
	"PUT /api/v1/instances/:id/profile/picture":          developer,

	"POST /api/v1/groups":                                         developer,
	"GET /api/v1/groups":                                          viewer,
	"GET /api/v1/groups/:group":                                   viewer,
	"PATCH /api/v1/groups/:group":                                 developer,
	"PUT /api/v1/groups/:group/picture":                           developer,
	"DELETE /api/v1/groups/:group/picture":                        developer,
	"POST /api/v1/groups/:group/participants":                     developer,
	"GET /api/v1/groups/:group/invite-link":                       developer, // the link lets anyone join: no viewer
	"POST /api/v1/groups/:group/invite-link/revoke":               developer,
	"POST /api/v1/groups/join":                                    developer,
	"POST /api/v1/groups/:group/leave":                            developer,
	"POST /api/v1/instances/:id/groups":                           developer,
	"GET /api/v1/instances/:id/groups":                            viewer,
	"GET /api/v1/instances/:id/groups/:group":                     viewer,
	"PATCH /api/v1/instances/:id/groups/:group":                   developer,
	"PUT /api/v1/instances/:id/groups/:group/picture":             developer,
	"DELETE /api/v1/instances/:id/groups/:group/picture":          developer,
	"POST /api/v1/instances/:id/groups/:group/participants":       developer,
	"GET /api/v1/instances/:id/groups/:group/invite-link":         developer, // the link lets anyone join: no viewer
	"POST /api/v1/instances/:id/groups/:group/invite-link/revoke": developer,
	"POST /api/v1/instances/:id/groups/join":                      developer,
	"POST /api/v1/instances/:id/groups/:group/leave":              developer,

	"POST /api/v1/instances/:id/webhooks":                            developer,
	"GET /api/v1/instances/:id/webhooks":                             developer,
	"GET /api/v1/instances/:id/webhooks/:wid":                        developer,
	"PATCH /api/v1/instances/:id/webhooks/:wid":                      developer,
	"DELETE /api/v1/instances/:id/webhooks/:wid":                     developer,
	"POST /api/v1/instances/:id/webhooks/:wid/rotate-secret":         developer,
	"POST /api/v1/instances/:id/webhooks/:wid/test":                  developer,
	"GET /api/v1/instances/:id/webhooks/:wid/deliveries":             viewer,
	"POST /api/v1/instances/:id/webhooks/:wid/deliveries/:did/retry": developer,

	"GET /api/v1/admin/subscriptions":       platform,
	"PATCH /api/v1/admin/subscriptions/:id": platform,
	"GET /admin/queues":                     platform,
	"GET /admin/queues/*path":               platform,
	"GET /api/v1/audit-logs":                admin,

	"POST /api/v1/privacy/erase":  admin,
	"GET /api/v1/subscription":    viewer,
	"PATCH /api/v1/subscription":  admin, // retention
	"DELETE /api/v1/subscription": owner, // closes the account

	"POST /api/v1/exports":             admin, // the whole subscription's data
	"GET /api/v1/exports":              admin,
	"GET /api/v1/exports/:id":          admin,
	"GET /api/v1/exports/:id/download": admin,

	"POST /api/v1/templates":            developer,
	"GET /api/v1/templates":             developer,
	"GET /api/v1/templates/:id":         developer,
	"PATCH /api/v1/templates/:id":       developer,
	"DELETE /api/v1/templates/:id":      developer,
	"POST /api/v1/templates/:id/render": developer,

	"POST /api/v1/bulk":               developer,
	"POST /api/v1/instances/:id/bulk": developer,
	"GET /api/v1/bulk/:id":            developer,
	"POST /api/v1/bulk/:id/pause":     developer,
	"POST /api/v1/bulk/:id/resume":    developer,
	"POST /api/v1/bulk/:id/cancel":    developer,
	"GET /api/v1/bulk/:id/messages":   developer,

	"GET /api/v1/events":    viewer,
	"GET /api/v1/events/ws": viewer,
	"GET /api/v1/stats":     viewer,

	"POST /api/v1/sandbox/instances/:id/scan":        developer,
	"POST /api/v1/sandbox/instances/:id/inbound":     developer,
	"POST /api/v1/sandbox/instances/:id/vote":        developer,
	"POST /api/v1/sandbox/instances/:id/edit":        developer,
	"POST /api/v1/sandbox/instances/:id/react":       developer,
	"POST /api/v1/sandbox/instances/:id/revoke":      developer,
	"GET /api/v1/sandbox/phones/:phone/messages":     developer,
	"POST /api/v1/sandbox/instances/:id/call":        developer,
	"POST /api/v1/sandbox/instances/:id/group-event": developer,
}

// routeKey is the key of the request's route in routeRoles.
func routeKey(c *gin.Context) string { return c.Request.Method + " " + c.FullPath() }

// checkRole lets a member through when their role is at least the one
// routeRoles gives the route. API keys pass (they are scoped to their
// instance instead). A route missing from the table is refused, and the
// omission logged: forgetting a line must not open a route to everyone.
func (a *api) checkRole(c *gin.Context, p ports.Principal) error {
	if p.Kind != ports.PrincipalUser {
		return nil
	}
	n, ok := routeRoles[routeKey(c)]
	if !ok {
		a.log.ErrorContext(ctx(c), "route has no role in routeRoles; refused", slog.String("route", routeKey(c)))
		return ports.InsufficientRole(ports.MemberOwner)
	}
	switch n {
	case open, platform:
		return nil
	}
	return p.RequireMemberRole(ports.MemberRole(n))
}

// RouteRoles returns a copy of the route table: "METHOD /route" → the
// role it needs (owner, admin, developer, viewer), "public" or
// "platform". The end-to-end role matrix walks it.
func RouteRoles() map[string]string {
	out := make(map[string]string, len(routeRoles))
	for k, v := range routeRoles {
		out[k] = string(v)
	}
	return out
}
