package whatsapp_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"google.golang.org/protobuf/proto"

	"github.com/wagate/wagate/adapters/entstore"
	"github.com/wagate/wagate/adapters/wasim"
	"github.com/wagate/wagate/ports"
	"github.com/wagate/wagate/test/testdb"
)

const (
	ownPhone     = "15550100000"
	contactPhone = "15550200000"
	contactJID   = contactPhone + "@s.whatsapp.net"
)

// received waits for the next message the contact decrypted.
func received(t *testing.T, c *wasim.Contact) wasim.Received {
	t.Helper()
	select {
	case r := <-c.Messages():
		return r
	case <-time.After(waitFor):
		t.Fatalf("contact %s received nothing within %v", c.Phone(), waitFor)
	}
	return wasim.Received{}
}

func TestSendTextReachesContact(t *testing.T) {
	e := newEnv(t)
	e.link("inst1", ownPhone)
	contact := e.sim.Contact(contactPhone)
	sent, err := e.m.Send(context.Background(), "inst1", ports.WAOutbound{To: contactJID, Text: "hello, world"})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if sent.WAMessageID == "" || sent.Timestamp.IsZero() {
		t.Errorf("got %+v, want a message id and a timestamp", sent)
	}
	r := received(t, contact)
	if r.Text != "hello, world" {
		t.Errorf("got text %q, want %q", r.Text, "hello, world")
	}
	if r.ID != sent.WAMessageID {
		t.Errorf("got id %q, want %q", r.ID, sent.WAMessageID)
	}
	if !strings.HasPrefix(r.From, ownPhone) {
		t.Errorf("got sender %q, want one of %s's devices", r.From, ownPhone)
	}

	reply, err := e.m.Send(context.Background(), "inst1", ports.WAOutbound{To: contactJID, Text: "again", ReplyTo: sent.WAMessageID})
	if err != nil {
		t.Fatalf("Send reply: %v", err)
	}
	if r := received(t, contact); r.Text != "again" || r.QuotedID != sent.WAMessageID || r.ID != reply.WAMessageID {
		t.Errorf("got %q quoting %q, want %q quoting %q", r.Text, r.QuotedID, "again", sent.WAMessageID)
	}
}

func TestSendWhenNotConnected(t *testing.T) {
	e := newEnv(t)
	_, err := e.m.Send(context.Background(), "inst1", ports.WAOutbound{To: contactJID, Text: "x"})
	var pe *ports.Error
	if !errors.As(err, &pe) || pe.Code != ports.EConflict || pe.Reason != "instance_not_connected" {
		t.Errorf("got %v, want EConflict instance_not_connected", err)
	}
	if _, err := e.m.CheckNumbers(context.Background(), "inst1", []string{contactPhone}); ports.ErrorCodeOf(err) != ports.EConflict {
		t.Errorf("CheckNumbers: got %v, want EConflict", err)
	}
}

func TestInboundTextArrivesAsEvent(t *testing.T) {
	e := newEnv(t)
	e.link("inst1", ownPhone)
	if err := e.sim.Contact(contactPhone).SendText(context.Background(), ownPhone, "hi there"); err != nil {
		t.Fatalf("SendText: %v", err)
	}
	ev := e.events.next(t, "inst1", isKind(ports.WAMessage))
	in := ev.Message
	e.waitReceipt(t, in.WAMessageID)
	if in.Text != "hi there" {
		t.Errorf("got text %q, want %q", in.Text, "hi there")
	}
	if in.From != contactJID || in.Chat != contactJID {
		t.Errorf("got from %q in chat %q, want %q in %q", in.From, in.Chat, contactJID, contactJID)
	}
	if in.WAMessageID == "" {
		t.Error("got an empty message id, want WhatsApp's")
	}
}

