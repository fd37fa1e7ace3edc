package wasim

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/wagate/wagate/ports"
)

// The contacts' actions toward an instance, in-process and over the
// control API of a `wagate sim` process.

// ContactActor is the part of a Controller that makes a contact react to,
// edit or revoke a message of its chat with an instance.
type ContactActor interface {
	ContactReact(ctx context.Context, from string, k ports.WAMessageKey, emoji string) error
	ContactEdit(ctx context.Context, from string, k ports.WAMessageKey, text string) error
	ContactRevoke(ctx context.Context, from string, k ports.WAMessageKey) error
}

var (
	_ ContactActor = (*Server)(nil)
	_ ContactActor = (*Remote)(nil)
)

// ContactReact makes the contact `from` react to a message.
func (s *Server) ContactReact(ctx context.Context, from string, k ports.WAMessageKey, emoji string) error {
	_, err := s.Contact(from).React(ctx, k, emoji)
	return err
}

// ContactEdit makes the contact `from` edit a message it sent.
func (s *Server) ContactEdit(ctx context.Context, from string, k ports.WAMessageKey, text string) error {
	_, err := s.Contact(from).Edit(ctx, k, text)
	return err
}

// ContactRevoke makes the contact `from` delete a message it sent.
func (s *Server) ContactRevoke(ctx context.Context, from string, k ports.WAMessageKey) error {
	_, err := s.Contact(from).Revoke(ctx, k)
	return err
}

// actionRequest is the control API's body of an action.
type actionRequest struct {
	Peer   string `json:"peer"`
	ID     string `json:"id"`
	FromMe bool   `json:"fromMe"`
	Kind   string `json:"kind"` // react, edit or revoke
	Emoji  string `json:"emoji,omitempty"`
	Text   string `json:"text,omitempty"`
}

// actionRoutes serves POST /_sim/contacts/{phone}/act {peer,id,fromMe,kind,emoji,text}.
func (s *Server) actionRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /_sim/contacts/{phone}/act", func(w http.ResponseWriter, r *http.Request) {
		var q actionRequest
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&q); err != nil {
			writeControl(w, fmt.Errorf("decode request: %w", err))
			return
		}
		from, k := r.PathValue("phone"), ports.WAMessageKey{Chat: q.Peer, ID: q.ID, FromMe: q.FromMe}
		var err error
		switch q.Kind {
		case "react":
			err = s.ContactReact(r.Context(), from, k, q.Emoji)
		case "edit":
			err = s.ContactEdit(r.Context(), from, k, q.Text)
		case "revoke":
			err = s.ContactRevoke(r.Context(), from, k)
		default:
			err = fmt.Errorf("unknown action %q", q.Kind)
		}
		writeControl(w, err)
	})
}

// ContactReact asks the simulator to make `from` react.
func (r *Remote) ContactReact(ctx context.Context, from string, k ports.WAMessageKey, emoji string) error {
	return r.act(ctx, from, actionRequest{Peer: k.Chat, ID: k.ID, FromMe: k.FromMe, Kind: "react", Emoji: emoji})
}

// ContactEdit asks the simulator to make `from` edit.
func (r *Remote) ContactEdit(ctx context.Context, from string, k ports.WAMessageKey, text string) error {
	return r.act(ctx, from, actionRequest{Peer: k.Chat, ID: k.ID, FromMe: k.FromMe, Kind: "edit", Text: text})
}

// ContactRevoke asks the simulator to make `from` revoke.
func (r *Remote) ContactRevoke(ctx context.Context, from string, k ports.WAMessageKey) error {
	return r.act(ctx, from, actionRequest{Peer: k.Chat, ID: k.ID, FromMe: k.FromMe, Kind: "revoke"})
}

func (r *Remote) act(ctx context.Context, from string, q actionRequest) error {
	return r.call(ctx, "/_sim/contacts/"+digits(from)+"/act", q)
}
