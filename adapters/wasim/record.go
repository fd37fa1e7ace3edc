package wasim

import (
	"bytes"
	"context"
	"image/jpeg"
	"sync"

	"go.mau.fi/whatsmeow/types"

	"github.com/wagate/wagate/ports"
)

// recordSize bounds what a phone's record keeps: the latest messages,
// enough for a sandbox user or a test to look at, without growing forever
// on a long-running `wagate sim`.
const recordSize = 500

// phoneLog is what a contact's phone received, oldest first, without the
// media bytes (only their type and size).
type phoneLog struct {
	mu    sync.Mutex
	items []ports.PhoneMessage
}

func (l *phoneLog) add(m ports.PhoneMessage) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.items) >= recordSize {
		l.items = append(l.items[:0:0], l.items[1:]...)
	}
	l.items = append(l.items, m)
}

func (l *phoneLog) list() []ports.PhoneMessage {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]ports.PhoneMessage(nil), l.items...)
}

// record is the phone's view of a received message.
func (r *Received) record() ports.PhoneMessage {
	m := ports.PhoneMessage{WAMessageID: r.ID, From: nonAD(r.From), Chat: r.Chat, Type: ports.MessageType(r.Type),
		Text: r.Text, Caption: r.Caption, ReceivedAt: r.Timestamp}
	if r.Media != nil || r.MimeType != "" {
		m.Media = &ports.PhoneMedia{MimeType: r.MimeType, Size: int64(len(r.Media)), FileName: r.FileName, PTT: r.PTT}
	}
	m.Contacts, m.Poll = r.Contacts, r.Poll
	if m.Media != nil {
		m.Media.GIF, m.Media.Animated, m.Media.Seconds, m.Media.Waveform = r.GIF, r.Animated, r.Seconds, r.Waveform
		m.Media.Width, m.Media.Height, m.Media.Thumbnail = r.Width, r.Height, thumbnailOf(r.Thumbnail)
	}
	if r.Location != nil {
		m.Location = &ports.WALocation{Latitude: r.Location.Latitude, Longitude: r.Location.Longitude,
			Name: r.Location.Name, Address: r.Location.Address}
	}
	return r.withContext(m)
}

// PhoneMessages returns what the phone (digits, "+…" or a JID) received,
// oldest first; nothing for a phone that never received a message.
func (s *Server) PhoneMessages(_ context.Context, phone string) ([]ports.PhoneMessage, error) {
	var c *Contact
	s.mu.Lock()
	if a := s.accounts[digits(phone)]; a != nil {
		c = a.contact
	}
	s.mu.Unlock()
	if c == nil {
		return nil, nil
	}
	return c.log.list(), nil
}

// nonAD drops the device from a JID string ("1555:3@s.whatsapp.net" →
// "1555@s.whatsapp.net"); anything unparsable is kept as is.
func nonAD(jid string) string {
	if j, err := types.ParseJID(jid); err == nil {
		return j.ToNonAD().String()
	}
	return jid
}

// thumbnailOf decodes a received thumbnail the way a phone shows it; nil
// when there is none, a zero size when it is not a JPEG.
func thumbnailOf(b []byte) *ports.PhoneThumbnail {
	if len(b) == 0 {
		return nil
	}
	t := &ports.PhoneThumbnail{Size: len(b)}
	if cfg, err := jpeg.DecodeConfig(bytes.NewReader(b)); err == nil {
		t.Width, t.Height = cfg.Width, cfg.Height
	}
	return t
}
