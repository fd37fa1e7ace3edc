package wasim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/util/keys"
)

// Options configure a simulator.
type Options struct {
	// Log receives protocol-level diagnostics; nil discards them.
	Log *slog.Logger
	// ReceiptDelay is how long a scripted contact waits before acknowledging
	// a message as delivered (and twice that before reading it). Zero means
	// contacts never acknowledge on their own; tests call SendReceipt.
	ReceiptDelay time.Duration
	// PushName is the name scripted contacts announce (default "Sim <phone>").
	PushName string
}

// Server is a simulated WhatsApp network: the noise websocket, media hosts,
// simulated phones and contacts, and a control API, on one listener.
type Server struct {
	opt    Options
	log    *slog.Logger
	static *keys.KeyPair
	cert   []byte

	ln   net.Listener
	http *http.Server

	mu        sync.Mutex
	accounts  map[string]*account    // by phone digits
	devices   map[types.JID]*device  // linked (companion) devices by AD-JID
	pending   map[[32]byte]*conn     // connections waiting for a QR scan, by noise key
	codes     map[string]*pairCode   // pair-code registrations by phone
	conns     map[*conn]struct{}     // every live connection
	media     map[string]mediaObject // uploaded media by path
	nextLID   uint64
	closed    bool
	done      chan struct{} // closed by Close: stops the contacts' workers
	contacts  *contactStore
	receipts  receiptLog  // receipts seen, for WaitReceipt
	profiles  profileBook // about texts and block lists (profiles.go)
	calls     callLog     // calls placed and their ends (calls.go)
	groups    groupBook
	presences presenceBook // what each account last announced (presence.go)
	appState  appStateBook // the accounts' app-state patches (appstate.go)
}

// New creates a simulator; Start makes it listen.
func New(opt Options) *Server {
	log := opt.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{
		opt: opt, log: log, static: keys.NewKeyPair(),
		accounts: map[string]*account{}, devices: map[types.JID]*device{},
		pending: map[[32]byte]*conn{}, codes: map[string]*pairCode{},
		conns: map[*conn]struct{}{}, media: map[string]mediaObject{},
		nextLID: 100000000000000, contacts: &contactStore{}, done: make(chan struct{}),
	}
}

// Start listens on addr (e.g. "127.0.0.1:0") and serves in the background.
func (s *Server) Start(addr string) error {
	cert, err := certChain(s.static)
	if err != nil {
		return fmt.Errorf("start simulator: %w", err)
	}
	s.cert = cert
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("start simulator: %w", err)
	}
	s.ln = ln
	s.http = &http.Server{Handler: s.handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("wasim: serve", "err", err)
		}
	}()
	return nil
}

func (s *Server) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/ws/chat", s.serveWS)
	mux.HandleFunc("POST /mms/", s.serveUpload)
	mux.Handle("/_sim/", s.ControlHandler())
	mux.HandleFunc("GET /v/", s.serveDownload)
	return mux
}

// Addr is the host:port the simulator listens on (after Start).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the listener, drops every connection and frees the contacts'
// Signal stores.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.closeNow()
	}
	var err error
	if s.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		err = s.http.Shutdown(ctx)
	}
	if cerr := s.contacts.close(); err == nil {
		err = cerr
	}
	return err
}

// HTTPClient returns a client whose every dial reaches this simulator,
// whatever host the URL names. Give it to whatsmeow's SetWebsocketHTTPClient,
// SetPreLoginHTTPClient and SetMediaHTTPClient (after any proxy setting).
func (s *Server) HTTPClient() *http.Client { return HTTPClientFor(s.Addr()) }

// HTTPClientFor is HTTPClient for a simulator at addr, possibly in another
// process. TLS is skipped: net/http only speaks TLS over a *tls.Conn, and
// the dial below returns plain TCP for https URLs too.
func HTTPClientFor(addr string) *http.Client {
	dial := func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", addr)
	}
	return &http.Client{Transport: &http.Transport{
		DialContext: dial, DialTLSContext: dial,
		MaxIdleConnsPerHost: 4, IdleConnTimeout: 30 * time.Second,
	}}
}
