package messaging_test

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/wagate/wagate/core/coretest"
	"github.com/wagate/wagate/core/messaging"
	"github.com/wagate/wagate/ports"
)

// actionEnv is an env whose service can act on messages; its WhatsApp
// answers each send with the id it was given, so that messages keep
// distinct ids.
type actionEnv struct {
	*env
	acts *coretest.Actions
}

func newActionEnv(t *testing.T) *actionEnv {
	t.Helper()
	e := &actionEnv{env: newEnv(t, ports.StatusConnected), acts: &coretest.Actions{}}
	e.wa.SendFunc = func(out ports.WAOutbound) (ports.WASent, error) { return ports.WASent{WAMessageID: out.ID}, nil }
	e.svc = messaging.New(messaging.Deps{
		Tx: e.store, Stores: e.store.Stores(), Outbox: e.store.Outbox(), Clock: e.clock, IDs: e.ids,
		Queue: e.queue, WhatsApp: e.wa, Actions: e.acts, Events: coretest.NewEventLog(e.clock, nil),
	}, messaging.Config{MaxAge: time.Hour, RelayAfter: 30 * time.Second})
	return e
}

// sent sends a text and runs its job: the message is sent at the clock's
// time.
func (e *actionEnv) sent(t *testing.T) ports.Message {
	t.Helper()
	m := e.send(t, "+15550001111")
	if err := e.run(t, m.ID); err != nil {
		t.Fatalf("run %s: %v", m.ID, err)
	}
	return e.get(t, m.ID)
}

// inbound stores a text a contact sent in chat under waID.
func (e *actionEnv) inbound(t *testing.T, chat, waID string) ports.Message {
	t.Helper()
	e.svc.HandleEvent(ports.WAEvent{Subscription: e.p.SubscriptionID, Instance: e.inst.ID, Kind: ports.WAMessage, At: e.clock.Now(),
		Message: &ports.WAInbound{WAMessageID: waID, Chat: chat, From: chat, Text: "hi " + waID}})
	m, err := e.store.Stores().Messages.FindMessageByWAID(t.Context(), e.p.SubscriptionID, e.inst.ID, waID)
	if err != nil {
		t.Fatalf("inbound %s: %v", waID, err)
	}
	return m
}

// wantReason fails t unless err is a ports.Error with code and reason.
func wantReason(t *testing.T, what string, err error, code ports.ErrorCode, reason string) {
	t.Helper()
	if pe := ports.AsError(err); pe == nil || pe.Code != code || pe.Reason != reason {
		t.Errorf("%s: got %v, want %s %s", what, err, code, reason)
	}
}

func TestEditWindow(t *testing.T) {
	e := newActionEnv(t)
	m := e.sent(t)
	e.clock.Advance(messaging.EditWindow - time.Second)
	got, err := e.svc.Edit(t.Context(), e.p, e.inst.ID, m.ID, "fixed")
	if err != nil || got.Text != "fixed" || got.EditedAt == nil {
		t.Fatalf("edit 1 s before the window closes: got %q edited %v, %v; want the new text", got.Text, got.EditedAt, err)
	}
	e.clock.Advance(2 * time.Second) // 15 min + 1 s after the send
	_, err = e.svc.Edit(t.Context(), e.p, e.inst.ID, m.ID, "too late")
	wantReason(t, "edit 15 min + 1 s after the send", err, ports.EConflict, "edit_window_passed")
	if got := e.get(t, m.ID); got.Text != "fixed" {
		t.Errorf("after the refused edit: got text %q, want %q", got.Text, "fixed")
	}
	want := []string{"edit " + m.Chat + "/" + m.WAMessageID + " fixed"}
	if calls := e.acts.Calls(); !slices.Equal(calls, want) {
		t.Errorf("WhatsApp calls: got %q, want %q", calls, want)
	}
}

func TestEditRefusals(t *testing.T) {
	e := newActionEnv(t)
	in := e.inbound(t, "15550002222@s.whatsapp.net", "3EB0IN1")
	_, err := e.svc.Edit(t.Context(), e.p, e.inst.ID, in.ID, "mine now")
	if pe := ports.AsError(err); pe == nil || pe.Code != ports.EInvalid {
		t.Errorf("edit of an inbound message: got %v, want invalid", err)
	}
	queued := e.send(t, "+15550001111")
	_, err = e.svc.Edit(t.Context(), e.p, e.inst.ID, queued.ID, "early")
	wantReason(t, "edit of a queued message", err, ports.EConflict, "message_not_sent")
	other := e.store.SeedAccount(e.ids, e.clock, ports.TierBasic, "other@example.com")
	_, err = e.svc.Edit(t.Context(), other, e.inst.ID, queued.ID, "theirs")
	if !ports.IsCode(err, ports.ENotFound) {
		t.Errorf("edit by another tenant: got %v, want not found", err)
	}
	if calls := e.acts.Calls(); len(calls) != 0 {
		t.Errorf("WhatsApp calls: got %q, want none", calls)
	}
}

