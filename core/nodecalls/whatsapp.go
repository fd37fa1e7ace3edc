package nodecalls

import (
	"context"
	"time"

	"github.com/wagate/wagate/ports"
)

// Adapter is what WhatsApp wraps: the WhatsApp adapter with its actions,
// device remover and releaser.
type Adapter interface {
	ports.WhatsApp
	ports.WAActions
	ports.WADeviceRemover
	ports.WAReleaser
}

// WhatsApp is the WhatsApp port, with its actions and device remover,
// whose calls on a live connection run on the node holding the instance.
// Connect, Send and Release stay on this node: their callers (a connect
// after claiming the lease, the holder's send worker, a handover) run on
// the holder already.
type WhatsApp struct {
	Adapter

	pairCode     func(context.Context, ports.InstanceID, string) (string, error)
	checkNumbers func(context.Context, ports.InstanceID, []string) ([]ports.NumberCheck, error)
	disconnect   func(context.Context, ports.InstanceID, struct{}) (struct{}, error)
	logout       func(context.Context, ports.InstanceID, struct{}) (struct{}, error)
	removeDevice func(context.Context, ports.InstanceID, string) (struct{}, error)
	react        func(context.Context, ports.InstanceID, reactReq) error
	edit         func(context.Context, ports.InstanceID, editReq) error
	revoke       func(context.Context, ports.InstanceID, ports.WAMessageKey) error
	markRead     func(context.Context, ports.InstanceID, markReadReq) error
	presence     func(context.Context, ports.InstanceID, presenceReq) error
}

var (
	_ ports.WhatsApp        = (*WhatsApp)(nil)
	_ ports.WAActions       = (*WhatsApp)(nil)
	_ ports.WADeviceRemover = (*WhatsApp)(nil)
	_ ports.WAReleaser      = (*WhatsApp)(nil)
)

// The requests of the calls with more than one argument.
type (
	reactReq struct {
		Key   ports.WAMessageKey
		Emoji string
	}
	editReq struct {
		Key  ports.WAMessageKey
		Text string
	}
	markReadReq struct {
		Keys []ports.WAMessageKey
		At   time.Time
	}
	presenceReq struct {
		Chat     string
		Presence ports.ChatPresence
	}
)

// NewWhatsApp registers wa's live-connection calls on r and returns the
// port that routes them. A disconnect, a logout and a device removal run
// here when no node holds the instance: they need no connection.
func NewWhatsApp(r *Router, wa Adapter) *WhatsApp {
	w := &WhatsApp{Adapter: wa}
	w.pairCode = Route(r, "whatsapp.pair-code", wa.PairCode)
	w.checkNumbers = Route(r, "whatsapp.check-numbers", wa.CheckNumbers)
	disconnect := func(ctx context.Context, id ports.InstanceID, _ struct{}) (struct{}, error) {
		return struct{}{}, wa.Disconnect(ctx, id)
	}
	w.disconnect = OrHere(Route(r, "whatsapp.disconnect", disconnect), disconnect)
	logout := func(ctx context.Context, id ports.InstanceID, _ struct{}) (struct{}, error) {
		return struct{}{}, wa.Logout(ctx, id)
	}
	w.logout = OrHere(Route(r, "whatsapp.logout", logout), logout)
	remove := func(ctx context.Context, id ports.InstanceID, jid string) (struct{}, error) {
		return struct{}{}, wa.RemoveDevice(ctx, id, jid)
	}
	w.removeDevice = OrHere(Route(r, "whatsapp.remove-device", remove), remove)
	w.react = RouteErr(r, "whatsapp.react", func(ctx context.Context, id ports.InstanceID, q reactReq) error {
		return wa.React(ctx, id, q.Key, q.Emoji)
	})
	w.edit = RouteErr(r, "whatsapp.edit", func(ctx context.Context, id ports.InstanceID, q editReq) error {
		return wa.Edit(ctx, id, q.Key, q.Text)
	})
	w.revoke = RouteErr(r, "whatsapp.revoke", wa.Revoke)
	w.markRead = RouteErr(r, "whatsapp.mark-read", func(ctx context.Context, id ports.InstanceID, q markReadReq) error {
		return wa.MarkRead(ctx, id, q.Keys, q.At)
	})
	w.presence = RouteErr(r, "whatsapp.presence", func(ctx context.Context, id ports.InstanceID, q presenceReq) error {
		return wa.SendChatPresence(ctx, id, q.Chat, q.Presence)
	})
	return w
}

// PairCode runs on the instance's holder, where its pairing is.
func (w *WhatsApp) PairCode(ctx context.Context, id ports.InstanceID, phone string) (string, error) {
	return w.pairCode(ctx, id, phone)
}

// CheckNumbers runs on the instance's holder.
func (w *WhatsApp) CheckNumbers(ctx context.Context, id ports.InstanceID, phones []string) ([]ports.NumberCheck, error) {
	return w.checkNumbers(ctx, id, phones)
}

// Disconnect runs on the instance's holder, or here when none holds it.
func (w *WhatsApp) Disconnect(ctx context.Context, id ports.InstanceID) error {
	_, err := w.disconnect(ctx, id, struct{}{})
	return err
}

// Logout runs on the instance's holder, or here when none holds it.
func (w *WhatsApp) Logout(ctx context.Context, id ports.InstanceID) error {
	_, err := w.logout(ctx, id, struct{}{})
	return err
}

// RemoveDevice runs on the instance's holder, which closes its connection
// as it unlinks, or here when none holds it.
func (w *WhatsApp) RemoveDevice(ctx context.Context, id ports.InstanceID, jid string) error {
	_, err := w.removeDevice(ctx, id, jid)
	return err
}

// React runs on the instance's holder.
func (w *WhatsApp) React(ctx context.Context, id ports.InstanceID, key ports.WAMessageKey, emoji string) error {
	return w.react(ctx, id, reactReq{Key: key, Emoji: emoji})
}

// Edit runs on the instance's holder.
func (w *WhatsApp) Edit(ctx context.Context, id ports.InstanceID, key ports.WAMessageKey, text string) error {
	return w.edit(ctx, id, editReq{Key: key, Text: text})
}

// Revoke runs on the instance's holder.
func (w *WhatsApp) Revoke(ctx context.Context, id ports.InstanceID, key ports.WAMessageKey) error {
	return w.revoke(ctx, id, key)
}

// MarkRead runs on the instance's holder.
func (w *WhatsApp) MarkRead(ctx context.Context, id ports.InstanceID, keys []ports.WAMessageKey, at time.Time) error {
	return w.markRead(ctx, id, markReadReq{Keys: keys, At: at})
}

// SendChatPresence runs on the instance's holder.
func (w *WhatsApp) SendChatPresence(ctx context.Context, id ports.InstanceID, chat string, p ports.ChatPresence) error {
	return w.presence(ctx, id, presenceReq{Chat: chat, Presence: p})
}
