package whatsapp

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	wa "go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/appstate"
	"go.mau.fi/whatsmeow/proto/waSyncAction"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"

	"github.com/wagate/wagate/ports"
)

// Connect opens the instance's connection: with opt.JID (or a device linked
// earlier in this process) it logs in with the stored credentials,
// otherwise it starts QR pairing. A JID whose credentials are gone (the
// device was removed) yields a logged_out status.
func (m *Manager) Connect(ctx context.Context, id ports.InstanceID, opt ports.ConnectOptions) error {
	if err := checkProxyURL(opt.ProxyURL); err != nil {
		return err
	}
	s, err := m.session(id)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sub = opt.Subscription
	if s.active {
		return nil
	}
	dev, known, err := m.device(ctx, s, opt.JID)
	if err != nil {
		return err
	}
	if dev == nil {
		s.q.push(emit{s.status(ports.StatusLoggedOut, "unlinked")})
		return nil
	}
	cli, err := m.newClient(id, dev, opt.ProxyURL)
	if err != nil {
		return err
	}
	if old := s.cli; old != nil {
		old.RemoveEventHandlers()
		old.Disconnect()
	}
	s.epoch++
	epoch := s.epoch
	cli.AddEventHandlerWithSuccessStatus(s.waHandler(cli, epoch))
	s.cli = cli
	s.dev = known
	s.active = true
	s.loggedIn, s.degraded = false, false
	s.stopPairing()
	s.q.push(emit{s.status(ports.StatusConnecting, "")})
	// The connection lives on the manager's context, not the request's.
	if err := cli.ConnectContext(m.ctx); err != nil {
		s.giveUp()
		s.q.push(emit{s.status(ports.StatusDisconnected, "connect_failed")})
		return ports.Errorf(ports.EUnavailable, "connect to WhatsApp: %v", err)
	}
	return nil
}

// ownPushName turns the end of a full sync of the settings (critical_block)
// into the push name it set: whatsmeow sets Store.PushName from it without
// a PushNameSetting event (it emits those only for later changes), and it
// runs handlers on the goroutine that wrote the name, where reading it is
// safe. Other events pass as they are.
func ownPushName(cli *wa.Client, evt any) any {
	if done, ok := evt.(*events.AppStateSyncComplete); ok && done.Name == appstate.WAPatchCriticalBlock {
		return &events.PushNameSetting{Action: &waSyncAction.PushNameSetting{Name: proto.String(cli.Store.PushName)}}
	}
	return evt
}

// device returns the credentials to connect with, and what is known of
// them: those of jid, those of the device linked earlier by this session,
// or a new unlinked device. Nil without error: jid's credentials were
// deleted. Caller holds s.mu.
func (m *Manager) device(ctx context.Context, s *session, jid string) (*store.Device, linkedDevice, error) {
	if jid == "" {
		if s.cli != nil && !s.dev.jid.IsEmpty() {
			return s.cli.Store, s.dev, nil
		}
		dev := m.container.NewDevice()
		m.cacheDevice(dev)
		return dev, linkedDevice{}, nil
	}
	parsed, err := types.ParseJID(jid)
	if err != nil || parsed.User == "" {
		return nil, linkedDevice{}, ports.Errorf(ports.EInvalid, "the device JID %q is invalid", jid)
	}
	dev, err := m.container.GetDevice(ctx, parsed)
	if err != nil {
		return nil, linkedDevice{}, fmt.Errorf("load device %s: %w", jid, err)
	}
	if dev == nil {
		return nil, linkedDevice{}, nil
	}
	// No client uses the device yet: its fields are safe to read and set.
	m.cacheDevice(dev)
	return dev, linkedDevice{jid: *dev.ID, pushName: dev.PushName}, nil
}

func checkProxyURL(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ports.Errorf(ports.EInvalid, "the proxy URL is invalid")
	}
	switch u.Scheme {
	case "http", "https", "socks5":
		return nil
	}
	return ports.Errorf(ports.EInvalid, "the proxy URL scheme must be http, https or socks5")
}

