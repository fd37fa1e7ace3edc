package wasim

import (
	"context"
	"fmt"

	waBinary "go.mau.fi/whatsmeow/binary"
)

// liveConn returns the current connection of a linked device, if any.
func (s *Server) liveConn(deviceJID string) *conn {
	d, err := s.deviceByJID(deviceJID)
	if err != nil {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.conn
}

// DropConnection closes the device's TCP connection without a goodbye, as a
// network failure would; whatsmeow reconnects on its own when
// EnableAutoReconnect is set.
func (s *Server) DropConnection(deviceJID string) {
	if c := s.liveConn(deviceJID); c != nil {
		c.closeNow()
	}
}

// StopPings makes the server ignore (stop=true) or answer again the
// device's w:p keepalive pings, across reconnects.
func (s *Server) StopPings(deviceJID string, stop bool) {
	d, err := s.deviceByJID(deviceJID)
	if err != nil {
		return
	}
	d.mu.Lock()
	d.noPing = stop
	d.mu.Unlock()
}

// ReplaceStream tells the device another connection took over
// (<conflict type="replaced"/>): whatsmeow emits StreamReplaced and does not
// reconnect.
func (s *Server) ReplaceStream(deviceJID string) {
	if c := s.liveConn(deviceJID); c != nil {
		c.streamError(waBinary.Attrs{}, waBinary.Node{Tag: "conflict", Attrs: waBinary.Attrs{"type": "replaced"}})
	}
}

// Unlink removes the device on the phone: a connected client gets
// device_removed (LoggedOut), an offline one a 401 at its next login.
func (s *Server) Unlink(_ context.Context, deviceJID string) error {
	d, err := s.deviceByJID(deviceJID)
	if err != nil {
		return fmt.Errorf("unlink: %w", err)
	}
	s.mu.Lock()
	delete(s.devices, d.jid)
	if a := s.accounts[d.jid.User]; a != nil {
		delete(a.devices, d.jid.Device)
	}
	s.mu.Unlock()
	d.mu.Lock()
	c := d.conn
	d.conn, d.queue, d.unacked = nil, nil, unacked{}
	d.mu.Unlock()
	if c != nil {
		c.streamError(waBinary.Attrs{"code": "401"}, waBinary.Node{Tag: "conflict", Attrs: waBinary.Attrs{"type": "device_removed"}})
	}
	return nil
}

// Barrier sends the device an empty offline marker. whatsmeow handles
// stanzas in order and emits events.OfflineSyncCompleted{Count: 0} for it,
// so a caller that waits for that event knows the client has finished with
// everything delivered before (tests use it before Disconnect).
func (s *Server) Barrier(deviceJID string) error {
	d, err := s.deviceByJID(deviceJID)
	if err != nil {
		return fmt.Errorf("barrier: %w", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn == nil {
		return fmt.Errorf("barrier: %s is offline", d.jid)
	}
	return d.conn.send(waBinary.Node{Tag: "ib", Content: []waBinary.Node{{Tag: "offline", Attrs: waBinary.Attrs{"count": "0"}}}})
}
