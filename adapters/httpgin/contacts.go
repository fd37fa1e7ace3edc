package httpgin

import (
	"encoding/base64"
	"net/http"
	"strings"
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

// CallReceivedDTO is the data of call.received.
type CallReceivedDTO struct {
	From     string `json:"from"`
	IsVideo  bool   `json:"isVideo"`
	IsGroup  bool   `json:"isGroup"`
	Rejected bool   `json:"rejected"`
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

// BookContactDTO is one entry of the address book.
type BookContactDTO struct {
	PhoneNumber string `json:"phoneNumber"`
	JID         string `json:"jid"`
	Name        string `json:"name"`
	PushName    string `json:"pushName"`
	IsBusiness  bool   `json:"isBusiness"`
}

func bookContactDTO(c ports.WAContact) BookContactDTO {
	return BookContactDTO{PhoneNumber: "+" + c.PhoneNumber, JID: c.JID, Name: c.Name, PushName: c.PushName, IsBusiness: c.IsBusiness}
}

// ProfileDTO is what WhatsApp tells about a number.
type ProfileDTO struct {
	PhoneNumber string  `json:"phoneNumber"`
	Exists      bool    `json:"exists"`
	JID         *string `json:"jid"`
	PushName    string  `json:"pushName"`
	About       string  `json:"about"`
	PictureURL  *string `json:"pictureUrl"`
}

// BlockedDTO is the block list.
type BlockedDTO struct {
	Data []BlockedEntryDTO `json:"data"`
}

// BlockedEntryDTO is one blocked account.
type BlockedEntryDTO struct {
	PhoneNumber string `json:"phoneNumber"`
	JID         string `json:"jid"`
}

func blockedDTO(jids []string) BlockedDTO {
	out := BlockedDTO{Data: make([]BlockedEntryDTO, 0, len(jids))}
	for _, j := range jids {
		user, _, _ := strings.Cut(j, "@")
		out.Data = append(out.Data, BlockedEntryDTO{PhoneNumber: "+" + user, JID: j})
	}
	return out
}

type profileReq struct {
	PushName *string `json:"pushName"`
	About    *string `json:"about"`
}

type pictureReq struct {
	Base64   string `json:"base64"`
	MimeType string `json:"mimeType"`
}

// contactCall runs one call of the contacts module on the route's instance.
func (a *api) contactCall(c *gin.Context, call func(svc *contacts.Service, inst ports.InstanceID) (any, error)) {
	inst, err := contactInstance(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	if len(c.Param("phone")) > 32 {
		a.fail(c, ports.InvalidFields(ports.FieldError{Field: "phone", Message: "must be a phone number in international form"}))
		return
	}
	svc, err := a.contactsService()
	if err != nil {
		a.fail(c, err)
		return
	}
	out, err := call(svc, inst)
	if err != nil {
		a.fail(c, err)
		return
	}
	if out == nil {
		c.Status(http.StatusNoContent)
		return
	}
	c.JSON(http.StatusOK, out)
}

func (a *api) listContacts(c *gin.Context) {
	pr, err := pageRequest(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	a.contactCall(c, func(svc *contacts.Service, inst ports.InstanceID) (any, error) {
		page, err := svc.ListContacts(ctx(c), principal(c), inst, pr)
		if err != nil {
			return nil, err
		}
		return list(page, bookContactDTO), nil
	})
}

func (a *api) contactProfile(c *gin.Context) {
	a.contactCall(c, func(svc *contacts.Service, inst ports.InstanceID) (any, error) {
		p, err := svc.ContactProfile(ctx(c), principal(c), inst, c.Param("phone"))
		if err != nil {
			return nil, err
		}
		return ProfileDTO{PhoneNumber: "+" + p.PhoneNumber, Exists: p.Exists, JID: optString(p.JID),
			PushName: p.PushName, About: p.About, PictureURL: optString(p.PictureURL)}, nil
	})
}

func (a *api) blockedContacts(c *gin.Context) {
	a.contactCall(c, func(svc *contacts.Service, inst ports.InstanceID) (any, error) {
		l, err := svc.Blocked(ctx(c), principal(c), inst)
		if err != nil {
			return nil, err
		}
		return blockedDTO(l), nil
	})
}

func (a *api) setBlocked(blocked bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		a.contactCall(c, func(svc *contacts.Service, inst ports.InstanceID) (any, error) {
			l, err := svc.SetBlocked(ctx(c), principal(c), inst, c.Param("phone"), blocked)
			if err != nil {
				return nil, err
			}
			return blockedDTO(l), nil
		})
	}
}

func (a *api) updateProfile(c *gin.Context) {
	var req profileReq
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	a.contactCall(c, func(svc *contacts.Service, inst ports.InstanceID) (any, error) {
		return nil, svc.UpdateProfile(ctx(c), principal(c), inst, contacts.ProfileCmd{PushName: req.PushName, About: req.About})
	})
}

func (a *api) setProfilePicture(c *gin.Context) {
	var req pictureReq
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	img, err := base64.StdEncoding.DecodeString(req.Base64)
	if err != nil || len(img) == 0 {
		a.fail(c, ports.InvalidFields(ports.FieldError{Field: "base64", Message: "must be the image in standard base64"}))
		return
	}
	if req.MimeType != "image/jpeg" {
		a.fail(c, ports.InvalidFields(ports.FieldError{Field: "mimeType", Message: "must be image/jpeg"}))
		return
	}
	a.contactCall(c, func(svc *contacts.Service, inst ports.InstanceID) (any, error) {
		return nil, svc.SetPicture(ctx(c), principal(c), inst, img)
	})
}

// contactRoutes registers the routes of both forms on r; byPhone, whose
// routes carry a phone number that is no UUID, checks ids itself.
func (a *api) contactRoutes(r, byPhone *gin.RouterGroup) {
	for _, prefix := range []string{"", "/instances/:id"} {
		r.GET(prefix+"/chats", a.listChats)
		r.GET(prefix+"/contacts", a.listContacts)
		r.GET(prefix+"/contacts/blocked", a.blockedContacts)
		byPhone.GET(prefix+"/contacts/:phone/profile", a.contactProfile)
		byPhone.POST(prefix+"/contacts/:phone/block", a.setBlocked(true))
		byPhone.POST(prefix+"/contacts/:phone/unblock", a.setBlocked(false))
	}
	// The instance's own profile: /instance/… with an API key (like GET
	// /instance), /instances/{id}/profile… with a user's token.
	r.PATCH("/instance/profile", a.updateProfile)
	r.PUT("/instance/profile/picture", a.setProfilePicture)
	r.PATCH("/instances/:id/profile", a.updateProfile)
	r.PUT("/instances/:id/profile/picture", a.setProfilePicture)
}