// Disconnect closes the connection and keeps the credentials. whatsmeow
// emits nothing for a disconnect it was asked for: the disconnected
// status (reason manual) comes from here.
func (m *Manager) Disconnect(ctx context.Context, id ports.InstanceID) error {
	s := m.existing(id)
	if s == nil {
		return nil
	}
	s.mu.Lock()
	if !s.active {
		s.mu.Unlock()
		return nil
	}
	cli := s.cli
	s.giveUp()
	s.q.push(emit{s.status(ports.StatusDisconnected, "manual")})
	s.mu.Unlock()
	// Closed when Disconnect returns, not only soon after (giveUp's).
	cli.Disconnect()
	return nil
}

// Logout unlinks the device: through WhatsApp when logged in, otherwise by
// deleting its credentials so that it cannot log in again.
func (m *Manager) Logout(ctx context.Context, id ports.InstanceID) error {
	s := m.existing(id)
	if s == nil {
		return nil
	}
	s.mu.Lock()
	cli, wasActive, jid := s.cli, s.active, s.dev.jid
	if cli == nil {
		s.mu.Unlock()
		return nil
	}
	s.epoch++ // drop the client's events from now on
	s.active, s.loggedIn, s.degraded = false, false, false
	s.dev = linkedDevice{}
	s.stopWatchdog()
	s.stopPairing()
	s.mu.Unlock()

	linked := !jid.IsEmpty()
	if linked {
		if err := m.unlink(ctx, cli, jid); err != nil {
			return err
		}
	} else {
		cli.Disconnect()
	}
	if linked || wasActive {
		s.q.push(emit{s.status(ports.StatusLoggedOut, "manual")})
	}
	return nil
}

// unlink asks WhatsApp to remove the device jid when connected, then
// makes sure the local credentials are gone either way.
func (m *Manager) unlink(ctx context.Context, cli *wa.Client, jid types.JID) error {
	if cli.IsLoggedIn() {
		if err := cli.Logout(ctx); err == nil {
			return nil
		}
		// WhatsApp did not answer; the device stays listed on the phone
		// until it notices, but this side forgets it.
	}
	cli.Disconnect()
	// By jid rather than through cli.Store, whose ID whatsmeow may be
	// clearing on a LoggedOut; rows already deleted are no error.
	if err := m.container.DeleteDevice(ctx, &store.Device{ID: &jid}); err != nil {
		return fmt.Errorf("delete device credentials: %w", err)
	}
	return nil
}

