package wasim

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"go.mau.fi/whatsmeow/types"

	"github.com/wagate/wagate/ports"
)

// The phones' group actions (SPEC §15a group-event, inbound with group),
// in-process and over the control API of a `wagate sim` process.

// GroupPlayer is the part of a Controller that makes a phone act in a
// group: send to it, or change it.
type GroupPlayer interface {
	// ContactSendGroup makes the phone `from` send a message of any kind
	// to a group it is in.
	ContactSendGroup(ctx context.Context, from, group string, m ports.PhoneSend) error
	// ContactGroupEvent makes the phone `from` change a group: add,
	// remove, promote or demote participants, leave, or set the subject
	// or description to value.
	ContactGroupEvent(ctx context.Context, from, group, action string, participants []string, value string) error
}

var (
	_ GroupPlayer = (*Server)(nil)
	_ GroupPlayer = (*Remote)(nil)
)

func parseGroup(group string) (types.JID, error) {
	jid, err := types.ParseJID(group)
	if err != nil || jid.Server != types.GroupServer || jid.User == "" {
		return jid, fmt.Errorf("%q is not a group JID", group)
	}
	return jid, nil
}

// ContactSendGroup makes the phone send to the group.
func (s *Server) ContactSendGroup(ctx context.Context, from, group string, m ports.PhoneSend) error {
	jid, err := parseGroup(group)
	if err != nil {
		return err
	}
	c := s.Contact(from)
	msg, err := c.build(m)
	if err != nil {
		return err
	}
	_, err = c.SendGroup(ctx, jid, msg)
	return err
}

// ContactGroupEvent makes the phone change the group.
func (s *Server) ContactGroupEvent(_ context.Context, from, group, action string, participants []string, value string) error {
	jid, err := parseGroup(group)
	if err != nil {
		return err
	}
	switch action {
	case "add", "remove", "promote", "demote":
		err = s.GroupParticipants(from, jid, action, participants)
	case "leave":
		err = s.GroupLeave(from, jid)
	case "subject", "description":
		err = s.GroupSet(from, jid, action, value)
	default:
		err = fmt.Errorf("unknown group action %q", action)
	}
	if err != nil {
		return fmt.Errorf("%s in %s: %w", action, group, err)
	}
	return nil
}

// groupRequest is the control API's body of a group action.
type groupControl struct {
	Group        string           `json:"group"`
	Action       string           `json:"action,omitempty"` // empty: send Message
	Participants []string         `json:"participants,omitempty"`
	Value        string           `json:"value,omitempty"`
	Message      *ports.PhoneSend `json:"message,omitempty"`
}

// groupRoutes serves POST /_sim/contacts/{phone}/group.
func (s *Server) groupRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /_sim/contacts/{phone}/group", func(w http.ResponseWriter, r *http.Request) {
		var q groupControl
		if err := json.NewDecoder(io.LimitReader(r.Body, maxControlBody)).Decode(&q); err != nil {
			writeControl(w, fmt.Errorf("decode request: %w", err))
			return
		}
		from := r.PathValue("phone")
		if q.Message != nil {
			writeControl(w, s.ContactSendGroup(r.Context(), from, q.Group, *q.Message))
			return
		}
		writeControl(w, s.ContactGroupEvent(r.Context(), from, q.Group, q.Action, q.Participants, q.Value))
	})
}

// ContactSendGroup asks the simulator to make `from` send to a group.
func (r *Remote) ContactSendGroup(ctx context.Context, from, group string, m ports.PhoneSend) error {
	return r.call(ctx, "/_sim/contacts/"+digits(from)+"/group", groupControl{Group: group, Message: &m})
}

// ContactGroupEvent asks the simulator to make `from` change a group.
func (r *Remote) ContactGroupEvent(ctx context.Context, from, group, action string, participants []string, value string) error {
	return r.call(ctx, "/_sim/contacts/"+digits(from)+"/group", groupControl{Group: group, Action: action, Participants: participants, Value: value})
}