// TestMessageAckedOnceHandled: WhatsApp sends an unacked message again,
// so the receipt that acks it waits until OnEvent has returned (stored
// it); acked before, a crash in between lost it.
func TestMessageAckedOnceHandled(t *testing.T) {
	e := newEnv(t)
	e.link("inst1", ownPhone)
	release := make(chan struct{})
	e.events.holdMessages(release)
	if err := e.sim.Contact(contactPhone).SendText(context.Background(), ownPhone, "store me first"); err != nil {
		t.Fatalf("SendText: %v", err)
	}
	id := e.events.next(t, "inst1", isKind(ports.WAMessage)).Message.WAMessageID
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if err := e.sim.WaitReceipt(ctx, id); err == nil {
		t.Error("the message was acked while its handler still ran, want the ack after it returns")
	}
	close(release)
	e.waitReceipt(t, id)
}

// TestMessageNotStoredComesAgain: a message OnEvent could not store is
// left unacked, and WhatsApp sends it again at the next login.
func TestMessageNotStoredComesAgain(t *testing.T) {
	e := newEnv(t)
	jid := e.link("inst1", ownPhone)
	e.events.failMessages(1)
	if err := e.sim.Contact(contactPhone).SendText(context.Background(), ownPhone, "the database is down"); err != nil {
		t.Fatalf("SendText: %v", err)
	}
	id := e.events.next(t, "inst1", isKind(ports.WAMessage)).Message.WAMessageID
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if err := e.sim.WaitReceipt(ctx, id); err == nil {
		t.Fatal("a message OnEvent failed on was acked, want it left for WhatsApp to send again")
	}
	e.restart()
	if err := e.m.Connect(context.Background(), "inst1", ports.ConnectOptions{JID: jid}); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	again := e.events.next(t, "inst1", isKind(ports.WAMessage)).Message
	if again.WAMessageID != id || again.Text != "the database is down" {
		t.Errorf("after the login: got %s %q, want %s again", again.WAMessageID, again.Text, id)
	}
	e.waitReceipt(t, id)
}

// TestLostSessionHealsByRetry: a device that lost its Signal session
// with a contact cannot decrypt the contact's next message; whatsmeow
// asks the phone for it again (a retry receipt), the phone answers from a
// new session, and the message arrives after all.
func TestLostSessionHealsByRetry(t *testing.T) {
	e := newEnv(t)
	e.link("inst1", ownPhone)
	contact := e.sim.Contact(contactPhone)
	if err := contact.SendText(context.Background(), ownPhone, "one"); err != nil {
		t.Fatalf("SendText: %v", err)
	}
	e.waitReceipt(t, e.events.next(t, "inst1", isKind(ports.WAMessage)).Message.WAMessageID)
	// The contact is the device's only peer; its session is kept under
	// the contact's LID.
	res, err := e.db.DeviceDB().ExecContext(context.Background(), "DELETE FROM whatsmeow_sessions")
	if n, _ := res.RowsAffected(); err != nil || n == 0 {
		t.Fatalf("drop the device's session with the contact: %d rows, %v", n, err)
	}
	id, err := contact.Send(context.Background(), ownPhone, &waE2E.Message{Conversation: proto.String("two")})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	in := e.events.next(t, "inst1", isKind(ports.WAMessage)).Message
	if in.WAMessageID != id || in.Text != "two" {
		t.Errorf("got %s %q, want %s \"two\" (sent again after the retry receipt)", in.WAMessageID, in.Text, id)
	}
	e.waitReceipt(t, id) // before the manager closes (a race inside whatsmeow)
}

// TestPhoneLostSessionAsksAgain: a phone that lost its session with the
// device cannot decrypt the device's next message; it asks for it again
// with its keys, and whatsmeow sends it again from a new session.
func TestPhoneLostSessionAsksAgain(t *testing.T) {
	e := newEnv(t)
	jid := e.link("inst1", ownPhone)
	contact := e.sim.Contact(contactPhone)
	for i, text := range []string{"one", "two"} {
		if i == 1 {
			// The phone answers first, so that the device's next message
			// is a plain one in the session, not a prekey message that
			// would start a new session by itself.
			if err := contact.SendText(context.Background(), ownPhone, "answer"); err != nil {
				t.Fatalf("SendText: %v", err)
			}
			e.waitReceipt(t, e.events.next(t, "inst1", isKind(ports.WAMessage)).Message.WAMessageID)
			if err := contact.ForgetSession(context.Background(), jid); err != nil {
				t.Fatalf("ForgetSession: %v", err)
			}
		}
		if _, err := e.m.Send(context.Background(), "inst1", ports.WAOutbound{To: contactJID, Text: text}); err != nil {
			t.Fatalf("Send %q: %v", text, err)
		}
		if got := received(t, contact); got.Text != text {
			t.Errorf("the phone got %q, want %q", got.Text, text)
		}
	}
}

