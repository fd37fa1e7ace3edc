package wasim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/wagate/wagate/ports"
)

// Controller is what sandbox mode needs from a simulator, in-process
// (*Server) or in another process (*Remote).
type Controller interface {
	ScanQR(ctx context.Context, qr, phone string) error
	EnterPairCode(ctx context.Context, phone, code string) error
	Unlink(ctx context.Context, deviceJID string) error
	ContactSendText(ctx context.Context, from, to, text string) error
	// ContactSendTextFromLID is ContactSendText in a LID-addressed chat.
	ContactSendTextFromLID(ctx context.Context, from, to, text string) error
	// ContactSendKind makes the contact `from` send a message of any kind.
	ContactSendKind(ctx context.Context, from, to string, m ports.PhoneSend) error
	// ContactVote makes the contact `from` vote on a poll it received from `to`.
	ContactVote(ctx context.Context, from, to, pollID string, selected []string) error
	// PhoneMessages is what a phone received, oldest first.
	PhoneMessages(ctx context.Context, phone string) ([]ports.PhoneMessage, error)
	// HTTPClient reaches the simulator for whatsmeow's websocket and media.
	HTTPClient() *http.Client
}

var (
	_ Controller = (*Server)(nil)
	_ Controller = (*Remote)(nil)
)

// ContactSendText makes the contact `from` send text to `to`.
func (s *Server) ContactSendText(ctx context.Context, from, to, text string) error {
	return s.Contact(from).SendText(ctx, to, text)
}

type controlRequest struct {
	QR    string `json:"qr,omitempty"`
	Phone string `json:"phone,omitempty"`
	Code  string `json:"code,omitempty"`
	JID   string `json:"jid,omitempty"`
	To    string `json:"to,omitempty"`
	Text  string `json:"text,omitempty"`
	Stop  bool   `json:"stop,omitempty"`
	LID   bool   `json:"lid,omitempty"` // send-text from the contact's LID
	// Message is what send-kind sends; PollID and Selected are a vote.
	Message  *ports.PhoneSend `json:"message,omitempty"`
	PollID   string           `json:"pollId,omitempty"`
	Selected []string         `json:"selected,omitempty"`
	Video    bool             `json:"video,omitempty"` // a call's kind
	// ID is the message whose receipt wait-receipt waits for.
	ID string `json:"id,omitempty"`
}

// maxControlBody bounds a control request: a media message carries its
// file (base64), up to the gateway's media limit and then some.
const maxControlBody = 48 << 20

// ContactSendKind is ContactSend without the id, as Remote offers it.
func (s *Server) ContactSendKind(ctx context.Context, from, to string, m ports.PhoneSend) error {
	_, err := s.ContactSend(ctx, from, to, m)
	return err
}

// ControlHandler is the JSON control API served under /_sim/ on the
// simulator's listener: POST scan {qr,phone}, pair-code {phone,code},
// unlink {jid}, drop {jid}, stop-pings {jid,stop}, replace {jid} and
// contacts/{phone}/send-text {to,text}. Errors are 400 with {"error"}.
func (s *Server) ControlHandler() http.Handler {
	mux := http.NewServeMux()
	handle := func(pattern string, fn func(*http.Request, controlRequest) error) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			var req controlRequest
			if err := json.NewDecoder(io.LimitReader(r.Body, maxControlBody)).Decode(&req); err != nil {
				writeControl(w, fmt.Errorf("decode request: %w", err))
				return
			}
			writeControl(w, fn(r, req))
		})
	}
	handle("POST /_sim/scan", func(r *http.Request, q controlRequest) error { return s.ScanQR(r.Context(), q.QR, q.Phone) })
	handle("POST /_sim/pair-code", func(r *http.Request, q controlRequest) error {
		return s.EnterPairCode(r.Context(), q.Phone, q.Code)
	})
	handle("POST /_sim/unlink", func(r *http.Request, q controlRequest) error { return s.Unlink(r.Context(), q.JID) })
	handle("POST /_sim/drop", func(_ *http.Request, q controlRequest) error { s.DropConnection(q.JID); return nil })
	handle("POST /_sim/stop-pings", func(_ *http.Request, q controlRequest) error { s.StopPings(q.JID, q.Stop); return nil })
	handle("POST /_sim/replace", func(_ *http.Request, q controlRequest) error { s.ReplaceStream(q.JID); return nil })
	handle("POST /_sim/contacts/{phone}/send-text", func(r *http.Request, q controlRequest) error {
		if q.LID {
			return s.ContactSendTextFromLID(r.Context(), r.PathValue("phone"), q.To, q.Text)
		}
		return s.ContactSendText(r.Context(), r.PathValue("phone"), q.To, q.Text)
	})
	handle("POST /_sim/contacts/{phone}/send", func(r *http.Request, q controlRequest) error {
		if q.Message == nil {
			return errors.New("no message")
		}
		return s.ContactSendKind(r.Context(), r.PathValue("phone"), q.To, *q.Message)
	})
	handle("POST /_sim/contacts/{phone}/vote", func(r *http.Request, q controlRequest) error {
		return s.ContactVote(r.Context(), r.PathValue("phone"), q.To, q.PollID, q.Selected)
	})
	handle("POST /_sim/wait-receipt", func(r *http.Request, q controlRequest) error {
		ctx, cancel := context.WithTimeout(r.Context(), receiptWaitMax)
		defer cancel()
		return s.WaitReceipt(ctx, q.ID)
	})
	handle("POST /_sim/contacts/{phone}/call", func(r *http.Request, q controlRequest) error {
		return s.ContactCall(r.Context(), r.PathValue("phone"), q.To, q.Video)
	})
	s.actionRoutes(mux)
	s.groupRoutes(mux)
	mux.HandleFunc("GET /_sim/phones/{phone}/messages", func(w http.ResponseWriter, r *http.Request) {
		msgs, _ := s.PhoneMessages(r.Context(), r.PathValue("phone"))
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(msgs)
	})
	return mux
}

