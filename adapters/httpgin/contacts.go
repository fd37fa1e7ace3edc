package httpgin

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/core/contacts"
	"github.com/wagate/wagate/ports"
)

// The chat, contact and profile routes of SPEC §16, in both forms: with an
// API key (/api/v1/chats…) and with a user's token
// (/api/v1/instances/{id}/chats…).

// ChatDTO is one chat of GET /chats.
type ChatDTO struct {
	Chat          string    `json:"chat"`
	Name          string    `json:"name"`
	IsGroup       bool      `json:"isGroup"`
	LastMessageAt time.Time `json:"lastMessageAt"`
	UnreadCount   int       `json:"unreadCount"`
}

func chatDTO(c ports.Chat) ChatDTO {
	return ChatDTO{Chat: c.Chat, Name: c.Name, IsGroup: c.IsGroup, LastMessageAt: c.LastMessageAt.UTC(), UnreadCount: c.UnreadCount}
}

// contactInstance is the instance of a contacts route: the path's, or the
// API key's own on the short form.
func contactInstance(c *gin.Context) (ports.InstanceID, error) {
	if id := c.Param("id"); id != "" {
		if !isUUID(id) {
			return "", ports.Errorf(ports.ENotFound, "no such resource")
		}
		return ports.InstanceID(id), nil
	}
	p := principal(c)
	if p.Kind != ports.PrincipalAPIKey {
		return "", ports.ReasonError(ports.EForbidden, "forbidden",
			"this route needs an instance API key; with an access token use /api/v1/instances/{id}/…")
	}
	return p.InstanceID, nil
}

// contactsService is the contacts module, or EUnavailable when the server
// runs without it.
func (a *api) contactsService() (*contacts.Service, error) {
	if a.svc.Contacts == nil {
		return nil, ports.Errorf(ports.EUnavailable, "contacts are not available")
	}
	return a.svc.Contacts, nil
}

func (a *api) listChats(c *gin.Context) {
	pr, err := pageRequest(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	inst, err := contactInstance(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	svc, err := a.contactsService()
	if err != nil {
		a.fail(c, err)
		return
	}
	page, err := svc.ListChats(ctx(c), principal(c), inst, pr)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, list(page, chatDTO))
}

// contactRoutes registers the routes of both forms on r; byPhone, whose
// routes carry a phone number that is no UUID, checks ids itself.
func (a *api) contactRoutes(r, byPhone *gin.RouterGroup) {
	for _, prefix := range []string{"", "/instances/:id"} {
		r.GET(prefix+"/chats", a.listChats)
		_ = byPhone
	}
}
