package httpgin

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/skip2/go-qrcode"

	"github.com/wagate/wagate/ports"
)

// The connection routes of SPEC §4 and the contact check of §7. Progress
// of connect, disconnect and logout arrives as events, hence the 202s.

// qrImageSize is the side of the QR PNG in pixels: large enough for a
// phone camera at arm's length, small enough to inline as a data URI.
const qrImageSize = 256

// mimePNG is the media type a client asks for to get the QR image itself.
const mimePNG = "image/png"

// statusResp answers the asynchronous connection routes.
type statusResp struct {
	Status string `json:"status"`
}

// QRDTO is an instance's current QR code.
type QRDTO struct {
	QR        string    `json:"qr"`
	Image     string    `json:"image"` // data:image/png;base64,…
	Attempt   int       `json:"attempt"`
	ExpiresAt time.Time `json:"expiresAt"`
}

type pairCodeReq struct {
	PhoneNumber string `json:"phoneNumber"`
}

type pairCodeResp struct {
	Code string `json:"code"`
}

type contactsCheckReq struct {
	PhoneNumbers []string `json:"phoneNumbers"`
}

// NumberCheckDTO is the answer for one phone number; jid is null for a
// number that is not on WhatsApp.
type NumberCheckDTO struct {
	PhoneNumber string  `json:"phoneNumber"`
	Exists      bool    `json:"exists"`
	JID         *string `json:"jid"`
}

type contactsCheckResp struct {
	Results []NumberCheckDTO `json:"results"`
}

func (a *api) connectInstance(c *gin.Context) {
	if err := a.svc.Sessions.Connect(ctx(c), principal(c), instanceParam(c)); err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, statusResp{Status: string(ports.StatusConnecting)})
}

// instanceQR answers JSON with the image inlined, or with Accept: image/png
// the PNG alone, for an <img src> or a terminal that can show images.
func (a *api) instanceQR(c *gin.Context) {
	qr, err := a.svc.Sessions.QR(ctx(c), principal(c), instanceParam(c))
	if err != nil {
		a.fail(c, err)
		return
	}
	png, err := qrcode.Encode(qr.Code, qrcode.Medium, qrImageSize)
	if err != nil {
		a.fail(c, fmt.Errorf("encode qr image: %w", err))
		return
	}
	if c.NegotiateFormat(gin.MIMEJSON, mimePNG) == mimePNG {
		c.Data(http.StatusOK, mimePNG, png)
		return
	}
	c.JSON(http.StatusOK, QRDTO{
		QR:        qr.Code,
		Image:     "data:image/png;base64," + base64.StdEncoding.EncodeToString(png),
		Attempt:   qr.Attempt,
		ExpiresAt: qr.ExpiresAt.UTC(),
	})
}

func (a *api) pairCode(c *gin.Context) {
	var req pairCodeReq
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	code, err := a.svc.Sessions.PairCode(ctx(c), principal(c), instanceParam(c), req.PhoneNumber)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, pairCodeResp{Code: code})
}

func (a *api) disconnectInstance(c *gin.Context) {
	if err := a.svc.Sessions.Disconnect(ctx(c), principal(c), instanceParam(c)); err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, statusResp{Status: string(ports.StatusDisconnected)})
}

func (a *api) logoutInstance(c *gin.Context) {
	if err := a.svc.Sessions.Logout(ctx(c), principal(c), instanceParam(c)); err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, statusResp{Status: string(ports.StatusLoggedOut)})
}

// checkContacts serves both forms: the JWT route names the instance in the
// path; the API-key route names none and means the key's own instance.
// Whether the caller may act on it is the core's decision.
func (a *api) checkContacts(c *gin.Context) {
	var req contactsCheckReq
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	p := principal(c)
	id := instanceParam(c)
	if id == "" {
		if p.Kind != ports.PrincipalAPIKey {
			// A user's token names no instance: the route cannot tell which.
			a.fail(c, ports.ReasonError(ports.EForbidden, "forbidden",
				"this route needs an instance API key; with an access token use /api/v1/instances/{id}/contacts/check"))
			return
		}
		id = p.InstanceID
	}
	res, err := a.svc.Sessions.CheckContacts(ctx(c), p, id, req.PhoneNumbers)
	if err != nil {
		a.fail(c, err)
		return
	}
	out := contactsCheckResp{Results: make([]NumberCheckDTO, 0, len(res))}
	for _, r := range res {
		out.Results = append(out.Results, NumberCheckDTO{PhoneNumber: r.PhoneNumber, Exists: r.Exists, JID: optString(r.JID)})
	}
	c.JSON(http.StatusOK, out)
}

// instanceParam is the :id of an instance route ("" on routes without one).
func instanceParam(c *gin.Context) ports.InstanceID { return ports.InstanceID(c.Param("id")) }
