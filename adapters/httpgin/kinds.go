package httpgin

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/core/messaging"
	"github.com/wagate/wagate/ports"
)

// The contact and poll routes of SPEC §6a, and the poll's tallies.

// ContactDTO is one shared contact.
type ContactDTO struct {
	Name         string            `json:"name"`
	Phones       []ContactPhoneDTO `json:"phones"`
	Email        string            `json:"email,omitempty"`
	Organization string            `json:"organization,omitempty"`
}

// ContactPhoneDTO is one number of a shared contact.
type ContactPhoneDTO struct {
	Number string `json:"number"`
	Type   string `json:"type,omitempty"`
}

// PollDTO is the poll of a poll message (the tallies have their route).
type PollDTO struct {
	Question        string   `json:"question"`
	Options         []string `json:"options"`
	MultipleAnswers bool     `json:"multipleAnswers"`
}

// PollVoteDTO is the data of message.poll_vote.
type PollVoteDTO struct {
	MessageID string   `json:"messageId"`
	From      string   `json:"from"`
	Selected  []string `json:"selected"`
}

// PollTallyDTO is one option of GET /messages/{id}/poll.
type PollTallyDTO struct {
	Name   string   `json:"name"`
	Votes  int      `json:"votes"`
	Voters []string `json:"voters"`
}

type sendContactReq struct {
	To       string       `json:"to"`
	Contacts []ContactDTO `json:"contacts"`
	replyReq
}

type sendPollReq struct {
	To              string   `json:"to"`
	Question        string   `json:"question"`
	Options         []string `json:"options"`
	MultipleAnswers bool     `json:"multipleAnswers"`
	replyReq
}

func contactDTOs(cards []ports.ContactCard) []ContactDTO {
	if len(cards) == 0 {
		return nil
	}
	out := make([]ContactDTO, len(cards))
	for i, c := range cards {
		out[i] = ContactDTO{Name: c.Name, Email: c.Email, Organization: c.Organization, Phones: []ContactPhoneDTO{}}
		for _, p := range c.Phones {
			out[i].Phones = append(out[i].Phones, ContactPhoneDTO(p))
		}
	}
	return out
}

func contactCards(in []ContactDTO) []ports.ContactCard {
	out := make([]ports.ContactCard, len(in))
	for i, c := range in {
		out[i] = ports.ContactCard{Name: c.Name, Email: c.Email, Organization: c.Organization}
		for _, p := range c.Phones {
			out[i].Phones = append(out[i].Phones, ports.ContactPhone(p))
		}
	}
	return out
}

func pollDTO(p *ports.Poll) *PollDTO {
	if p == nil {
		return nil
	}
	return &PollDTO{Question: p.Question, Options: p.Options, MultipleAnswers: p.MultipleAnswers}
}

// sendJSON runs a JSON send: decode the body into a T, find the
// instance, and answer 202 with what send accepted (or its error).
func sendJSON[T any](a *api, c *gin.Context, send func(inst ports.InstanceID, req T, claim *ports.IdempotencyClaim[ports.Message]) (ports.Message, error)) {
	var req T
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	inst, err := messageInstance(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	m, err := send(inst, req, idempotencyClaim(c, acceptedAnswer))
	a.accepted(c, m, err)
}

func (a *api) sendContact(c *gin.Context) {
	sendJSON(a, c, func(inst ports.InstanceID, req sendContactReq, claim *ports.IdempotencyClaim[ports.Message]) (ports.Message, error) {
		return a.svc.Messaging.SendContact(ctx(c), principal(c), inst, messaging.SendContactCmd{
			To: req.To, Contacts: contactCards(req.Contacts), Reply: req.reply(), Idempotency: claim,
		})
	})
}

func (a *api) sendPoll(c *gin.Context) {
	sendJSON(a, c, func(inst ports.InstanceID, req sendPollReq, claim *ports.IdempotencyClaim[ports.Message]) (ports.Message, error) {
		return a.svc.Messaging.SendPoll(ctx(c), principal(c), inst, messaging.SendPollCmd{
			To: req.To, Question: req.Question, Options: req.Options, MultipleAnswers: req.MultipleAnswers, Reply: req.reply(), Idempotency: claim,
		})
	})
}

func (a *api) getPoll(c *gin.Context) {
	inst, err := messageInstance(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	tallies, err := a.svc.Messaging.PollTallies(ctx(c), principal(c), inst, ports.MessageID(c.Param("messageId")))
	if err != nil {
		a.fail(c, err)
		return
	}
	out := struct {
		Options []PollTallyDTO `json:"options"`
	}{Options: make([]PollTallyDTO, len(tallies))}
	for i, t := range tallies {
		out.Options[i] = PollTallyDTO{Name: t.Name, Votes: len(t.Voters), Voters: t.Voters}
	}
	c.JSON(http.StatusOK, out)
}
