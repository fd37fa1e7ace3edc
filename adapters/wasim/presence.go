package wasim

import (
	"context"
	"fmt"
	"sync"
	"time"

	waBinary "go.mau.fi/whatsmeow/binary"
)

// Presence (WHATSAPP-SIM-FEATURES §1.7): a client announces itself
// available or unavailable with <presence type name/>, which the server
// neither answers nor acknowledges. The simulator remembers the latest
// one of each account, as the contacts would see it.

// Presence is what an account last announced.
type Presence struct {
	Available bool
	Name      string // the push name it sent along
	At        time.Time
}

// presenceBook holds the accounts' presences by phone.
type presenceBook struct {
	mu      sync.Mutex
	byPhone map[string]Presence
	changed chan struct{} // closed and replaced on every update
}

func (b *presenceBook) set(phone string, p Presence) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.byPhone == nil {
		b.byPhone = map[string]Presence{}
	}
	b.byPhone[phone] = p
	if b.changed != nil {
		close(b.changed)
	}
	b.changed = make(chan struct{})
}

// get returns phone's presence and a channel closed at the next update.
func (b *presenceBook) get(phone string) (Presence, bool, <-chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.changed == nil {
		b.changed = make(chan struct{})
	}
	p, ok := b.byPhone[phone]
	return p, ok, b.changed
}

// handlePresence records an available/unavailable announcement; other
// presence stanzas (subscriptions) are ignored.
func (c *conn) handlePresence(n *waBinary.Node) {
	if c.dev == nil {
		return
	}
	ag := n.AttrGetter()
	switch ag.OptionalString("type") {
	case "available":
		c.s.presences.set(c.dev.jid.User, Presence{Available: true, Name: ag.OptionalString("name"), At: time.Now()})
	case "unavailable":
		c.s.presences.set(c.dev.jid.User, Presence{Name: ag.OptionalString("name"), At: time.Now()})
	}
}

// Presence returns what the account of phone (digits, "+…" or a JID) last
// announced; false if it never did.
func (s *Server) Presence(phone string) (Presence, bool) {
	p, ok, _ := s.presences.get(s.phoneOfAddress(phone))
	return p, ok
}

// WaitPresence waits until the account of phone has announced itself
// available (or unavailable) and returns that presence.
func (s *Server) WaitPresence(ctx context.Context, phone string, available bool) (Presence, error) {
	phone = s.phoneOfAddress(phone)
	for {
		p, ok, changed := s.presences.get(phone)
		if ok && p.Available == available {
			return p, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return p, fmt.Errorf("wait for %s to be available=%v: %w", phone, available, ctx.Err())
		}
	}
}
