package wasim

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	waBinary "go.mau.fi/whatsmeow/binary"
	"go.mau.fi/whatsmeow/types"
)

// hangUpWait bounds how long the server waits, after a stream:error, for the
// client to hang up before it closes the connection itself. whatsmeow answers
// a 515 (restart required) by disconnecting, and wagate disconnects on
// "replaced" and "device_removed"; had the server closed first, the client's
// read pump would see the close while its own Disconnect runs — a data race
// inside whatsmeow (FrameSocket.closed) that -race reports on a loaded
// machine. Letting the client close first keeps it on its orderly path (and
// its handler queue sees the error, not a plain disconnect). The same holds
// for a <failure> at login, on which wagate disconnects too.
const hangUpWait = 5 * time.Second

// conn is one client websocket after (or during) the noise handshake.
type conn struct {
	s      *Server
	fc     *frameConn
	ctx    context.Context
	cancel context.CancelFunc
	noise  [32]byte // client static key, its identity on the network

	reg  *registration // set on a connection that registers a new device
	dev  *device       // set once logged in
	pair atomic.Pointer[pairing]

	closeOnce sync.Once
}

func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		s.log.Debug("wasim: websocket accept", "err", err)
		return
	}
	ws.SetReadLimit(1 << 25)
	ctx, cancel := context.WithCancel(context.Background())
	c := &conn{s: s, fc: &frameConn{ws: ws}, ctx: ctx, cancel: cancel}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		c.closeNow()
		return
	}
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	defer s.forget(c)
	if err := c.serve(); ctx.Err() == nil {
		s.log.Debug("wasim: connection ended", "err", err)
	}
}

// forget detaches a finished connection from the network state.
func (s *Server) forget(c *conn) {
	c.closeNow()
	s.mu.Lock()
	delete(s.conns, c)
	if s.pending[c.noise] == c {
		delete(s.pending, c.noise)
	}
	for phone, pc := range s.codes {
		if pc.c == c {
			delete(s.codes, phone)
		}
	}
	s.mu.Unlock()
	if d := c.dev; d != nil {
		d.mu.Lock()
		if d.conn == c {
			d.conn = nil
		}
		d.mu.Unlock()
	}
}

func (c *conn) serve() error {
	payload, err := c.handshake()
	if err != nil {
		return err
	}
	if payload.Username != nil {
		c.login(payload.GetUsername(), payload.GetDevice())
	} else if err := c.register(payload.GetDevicePairingData()); err != nil {
		return err
	}
	for {
		data, err := c.fc.readEncrypted(c.ctx)
		if err != nil {
			return err
		}
		raw, err := waBinary.Unpack(data)
		if err != nil {
			return fmt.Errorf("unpack node: %w", err)
		}
		node, err := waBinary.Unmarshal(raw)
		if err != nil {
			return fmt.Errorf("decode node: %w", err)
		}
		c.handle(node)
	}
}

func (c *conn) handle(n *waBinary.Node) {
	switch n.Tag {
	case "iq":
		c.handleIQ(n)
	case "message":
		c.handleMessage(n)
	case "receipt":
		c.handleReceipt(n)
	case "ack":
		c.handleAck(n)
	case "call":
		c.handleCall(n)
	case "presence":
		c.handlePresence(n)
	}
	// chatstate, notification: the client waits for nothing.
}

// send writes one node to the client.
func (c *conn) send(n waBinary.Node) error {
	data, err := waBinary.Marshal(n)
	if err != nil {
		return fmt.Errorf("marshal %s: %w", n.Tag, err)
	}
	if err := c.fc.writeEncrypted(c.ctx, data); err != nil {
		return fmt.Errorf("send %s: %w", n.Tag, err)
	}
	return nil
}

func (c *conn) closeNow() {
	c.closeOnce.Do(func() {
		c.cancel()
		_ = c.fc.ws.CloseNow()
	})
}

// streamError sends a stream:error and closes the connection once the client
// has hung up, or after hangUpWait.
func (c *conn) streamError(attrs waBinary.Attrs, children ...waBinary.Node) {
	n := waBinary.Node{Tag: "stream:error", Attrs: attrs}
	if len(children) > 0 {
		n.Content = children
	}
	_ = c.send(n)
	time.AfterFunc(hangUpWait, c.closeNow)
}

// login answers a login payload: <success> for a known device and noise key,
// then the messages an earlier connection read but never acknowledged and
// the stanzas queued while it was offline, then the offline marker.
func (c *conn) login(user uint64, devID uint32) {
	jid := types.JID{User: strconv.FormatUint(user, 10), Device: uint16(devID), Server: types.DefaultUserServer}
	c.s.mu.Lock()
	d := c.s.devices[jid]
	c.s.mu.Unlock()
	if d == nil || d.noise != c.noise {
		// 401 makes whatsmeow emit LoggedOut{OnConnect:true} and delete its store.
		_ = c.send(waBinary.Node{Tag: "failure", Attrs: waBinary.Attrs{"reason": "401", "location": "sim"}})
		time.AfterFunc(hangUpWait, c.closeNow)
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if old := d.conn; old != nil && old != c {
		old.closeNow()
	}
	d.conn, c.dev = c, d
	_ = c.send(waBinary.Node{Tag: "success", Attrs: waBinary.Attrs{
		"t": strconv.FormatInt(time.Now().Unix(), 10), "lid": d.lid, "location": "sim", "props": "1",
	}})
	queued := append(d.unacked.take(), d.queue...)
	d.queue = nil
	for _, n := range queued {
		_ = c.send(n)
		d.unacked.add(n) // sent or not, it stays until acknowledged
	}
	_ = c.send(waBinary.Node{Tag: "ib", Content: []waBinary.Node{{
		Tag: "offline", Attrs: waBinary.Attrs{"count": strconv.Itoa(len(queued))},
	}}})
}