func TestReactionAddChangeRemove(t *testing.T) {
	e := newActionEnv(t)
	m := e.sent(t)
	for _, step := range []struct{ emoji, want string }{{"👍", "👍"}, {"❤️", "❤️"}, {"", ""}} {
		got, err := e.svc.React(t.Context(), e.p, e.inst.ID, m.ID, step.emoji)
		if err != nil {
			t.Fatalf("react %q: %v", step.emoji, err)
		}
		var emojis []string
		for _, r := range got.Reactions {
			emojis = append(emojis, r.From+" "+r.Emoji)
		}
		want := []string(nil)
		if step.want != "" {
			want = []string{e.inst.JID + " " + step.want}
		}
		if !slices.Equal(emojis, want) {
			t.Errorf("after react %q: got reactions %q, want %q", step.emoji, emojis, want)
		}
	}
	var events []string
	for _, ev := range e.bus.Events() {
		if d, err := coretest.DataAs[ports.MessageReactionData](ev); err == nil && ev.Type == ports.EventMessageReaction && d.MessageID == m.ID {
			events = append(events, d.Emoji)
		}
	}
	if want := []string{"👍", "❤️", ""}; !slices.Equal(events, want) {
		t.Errorf("message.reaction events: got %q, want %q", events, want)
	}
	_, err := e.svc.React(t.Context(), e.p, e.inst.ID, m.ID, "ok")
	if pe := ports.AsError(err); pe == nil || pe.Code != ports.EInvalid {
		t.Errorf("react with a word: got %v, want invalid", err)
	}
	in := e.inbound(t, "15550002222@s.whatsapp.net", "3EB0IN2")
	if got, err := e.svc.React(t.Context(), e.p, e.inst.ID, in.ID, "🎉"); err != nil || len(got.Reactions) != 1 {
		t.Errorf("react to an inbound message: got %+v, %v; want one reaction", got.Reactions, err)
	}
}

func TestForwardCopiesMedia(t *testing.T) {
	e := newActionEnv(t)
	img, err := e.svc.SendImage(t.Context(), e.p, e.inst.ID, messaging.SendMediaCmd{To: "+15550001111", Caption: "look",
		Media: messaging.MediaInput{Data: png, MimeType: "image/png"}})
	if err != nil {
		t.Fatalf("send image: %v", err)
	}
	if err := e.run(t, img.ID); err != nil {
		t.Fatalf("run image: %v", err)
	}
	fw, err := e.svc.Forward(t.Context(), e.p, e.inst.ID, img.ID, messaging.ForwardCmd{To: "+15550003333"})
	if err != nil || fw.Type != ports.MessageImage || fw.Caption != "look" || !fw.IsForwarded || fw.ID == img.ID {
		t.Fatalf("forward: got %+v, %v; want a new forwarded image with the caption", fw, err)
	}
	if err := e.run(t, fw.ID); err != nil {
		t.Fatalf("run forward: %v", err)
	}
	sends := e.wa.Sends()
	if len(sends) != 2 {
		t.Fatalf("got %d sends, want 2", len(sends))
	}
	out := sends[1]
	if out.Media == nil || !bytes.Equal(out.Media.Data, png) || !out.Forwarded || out.To != "15550003333@s.whatsapp.net" {
		t.Errorf("forward sent: got media %v forwarded %v to %s; want the PNG forwarded to 15550003333", out.Media, out.Forwarded, out.To)
	}
	md, err := e.svc.GetMedia(t.Context(), e.p, e.inst.ID, fw.ID)
	if err != nil || !bytes.Equal(md.Data, png) {
		t.Errorf("media of the forward: got %d bytes, %v; want the PNG", len(md.Data), err)
	}
}

