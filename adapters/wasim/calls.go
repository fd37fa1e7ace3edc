package wasim

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	waBinary "go.mau.fi/whatsmeow/binary"
	"go.mau.fi/whatsmeow/types"
)

// Calls (WHATSAPP-SIM-FEATURES §4): a phone rings an account with a call
// offer as WhatsApp sends it; a linked device that rejects it sends
// <call><reject/></call>, which the server relays to the caller, who
// records it.

// CallRecord is one call a phone placed, as the caller saw it end.
type CallRecord struct {
	ID       string
	From, To string // phone digits
	IsVideo  bool
	Rejected bool   // the callee rejected it
	By       string // the device JID that rejected it
	At       time.Time
}

// callLog keeps the calls placed, by call id.
type callLog struct {
	mu    sync.Mutex
	calls map[string]*CallRecord
	ended chan struct{} // closed and replaced on every change
}

func (l *callLog) changed() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ended == nil {
		l.ended = make(chan struct{})
	}
	return l.ended
}

func (l *callLog) put(r CallRecord) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.calls == nil {
		l.calls = map[string]*CallRecord{}
	}
	l.calls[r.ID] = &r
	l.notifyLocked()
}

func (l *callLog) notifyLocked() {
	if l.ended != nil {
		close(l.ended)
	}
	l.ended = make(chan struct{})
}

func (l *callLog) reject(id, by string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.calls[id]
	if r == nil {
		return false
	}
	r.Rejected, r.By = true, by
	l.notifyLocked()
	return true
}

func (l *callLog) get(id string) (CallRecord, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.calls[id]
	if r == nil {
		return CallRecord{}, false
	}
	return *r, true
}

// Call makes the contact ring `to` (a phone, JID or LID): every linked
// device of it gets the offer. It returns the call's id.
func (c *Contact) Call(_ context.Context, to string, isVideo bool) (string, error) {
	phone := c.s.phoneOfAddress(to)
	devs := c.s.linkedDevices(phone)
	if len(devs) == 0 {
		return "", fmt.Errorf("call %s: no linked device", phone)
	}
	callID := fmt.Sprintf("%X", newID())
	if len(callID) > 32 {
		callID = callID[:32]
	}
	media := waBinary.Node{Tag: "audio", Attrs: waBinary.Attrs{"enc": "opus", "rate": "16000"}}
	if isVideo {
		media = waBinary.Node{Tag: "video", Attrs: waBinary.Attrs{"enc": "vp8", "dec": "vp8", "orientation": "0"}}
	}
	c.s.calls.put(CallRecord{ID: callID, From: c.phone, To: phone, IsVideo: isVideo, At: time.Now()})
	if c.s.profiles.isBlocked(phone, c.phone) {
		return callID, nil // a blocked caller never rings
	}
	for _, d := range devs {
		d.deliver(waBinary.Node{Tag: "call", Attrs: waBinary.Attrs{
			"from": c.jid, "id": newID(), "t": strconv.FormatInt(time.Now().Unix(), 10),
			"platform": "android", "version": "2.24.21.79", "notify": c.pushName(),
		}, Content: []waBinary.Node{{Tag: "offer", Attrs: waBinary.Attrs{
			"call-id": callID, "call-creator": c.jid, "caller_pn": c.jid,
		}, Content: []waBinary.Node{media, {Tag: "net", Attrs: waBinary.Attrs{"medium": "3"}}}}}})
	}
	return callID, nil
}

// WaitCallRejected waits until the call with that id was rejected, and
// returns it as the caller saw it.
func (s *Server) WaitCallRejected(ctx context.Context, callID string) (CallRecord, error) {
	for {
		ch := s.calls.changed()
		if r, ok := s.calls.get(callID); ok && r.Rejected {
			return r, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			r, _ := s.calls.get(callID)
			return r, fmt.Errorf("call %s not rejected: %w", callID, ctx.Err())
		}
	}
}

// CallOf returns the record of a call.
func (s *Server) CallOf(callID string) (CallRecord, bool) { return s.calls.get(callID) }

// handleCall takes a call stanza from a linked device: a reject ends the
// call at the caller's end (its phone shows "declined").
func (c *conn) handleCall(n *waBinary.Node) {
	rej, ok := n.GetOptionalChildByTag("reject")
	if !ok || c.dev == nil {
		return
	}
	callID := rej.AttrGetter().OptionalString("call-id")
	creator, _ := rej.Attrs["call-creator"].(types.JID)
	if c.s.calls.reject(callID, c.dev.jid.String()) {
		c.s.log.Debug("call rejected", "call", callID, "caller", creator.String(), "by", c.dev.jid.String())
	}
	_ = c.send(waBinary.Node{Tag: "ack", Attrs: waBinary.Attrs{
		"id": n.AttrGetter().OptionalString("id"), "class": "call", "from": types.ServerJID,
	}})
}

// ContactCall makes the contact `from` call `to`.
func (s *Server) ContactCall(ctx context.Context, from, to string, isVideo bool) error {
	_, err := s.Contact(from).Call(ctx, to, isVideo)
	return err
}

// ContactCall asks the simulator to make the contact `from` call `to`.
func (r *Remote) ContactCall(ctx context.Context, from, to string, isVideo bool) error {
	return r.call(ctx, "/_sim/contacts/"+digits(from)+"/call", controlRequest{To: to, Video: isVideo})
}