// PairCode asks WhatsApp for a code to link the device by phone number;
// only while QR codes are shown. The QR codes stop; the code may be
// entered within Options.PairCodeTimeout.
func (m *Manager) PairCode(ctx context.Context, id ports.InstanceID, phone string) (string, error) {
	digits, err := phoneDigits(phone)
	if err != nil {
		return "", err
	}
	s := m.existing(id)
	notAwaiting := ports.ReasonError(ports.EConflict, "not_awaiting_qr", "the instance is not waiting to be linked")
	if s == nil {
		return "", notAwaiting
	}
	s.mu.Lock()
	cli, epoch := s.cli, s.epoch
	awaiting := s.active && s.pair.attempt > 0
	s.mu.Unlock()
	if !awaiting {
		return "", notAwaiting
	}
	code, err := cli.PairPhone(ctx, digits, true, wa.PairClientChrome, "Chrome (Linux)")
	if err != nil {
		if errors.Is(err, wa.ErrPhoneNumberTooShort) || errors.Is(err, wa.ErrPhoneNumberIsNotInternational) {
			return "", ports.Errorf(ports.EInvalid, "the phone number is invalid: %v", err)
		}
		return "", ports.Errorf(ports.EUnavailable, "ask WhatsApp for a pair code: %v", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.epoch == epoch && s.pair.attempt > 0 {
		s.pair.byCode = true
		s.armPairTimer(m.opt.PairCodeTimeout)
	}
	return code, nil
}

// phoneDigits accepts digits with an optional "+" and separators.
func phoneDigits(phone string) (string, error) {
	var b strings.Builder
	for _, r := range phone {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' || r == ' ' || r == '-' || r == '(' || r == ')':
		default:
			return "", ports.Errorf(ports.EInvalid, "the phone number %q is invalid", phone)
		}
	}
	d := b.String()
	if len(d) < 7 || len(d) > 15 || d[0] == '0' {
		return "", ports.Errorf(ports.EInvalid, "the phone number %q is invalid: digits with the country code", phone)
	}
	return d, nil
}

var _ ports.WADeviceRemover = (*Manager)(nil)

// RemoveDevice unlinks jid's device: through the instance's client when it
// has one, otherwise by a short connection that asks WhatsApp to remove the
// device. The local credentials are deleted whatever WhatsApp answers.
func (m *Manager) RemoveDevice(ctx context.Context, id ports.InstanceID, jid string) error {
	if s := m.existing(id); s != nil {
		if own := s.deviceJID(); !own.IsEmpty() && own.String() == jid {
			return m.Logout(ctx, id)
		}
	}
	parsed, err := types.ParseJID(jid)
	if err != nil || parsed.User == "" {
		return ports.Errorf(ports.EInvalid, "the device JID %q is invalid", jid)
	}
	dev, err := m.container.GetDevice(ctx, parsed)
	if err != nil {
		return fmt.Errorf("load device %s: %w", jid, err)
	}
	if dev == nil {
		return nil
	}
	cli, err := m.newClient(id, dev, "")
	if err != nil {
		return err
	}
	cli.EnableAutoReconnect = false
	if err := cli.ConnectContext(m.ctx); err == nil {
		cli.WaitForConnection(removeDeviceWait)
	}
	return m.unlink(ctx, cli, parsed)
}

// removeDeviceWait bounds the login before a remove request: past it the
// device is only forgotten locally.
const removeDeviceWait = 10 * time.Second

var _ ports.WAReleaser = (*Manager)(nil)

// Release closes the instance's connection without a status event, for a
// lease handed to another node: the stored status stays (connected,
// typically) so that the next holder reconnects it. Later events of the
// closed client are dropped (the epoch moves on).
func (m *Manager) Release(ctx context.Context, id ports.InstanceID) error {
	s := m.existing(id)
	if s == nil {
		return nil
	}
	s.mu.Lock()
	s.epoch++
	s.active, s.loggedIn, s.degraded = false, false, false
	s.stopWatchdog()
	s.stopPairing()
	cli := s.cli
	s.mu.Unlock()
	if cli != nil {
		// Closed when Release returns: the next holder may connect now.
		cli.Disconnect()
	}
	return nil
}

// waHandler queues whatsmeow's events for run. whatsmeow acks a message
// or a receipt to WhatsApp when its handlers return (SynchronousAck), and
// WhatsApp sends an unacked one again at the next login; so for those the
// handler waits until run has handled the event (stored it): a crash
// before then costs a resend, never the message. It reports failure (no
// ack; the plaintext stays in whatsmeow's event buffer) when OnEvent
// failed, or if the adapter shuts down first. Other events are queued and
// return at once.
func (s *session) waHandler(cli *wa.Client, epoch uint64) wa.EventHandlerWithSuccessStatus {
	return func(evt any) bool {
		switch evt.(type) {
		case *events.Message, *events.Receipt:
		default:
			s.q.push(waEvent{epoch: epoch, evt: ownPushName(cli, evt)})
			return true
		}
		done := make(chan bool, 1)
		if !s.q.push(waEvent{epoch: epoch, evt: evt, done: done}) {
			return false
		}
		select {
		case handled := <-done:
			return handled
		case <-s.m.ctx.Done():
			return false
		}
	}
}