func TestMarkReadMarksEarlierMessages(t *testing.T) {
	e := newActionEnv(t)
	chat := "15550002222@s.whatsapp.net"
	a := e.inbound(t, chat, "3EB0A")
	e.clock.Advance(time.Second)
	b := e.inbound(t, chat, "3EB0B")
	e.clock.Advance(time.Second)
	c := e.inbound(t, chat, "3EB0C")
	elsewhere := e.inbound(t, "15550004444@s.whatsapp.net", "3EB0X")
	got, err := e.svc.MarkRead(t.Context(), e.p, e.inst.ID, b.ID)
	if err != nil || got.ReadAt == nil || got.Status != ports.MsgReceived {
		t.Fatalf("mark read: got read %v status %s, %v; want read and still received", got.ReadAt, got.Status, err)
	}
	for _, w := range []struct {
		m    ports.Message
		read bool
	}{{a, true}, {b, true}, {c, false}, {elsewhere, false}} {
		if r := e.get(t, w.m.ID).ReadAt != nil; r != w.read {
			t.Errorf("%s read: got %v, want %v", w.m.WAMessageID, r, w.read)
		}
	}
	if _, err := e.svc.MarkRead(t.Context(), e.p, e.inst.ID, c.ID); err != nil {
		t.Fatalf("mark read of the newest: %v", err)
	}
	want := []string{"read " + chat + "/3EB0B,3EB0A", "read " + chat + "/3EB0C"}
	if calls := e.acts.Calls(); !slices.Equal(calls, want) {
		t.Errorf("read receipts: got %q, want %q (earlier ones not marked twice)", calls, want)
	}
	out := e.sent(t)
	_, err = e.svc.MarkRead(t.Context(), e.p, e.inst.ID, out.ID)
	if pe := ports.AsError(err); pe == nil || pe.Code != ports.EInvalid {
		t.Errorf("mark read of a sent message: got %v, want invalid", err)
	}
}

// TestReplyAndMentionsOnEveryKind: a media send, a location, a contact
// and a poll quote a stored message and mention a number, as a text does.
func TestReplyAndMentionsOnEveryKind(t *testing.T) {
	e := newActionEnv(t)
	quoted := e.sent(t)
	reply := messaging.Reply{ReplyTo: string(quoted.ID), Mentions: []string{"+15550002222"}}
	lat, lon := 52.5, 13.4
	sends := map[string]func() (ports.Message, error){
		"image": func() (ports.Message, error) {
			return e.svc.SendImage(t.Context(), e.p, e.inst.ID, messaging.SendMediaCmd{To: "+15550001111", Caption: "see @15550002222",
				Media: messaging.MediaInput{Data: png}, Reply: reply})
		},
		"location": func() (ports.Message, error) {
			return e.svc.SendLocation(t.Context(), e.p, e.inst.ID, messaging.SendLocationCmd{To: "+15550001111", Latitude: &lat, Longitude: &lon, Reply: reply})
		},
		"contact": func() (ports.Message, error) {
			return e.svc.SendContact(t.Context(), e.p, e.inst.ID, messaging.SendContactCmd{To: "+15550001111",
				Contacts: []ports.ContactCard{{Name: "Ann", Phones: []ports.ContactPhone{{Number: "+15550003333"}}}}, Reply: reply})
		},
		"poll": func() (ports.Message, error) {
			return e.svc.SendPoll(t.Context(), e.p, e.inst.ID, messaging.SendPollCmd{To: "+15550001111", Question: "Lunch?",
				Options: []string{"yes", "no"}, Reply: reply})
		},
	}
	for kind, send := range sends {
		m, err := send()
		if err != nil {
			t.Fatalf("send %s: %v", kind, err)
		}
		if err := e.run(t, m.ID); err != nil {
			t.Fatalf("run %s: %v", kind, err)
		}
		all := e.wa.Sends()
		out := all[len(all)-1]
		if out.ReplyTo != quoted.WAMessageID || out.Quoted == nil || out.Quoted.Text != "hello" ||
			!slices.Equal(out.Mentions, []string{"15550002222@s.whatsapp.net"}) {
			t.Errorf("%s sent: got replyTo %q quoted %+v mentions %q; want a reply to %q mentioning 15550002222",
				kind, out.ReplyTo, out.Quoted, out.Mentions, quoted.WAMessageID)
		}
	}
	_, err := e.svc.SendImage(t.Context(), e.p, e.inst.ID, messaging.SendMediaCmd{To: "+15550001111", Caption: "no at-sign",
		Media: messaging.MediaInput{Data: png}, Reply: messaging.Reply{Mentions: []string{"+15550002222"}, ReplyTo: "a b"}})
	var fields []string
	if pe := ports.AsError(err); pe != nil {
		for _, f := range pe.Fields {
			fields = append(fields, f.Field)
		}
	}
	if !slices.Equal(fields, []string{"replyTo", "mentions"}) {
		t.Errorf("a caption without the mention and a bad replyTo: got %v (fields %q), want replyTo and mentions refused", err, fields)
	}
}
