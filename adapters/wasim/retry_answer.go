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

// A linked device that cannot decrypt a contact's message asks the
// contact's phone for it again with <receipt type=retry> (whatsmeow's
// sendRetryReceipt), and a real phone answers: it starts a new Signal
// session with that device and sends the message again under the same
// id. Without the answer, a session the device lost stays broken and
// every later message of the contact to it is lost; whatsmeow can lose
// one (a send writes its cached copy of the sessions back after the send,
// over what a decrypt of the same contact stored meanwhile).

// sentKept bounds the contact's messages kept for retries.
const sentKept = 2000

// sentLog keeps the direct messages a contact sent lately, by id.
type sentLog struct {
	mu    sync.Mutex
	byID  map[string]sentMsg
	order []string
}

// sentMsg is what it takes to send a message again.
type sentMsg struct {
	plaintext []byte
	typ, edit string
	byLID     bool
}

func (l *sentLog) add(id string, m sentMsg) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byID == nil {
		l.byID = map[string]sentMsg{}
	}
	if _, ok := l.byID[id]; !ok {
		l.order = append(l.order, id)
	}
	l.byID[id] = m
	for len(l.order) > sentKept {
		delete(l.byID, l.order[0])
		l.order = l.order[1:]
	}
}

func (l *sentLog) get(id string) (sentMsg, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	m, ok := l.byID[id]
	return m, ok
}

// existingContact returns the contact of phone, or nil if there is none
// (Contact would make one).
func (s *Server) existingContact(phone string) *Contact {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.accounts[phone]; a != nil {
		return a.contact
	}
	return nil
}

// answerRetry sends message id again to device d, which asked for it,
// from a new session. A message the contact did not send (or no longer
// keeps) is left alone.
func (c *Contact) answerRetry(ctx context.Context, d *device, id string) error {
	m, ok := c.sent.get(id)
	if !ok {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	dev, err := c.signalDevice()
	if err != nil {
		return err
	}
	if err := dev.Sessions.DeleteSession(ctx, d.jid.SignalAddress().String()); err != nil {
		return fmt.Errorf("retry %s: drop the session with %s: %w", id, d.jid, err)
	}
	ct, encType, err := c.encryptFor(ctx, d, m.plaintext)
	if err != nil {
		return fmt.Errorf("retry %s: %w", id, err)
	}
	attrs := waBinary.Attrs{"id": id, "t": strconv.FormatInt(time.Now().Unix(), 10), "type": m.typ, "notify": c.pushName()}
	c.s.addressAs(attrs, c.jid, m.byLID)
	if m.edit != "" {
		attrs["edit"] = m.edit
	}
	d.deliver(waBinary.Node{Tag: "message", Attrs: attrs,
		Content: []waBinary.Node{{Tag: "enc", Attrs: waBinary.Attrs{"v": "2", "type": encType}, Content: ct}}})
	return nil
}

// retryAsked hands a device's retry receipt for a contact's message to
// that contact; to is the contact's phone-number JID.
func (c *conn) retryAsked(to types.JID, ids []string) {
	ct := c.s.existingContact(to.User)
	if ct == nil || c.dev == nil {
		return
	}
	d := c.dev
	go func() {
		for _, id := range ids {
			if err := ct.answerRetry(context.Background(), d, id); err != nil {
				c.s.log.Warn("wasim: answer a retry receipt", "contact", ct.phone, "err", err)
			}
		}
	}()
}

// ForgetSession drops the phone's Signal session with a linked device
// (its JID), as a phone does that lost its state: it can decrypt the
// device's next message only after asking for it again (a retry receipt
// with its keys).
func (c *Contact) ForgetSession(ctx context.Context, device string) error {
	jid, err := types.ParseJID(device)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	dev, err := c.signalDevice()
	if err != nil {
		return err
	}
	return dev.Sessions.DeleteSession(ctx, c.s.pnOf(jid).SignalAddress().String())
}
