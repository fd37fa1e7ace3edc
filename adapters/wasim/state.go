package wasim

import (
	"fmt"
	"strconv"
	"strings"
	"sync"

	waBinary "go.mau.fi/whatsmeow/binary"
	"go.mau.fi/whatsmeow/types"
)

// account is one phone number on the network: its primary phone (device 0,
// played by a scripted Contact whose identity key signs linked devices) and
// its linked companion devices (whatsmeow clients, devices 1…N).
type account struct {
	phone   string
	lid     types.JID
	next    uint16
	devices map[uint16]*device
	contact *Contact
}

// device is a linked companion device as the server knows it.
type device struct {
	jid, lid types.JID
	noise    [32]byte
	regID    uint32
	identity [32]byte
	skey     signedPreKey
	noPing   bool // guarded by mu: fault injection, see StopPings

	mu      sync.Mutex
	conn    *conn           // nil while offline
	queue   []waBinary.Node // stanzas waiting for the next login
	unacked unacked         // messages written but not acknowledged
	prekeys []preKey
}

type preKey struct {
	id  uint32
	pub [32]byte
}

type signedPreKey struct {
	preKey
	sig [64]byte
}

// exists reports whether a phone number is on the network: all are, except
// those starting with 999 (the sandbox's documented missing numbers).
func exists(phone string) bool { return phone != "" && !strings.HasPrefix(phone, "999") }

// digits normalises "+1 555-0100", "15550100" or "15550100@s.whatsapp.net"
// (with or without device) to the bare number.
func digits(s string) string {
	if jid, err := types.ParseJID(s); err == nil && jid.Server != "" && strings.Contains(s, "@") {
		return jid.User
	}
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// accountLocked returns (creating) the account of a phone; s.mu must be held.
func (s *Server) accountLocked(phone string) *account {
	a := s.accounts[phone]
	if a == nil {
		s.nextLID++
		a = &account{phone: phone, next: 1, devices: map[uint16]*device{},
			lid: types.NewJID(strconv.FormatUint(s.nextLID, 10), types.HiddenUserServer)}
		s.accounts[phone] = a
	}
	return a
}

// deviceByJID finds a linked device from its JID string.
func (s *Server) deviceByJID(jid string) (*device, error) {
	parsed, err := types.ParseJID(jid)
	if err != nil {
		return nil, fmt.Errorf("parse device jid %q: %w", jid, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.devices[parsed]
	if d == nil {
		return nil, fmt.Errorf("device %s is not linked", parsed)
	}
	return d, nil
}

// linkedDevices lists the companion devices of a phone.
func (s *Server) linkedDevices(phone string) []*device {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[phone]
	if a == nil {
		return nil
	}
	out := make([]*device, 0, len(a.devices))
	for _, d := range a.devices {
		out = append(out, d)
	}
	return out
}

// deliver sends a stanza to a device now, or queues it until its next
// login; a message sent is kept until the device acknowledges it.
func (d *device) deliver(n waBinary.Node) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn != nil && d.conn.send(n) == nil {
		d.unacked.add(n)
		return
	}
	d.queue = append(d.queue, n)
}