func writeControl(w http.ResponseWriter, err error) {
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
		return
	}
	_, _ = w.Write([]byte(`{"ok":true}` + "\n"))
}

// Remote drives a simulator running in another process through its
// control API.
type Remote struct {
	addr string
	http *http.Client
}

// NewRemote returns a Remote for the simulator listening on addr.
func NewRemote(addr string) *Remote { return &Remote{addr: addr, http: HTTPClientFor(addr)} }

// HTTPClient reaches the remote simulator whatever the URL's host.
func (r *Remote) HTTPClient() *http.Client { return HTTPClientFor(r.addr) }

func (r *Remote) ScanQR(ctx context.Context, qr, phone string) error {
	return r.call(ctx, "/_sim/scan", controlRequest{QR: qr, Phone: phone})
}

func (r *Remote) EnterPairCode(ctx context.Context, phone, code string) error {
	return r.call(ctx, "/_sim/pair-code", controlRequest{Phone: phone, Code: code})
}

func (r *Remote) Unlink(ctx context.Context, deviceJID string) error {
	return r.call(ctx, "/_sim/unlink", controlRequest{JID: deviceJID})
}

func (r *Remote) ContactSendText(ctx context.Context, from, to, text string) error {
	return r.call(ctx, "/_sim/contacts/"+digits(from)+"/send-text", controlRequest{To: to, Text: text})
}

func (r *Remote) ContactSendTextFromLID(ctx context.Context, from, to, text string) error {
	return r.call(ctx, "/_sim/contacts/"+digits(from)+"/send-text", controlRequest{To: to, Text: text, LID: true})
}

// ContactSendKind makes the remote contact send a message of any kind.
func (r *Remote) ContactSendKind(ctx context.Context, from, to string, m ports.PhoneSend) error {
	return r.call(ctx, "/_sim/contacts/"+digits(from)+"/send", controlRequest{To: to, Message: &m})
}

// ContactVote makes the remote contact vote on a poll.
func (r *Remote) ContactVote(ctx context.Context, from, to, pollID string, selected []string) error {
	return r.call(ctx, "/_sim/contacts/"+digits(from)+"/vote", controlRequest{To: to, PollID: pollID, Selected: selected})
}

// PhoneMessages asks the simulator what a phone received.
func (r *Remote) PhoneMessages(ctx context.Context, phone string) ([]ports.PhoneMessage, error) {
	path := "/_sim/phones/" + digits(phone) + "/messages"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+r.addr+path, nil)
	if err != nil {
		return nil, fmt.Errorf("simulator %s: %w", path, err)
	}
	resp, err := r.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("simulator %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("simulator %s: status %d", path, resp.StatusCode)
	}
	var msgs []ports.PhoneMessage
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxRecordJSON)).Decode(&msgs); err != nil {
		return nil, fmt.Errorf("simulator %s: %w", path, err)
	}
	return msgs, nil
}

// maxRecordJSON bounds the answer of the phone record: recordSize
// messages of at most a few KiB each.
const maxRecordJSON = 16 << 20

// receiptWaitMax bounds one wait-receipt call.
const receiptWaitMax = 30 * time.Second

// WaitReceipt waits until a linked device has sent a receipt for the
// message id, as Server.WaitReceipt: a device acks a message only after
// its handlers returned, and closing it while the receipt is being written
// is a data race inside whatsmeow.
func (r *Remote) WaitReceipt(ctx context.Context, msgID string) error {
	return r.call(ctx, "/_sim/wait-receipt", controlRequest{ID: msgID})
}

// DropConnection, StopPings and ReplaceStream mirror the Server's faults.
func (r *Remote) DropConnection(ctx context.Context, deviceJID string) error {
	return r.call(ctx, "/_sim/drop", controlRequest{JID: deviceJID})
}

func (r *Remote) StopPings(ctx context.Context, deviceJID string, stop bool) error {
	return r.call(ctx, "/_sim/stop-pings", controlRequest{JID: deviceJID, Stop: stop})
}

func (r *Remote) ReplaceStream(ctx context.Context, deviceJID string) error {
	return r.call(ctx, "/_sim/replace", controlRequest{JID: deviceJID})
}

func (r *Remote) call(ctx context.Context, path string, body any) error {
	data, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("simulator %s: %w", path, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+r.addr+path, bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("simulator %s: %w", path, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := r.http.Do(req)
	if err != nil {
		return fmt.Errorf("simulator %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&e)
		return fmt.Errorf("simulator %s: %s (status %d)", path, e.Error, resp.StatusCode)
	}
	return nil
}

// Serve runs a standalone simulator on addr until ctx ends (the
// `wagate sim --addr` command). Its contacts acknowledge messages after
// short delays, as SPEC §15 promises sandbox users.
func Serve(ctx context.Context, addr string, log *slog.Logger) error {
	s := New(Options{Log: log, ReceiptDelay: time.Second})
	if err := s.Start(addr); err != nil {
		return err
	}
	if log != nil {
		log.Info("wasim: simulator listening", "addr", s.Addr())
	}
	<-ctx.Done()
	return s.Close()
}
