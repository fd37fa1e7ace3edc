package whatsapp

import (
	"context"
	"time"

	"go.mau.fi/whatsmeow/types/events"

	"github.com/wagate/wagate/ports"
)

// handleWA maps a whatsmeow event (WHATSAPP-SIM.md, "Lifecycle events").
func (s *session) handleWA(ctx context.Context, it waEvent) []ports.WAEvent {
	s.mu.Lock()
	if it.epoch != s.epoch {
		s.mu.Unlock()
		return nil
	}
	cli := s.cli
	switch evt := it.evt.(type) {
	case *events.Message, *events.Receipt:
		// Media downloads take a while: without the lock, so that API
		// calls do not wait for them.
		s.mu.Unlock()
		return s.content(ctx, cli, evt)
	case *events.GroupInfo, *events.JoinedGroup, *events.Picture:
		s.mu.Unlock() // phone numbers are looked up in the store
		return s.groupEvents(ctx, cli, evt)
	}
	defer s.mu.Unlock()
	switch evt := it.evt.(type) {
	case *events.QR:
		return s.onQR(evt.Codes)
	case *events.PairSuccess:
		s.stopPairing()
		s.dev = linkedDevice{jid: evt.ID}
		return []ports.WAEvent{s.status(ports.StatusConnecting, "paired")}
	case *events.PairError:
		s.giveUp()
		return []ports.WAEvent{s.status(ports.StatusDisconnected, "pair_failed")}
	case *events.Connected:
		s.stopPairing()
		s.stopWatchdog()
		s.loggedIn, s.degraded = true, false
		return []ports.WAEvent{s.connectedStatus(false)}
	case *events.Disconnected:
		return s.onDisconnected()
	case *events.CallOffer:
		return []ports.WAEvent{s.callEvent(evt)}
	case *events.PushNameSetting:
		s.dev.pushName = evt.Action.GetName()
		if !s.loggedIn {
			return nil
		}
		// Still connected, under the new name: the instance shows it at
		// once, and an alwaysOnline one can announce itself now that
		// whatsmeow has a name to announce.
		return []ports.WAEvent{s.connectedStatus(s.degraded)}
	case *events.LoggedOut:
		// whatsmeow deletes the credentials.
		s.dev = linkedDevice{}
		s.giveUp()
		return []ports.WAEvent{s.status(ports.StatusLoggedOut, "unlinked")}
	case *events.StreamReplaced:
		s.giveUp()
		return []ports.WAEvent{s.status(ports.StatusDisconnected, "replaced")}
	case *events.TemporaryBan:
		s.giveUp()
		return []ports.WAEvent{s.status(ports.StatusDisconnected, "temporary_ban")}
	case *events.ClientOutdated:
		s.giveUp()
		return []ports.WAEvent{s.status(ports.StatusDisconnected, "client_outdated")}
	case *events.ConnectFailure:
		s.giveUp()
		return []ports.WAEvent{s.status(ports.StatusDisconnected, "connect_failure")}
	case *events.KeepAliveTimeout:
		return s.onKeepAliveTimeout()
	case *events.KeepAliveRestored:
		if !s.degraded {
			return nil
		}
		s.degraded = false
		s.stopWatchdog()
		return []ports.WAEvent{s.connectedStatus(false)}
	}
	return nil
}

// onDisconnected: a linked device reconnects by itself (whatsmeow's auto
// reconnect); an unlinked one does not, which ends the pairing.
func (s *session) onDisconnected() []ports.WAEvent {
	if s.dev.jid.IsEmpty() {
		s.giveUp()
		return []ports.WAEvent{s.status(ports.StatusDisconnected, "network")}
	}
	s.loggedIn, s.degraded = false, false
	s.stopWatchdog()
	return []ports.WAEvent{s.status(ports.StatusConnecting, "network")}
}

// onQR starts showing the codes of a pairing: the first one now, the next
// ones as each expires (onPairTimeout), at most MaxQRCodes in all.
// whatsmeow hands all codes at once, in one event.
func (s *session) onQR(codes []string) []ports.WAEvent {
	if s.pair.attempt > 0 || len(codes) == 0 {
		return nil
	}
	if n := s.m.opt.MaxQRCodes; len(codes) > n {
		codes = codes[:n]
	}
	s.pair.codes = codes
	return []ports.WAEvent{s.status(ports.StatusQR, ""), s.showQR(1)}
}

// showQR shows code number attempt and arms its expiry. Caller holds mu.
func (s *session) showQR(attempt int) ports.WAEvent {
	life := s.m.opt.QRTimeout
	if attempt == 1 {
		life = s.m.opt.QRFirstTimeout
	}
	s.pair.attempt = attempt
	s.armPairTimer(life)
	return ports.WAEvent{
		Instance: s.id,
		Kind:     ports.WAQR,
		At:       s.m.now(),
		QR: &ports.WAQRCode{
			Code:      s.pair.codes[attempt-1],
			Attempt:   attempt,
			ExpiresAt: s.m.now().Add(life),
		},
	}
}

// armPairTimer (re)starts the expiry of what is on screen. Caller holds mu.
func (s *session) armPairTimer(d time.Duration) {
	if s.pair.timer != nil {
		s.pair.timer.Stop()
	}
	s.pair.seq++
	s.pair.timer = s.after(d, pairTimeout{epoch: s.epoch, seq: s.pair.seq})
}

// onPairTimeout shows the next code or, after the last, gives up: no
// endless QR loops (SPEC §4).
func (s *session) onPairTimeout(t pairTimeout) []ports.WAEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.epoch != s.epoch || t.seq != s.pair.seq || s.pair.attempt == 0 {
		return nil
	}
	if !s.pair.byCode && s.pair.attempt < len(s.pair.codes) {
		return []ports.WAEvent{s.showQR(s.pair.attempt + 1)}
	}
	s.giveUp()
	return []ports.WAEvent{s.status(ports.StatusDisconnected, "qr_timeout")}
}

// onKeepAliveTimeout marks the connection degraded and starts the
// watchdog, once per run of failures.
func (s *session) onKeepAliveTimeout() []ports.WAEvent {
	if !s.loggedIn || s.degraded {
		return nil
	}
	s.degraded = true
	s.watchdog = s.after(s.m.opt.Watchdog, watchdogFired{epoch: s.epoch})
	return []ports.WAEvent{s.connectedStatus(true)}
}

// onWatchdog reconnects a connection whose keepalives kept failing: it
// looks alive but nothing gets through.
func (s *session) onWatchdog(w watchdogFired) []ports.WAEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	if w.epoch != s.epoch || !s.degraded {
		return nil
	}
	s.watchdog = nil
	s.loggedIn, s.degraded = false, false
	cli, epoch, ctx := s.cli, s.epoch, s.m.ctx
	s.m.goTracked(func() {
		cli.Disconnect()
		// Network errors are retried by whatsmeow (InitialAutoReconnect).
		if err := cli.ConnectContext(ctx); err != nil {
			s.q.push(reconnectFailed{epoch: epoch, err: err})
		}
	})
	return []ports.WAEvent{s.status(ports.StatusConnecting, "keepalive_timeout")}
}

func (s *session) onReconnectFailed(r reconnectFailed) []ports.WAEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.epoch != s.epoch {
		return nil
	}
	s.m.log.Warn("reconnect after keepalive failures", "instance", string(s.id), "err", r.err)
	s.giveUp()
	return []ports.WAEvent{s.status(ports.StatusDisconnected, "connect_failed")}
}