func TestDeliveryAndReadReceipts(t *testing.T) {
	e := newEnv(t)
	e.link("inst1", ownPhone)
	contact := e.sim.Contact(contactPhone)
	sent, err := e.m.Send(context.Background(), "inst1", ports.WAOutbound{To: contactJID, Text: "receipt me"})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	received(t, contact)
	for _, read := range []bool{false, true} {
		if err := contact.SendReceipt(context.Background(), ownPhone, []string{sent.WAMessageID}, read); err != nil {
			t.Fatalf("SendReceipt: %v", err)
		}
		want := ports.ReceiptDelivered
		if read {
			want = ports.ReceiptRead
		}
		ev := e.events.next(t, "inst1", isKind(ports.WAReceipt))
		r := ev.Receipt
		if r.Type != want || !slices.Equal(r.WAMessageID, []string{sent.WAMessageID}) || r.From != contactJID {
			t.Errorf("got %s receipt for %v from %s, want %s for [%s] from %s",
				r.Type, r.WAMessageID, r.From, want, sent.WAMessageID, contactJID)
		}
	}
}

func TestCheckNumbers(t *testing.T) {
	e := newEnv(t)
	e.link("inst1", ownPhone)
	got, err := e.m.CheckNumbers(context.Background(), "inst1", []string{contactPhone, "+9990001111"})
	if err != nil {
		t.Fatalf("CheckNumbers: %v", err)
	}
	want := []ports.NumberCheck{
		{PhoneNumber: contactPhone, Exists: true, JID: contactJID},
		{PhoneNumber: "9990001111"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestImageRoundTrip(t *testing.T) {
	e := newEnv(t)
	e.link("inst1", ownPhone)
	contact := e.sim.Contact(contactPhone)
	img := bytes.Repeat([]byte("\x89PNG fake image bytes "), 500)
	_, err := e.m.Send(context.Background(), "inst1", ports.WAOutbound{
		To: contactJID, Caption: "a picture",
		Media: &ports.WAMedia{Kind: ports.MediaImage, Data: img, MimeType: "image/png"},
	})
	if err != nil {
		t.Fatalf("Send image: %v", err)
	}
	r := received(t, contact)
	if !bytes.Equal(r.Media, img) || r.Caption != "a picture" || r.MimeType != "image/png" {
		t.Errorf("got %d bytes of %q captioned %q, want %d bytes of image/png captioned %q",
			len(r.Media), r.MimeType, r.Caption, len(img), "a picture")
	}

	back := bytes.Repeat([]byte("JFIF inbound "), 300)
	if err := contact.SendImage(context.Background(), ownPhone, back, "image/jpeg", "from the contact"); err != nil {
		t.Fatalf("SendImage: %v", err)
	}
	in := e.events.next(t, "inst1", isKind(ports.WAMessage)).Message
	e.waitReceipt(t, in.WAMessageID)
	if in.Media == nil || in.Media.Kind != ports.MediaImage || !bytes.Equal(in.Media.Data, back) {
		t.Fatalf("got media %+v, want the contact's %d image bytes", in.Media, len(back))
	}
	if in.Caption != "from the contact" || in.Media.MimeType != "image/jpeg" {
		t.Errorf("got caption %q and type %q, want %q and image/jpeg", in.Caption, in.Media.MimeType, "from the contact")
	}
}

func TestSendDocumentAudioAndLocation(t *testing.T) {
	e := newEnv(t)
	e.link("inst1", ownPhone)
	contact := e.sim.Contact(contactPhone)
	ctx := context.Background()
	doc := []byte("%PDF-1.4 a small document")
	if _, err := e.m.Send(ctx, "inst1", ports.WAOutbound{To: contactJID, Caption: "the doc",
		Media: &ports.WAMedia{Kind: ports.MediaDocument, Data: doc, MimeType: "application/pdf", FileName: "a.pdf"}}); err != nil {
		t.Fatalf("Send document: %v", err)
	}
	if r := received(t, contact); !bytes.Equal(r.Media, doc) || r.FileName != "a.pdf" || r.Caption != "the doc" {
		t.Errorf("got %d bytes named %q captioned %q, want %d bytes named a.pdf captioned %q", len(r.Media), r.FileName, r.Caption, len(doc), "the doc")
	}
	voice := []byte("OggS voice note")
	if _, err := e.m.Send(ctx, "inst1", ports.WAOutbound{To: contactJID,
		Media: &ports.WAMedia{Kind: ports.MediaAudio, Data: voice, MimeType: "audio/ogg; codecs=opus", PTT: true}}); err != nil {
		t.Fatalf("Send audio: %v", err)
	}
	if r := received(t, contact); !bytes.Equal(r.Media, voice) || !r.PTT {
		t.Errorf("got %d bytes with PTT %v, want %d bytes with PTT true", len(r.Media), r.PTT, len(voice))
	}
	loc := &ports.WALocation{Latitude: 52.52, Longitude: 13.405, Name: "Berlin", Address: "Mitte"}
	if _, err := e.m.Send(ctx, "inst1", ports.WAOutbound{To: contactJID, Location: loc}); err != nil {
		t.Fatalf("Send location: %v", err)
	}
	r := received(t, contact)
	if r.Location == nil || r.Location.Latitude != loc.Latitude || r.Location.Longitude != loc.Longitude || r.Location.Name != loc.Name {
		t.Errorf("got location %+v, want %+v", r.Location, loc)
	}
}

// TestConversationSurvivesRestartPostgres: Signal sessions saved through
// the session cache (one statement for a send's sessions, a decryption's
// inside its transaction) are what a restarted manager, its caches empty,
// reads back: after the restart the conversation goes on in the same
// sessions both ways, with no new session and no retry.
func TestConversationSurvivesRestartPostgres(t *testing.T) {
	url := testdb.Postgres(t)
	sim := newEnv(t).sim // its SQLite manager stays unused
	e := newEnvOn(t, sim, entstore.Options{URL: url})
	jid := e.link("inst1", ownPhone)
	contact := e.sim.Contact(contactPhone)
	in := func(text string) {
		t.Helper()
		if err := contact.SendText(context.Background(), ownPhone, text); err != nil {
			t.Fatalf("SendText: %v", err)
		}
		if got := e.events.next(t, "inst1", isKind(ports.WAMessage)).Message; got.Text != text {
			t.Fatalf("got %q, want %q", got.Text, text)
		}
	}
	out := func(text string) wasim.Received {
		t.Helper()
		if _, err := e.m.Send(context.Background(), "inst1", ports.WAOutbound{To: contactJID, Text: text}); err != nil {
			t.Fatalf("Send %q: %v", text, err)
		}
		r := received(t, contact)
		if r.Text != text {
			t.Fatalf("the contact got %q, want %q", r.Text, text)
		}
		return r
	}
	out("hello")
	for i := range 3 {
		in(fmt.Sprint("in ", i))
		if r := out(fmt.Sprint("out ", i)); r.PreKey {
			t.Fatalf("out %d: a new session, want the one the answer confirmed", i)
		}
	}
	e.restart() // the last write before it was a send's
	if err := e.m.Connect(context.Background(), "inst1", ports.ConnectOptions{JID: jid}); err != nil {
		t.Fatalf("Connect after restart: %v", err)
	}
	e.events.next(t, "inst1", isStatus(ports.StatusConnected, ""))
	if r := out("after"); r.PreKey {
		t.Error("the first send after the restart started a new session, want the stored one")
	}
	in("answer after")
	if n := contact.Duplicates(); n != 0 {
		t.Errorf("the contact dropped %d messages as seen before", n)
	}
}
