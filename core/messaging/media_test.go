package messaging_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/wagate/wagate/core/coretest"
	"github.com/wagate/wagate/core/messaging"
	"github.com/wagate/wagate/ports"
)

var (
	png  = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00")
	opus = []byte("OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x12\x34\x56\x78\x00\x00\x00\x00\xa1\xb2\xc3\xd4\x01\x13OpusHead\x01\x01")
	pdf  = []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")
)

// fakeFetcher serves one URL's body, or fails with err.
type fakeFetcher struct {
	url  string
	body []byte
	err  error
	max  int64 // the limit it was asked for
}

func (f *fakeFetcher) FetchMedia(_ context.Context, url string, max int64) ([]byte, error) {
	f.max = max
	if f.err != nil {
		return nil, f.err
	}
	if url != f.url {
		return nil, ports.InvalidFields(ports.FieldError{Field: "media.url", Message: "not found"})
	}
	return f.body, nil
}

// newMediaEnv is newEnv with a fetcher and a 1 KiB file limit.
func newMediaEnv(t *testing.T, f ports.MediaFetcher) *env {
	t.Helper()
	e := newEnv(t, ports.StatusConnected)
	e.svc = messaging.New(messaging.Deps{
		Tx: e.store, Stores: e.store.Stores(), Outbox: e.store.Outbox(),
		Clock: e.clock, IDs: &coretest.IDs{}, Queue: e.queue, WhatsApp: e.wa, Events: coretest.NewEventLog(e.clock, nil), Fetcher: f,
	}, messaging.Config{MaxAge: time.Hour, MaxMediaBytes: 1024})
	return e
}

func TestSendMediaReachesWhatsApp(t *testing.T) {
	e := newMediaEnv(t, nil)
	ctx := t.Context()
	img, err := e.svc.SendImage(ctx, e.p, e.inst.ID, messaging.SendMediaCmd{To: "+15550001111", Caption: "look ✓", Media: messaging.MediaInput{Data: png, MimeType: "image/png"}})
	if err != nil || img.Type != ports.MessageImage || img.Caption != "look ✓" || img.Status != ports.MsgQueued {
		t.Fatalf("send image: got %+v, %v; want a queued image with its caption", img, err)
	}
	doc, err := e.svc.SendDocument(ctx, e.p, e.inst.ID, messaging.SendMediaCmd{To: "+15550001111", Media: messaging.MediaInput{Data: pdf, FileName: "../q3 report.pdf"}})
	if err != nil {
		t.Fatalf("send document: %v", err)
	}
	voice, err := e.svc.SendAudio(ctx, e.p, e.inst.ID, messaging.SendMediaCmd{To: "+15550001111", PTT: true, Media: messaging.MediaInput{Data: opus}})
	if err != nil {
		t.Fatalf("send audio: %v", err)
	}
	// The image's job sends all three: the others counted on it.
	for _, id := range []ports.MessageID{doc.ID, voice.ID} {
		if _, ok := e.queue.Job(string(id)); ok {
			t.Errorf("%s has a job of its own, want none (the image's sends it)", id)
		}
	}
	if err := e.run(t, img.ID); err != nil {
		t.Fatalf("run %s: %v", img.ID, err)
	}
	if len(e.wa.Sent) != 3 {
		t.Fatalf("got %d sends, want 3", len(e.wa.Sent))
	}
	want := []ports.WAMedia{
		{Kind: ports.MediaImage, Data: png, MimeType: "image/png"},
		{Kind: ports.MediaDocument, Data: pdf, MimeType: "application/pdf", FileName: "q3 report.pdf"},
		{Kind: ports.MediaAudio, Data: opus, MimeType: "audio/ogg; codecs=opus", PTT: true},
	}
	for i, out := range e.wa.Sent {
		got := out.Media
		if got == nil || got.Kind != want[i].Kind || !bytes.Equal(got.Data, want[i].Data) || got.MimeType != want[i].MimeType ||
			got.FileName != want[i].FileName || got.PTT != want[i].PTT || out.Text != "" {
			t.Errorf("send %d: got %+v, want media %+v", i, got, want[i])
		}
	}
	if e.wa.Sent[0].Caption != "look ✓" {
		t.Errorf("image caption: got %q, want %q", e.wa.Sent[0].Caption, "look ✓")
	}
	md, err := e.svc.GetMedia(ctx, e.p, e.inst.ID, doc.ID)
	if err != nil || !bytes.Equal(md.Data, pdf) || md.Size != int64(len(pdf)) || len(md.SHA256) != 32 {
		t.Errorf("get media: got %d bytes (size %d), %v; want the PDF", len(md.Data), md.Size, err)
	}
}

func TestSendMediaValidation(t *testing.T) {
	data := messaging.MediaInput{Data: png}
	tests := []struct {
		name   string
		kind   ports.WAMediaKind
		cmd    messaging.SendMediaCmd
		fields string
	}{
		{"no media", ports.MediaImage, messaging.SendMediaCmd{To: "+15550001111"}, "media"},
		{"url and data", ports.MediaImage, messaging.SendMediaCmd{To: "+15550001111", Media: messaging.MediaInput{Data: png, URL: "https://x.test/a.png"}}, "media"},
		{"not http", ports.MediaImage, messaging.SendMediaCmd{To: "+15550001111", Media: messaging.MediaInput{URL: "file:///etc/passwd"}}, "media.url"},
		{"caption over 1024", ports.MediaImage, messaging.SendMediaCmd{To: "+15550001111", Caption: strings.Repeat("é", 1025), Media: data}, "caption"},
		{"caption on audio", ports.MediaAudio, messaging.SendMediaCmd{To: "+15550001111", Caption: "hi", Media: messaging.MediaInput{Data: opus}}, "caption"},
		{"file name over 255", ports.MediaDocument, messaging.SendMediaCmd{To: "+15550001111", FileName: strings.Repeat("a", 256), Media: data}, "filename"},
		{"bad to and no media", ports.MediaDocument, messaging.SendMediaCmd{To: "x"}, "to,media"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newMediaEnv(t, nil)
			_, err := send(t, e, tc.kind, tc.cmd)
			var got []string
			if pe := ports.AsError(err); pe != nil {
				for _, f := range pe.Fields {
					got = append(got, f.Field)
				}
			}
			if strings.Join(got, ",") != tc.fields {
				t.Errorf("got %v (fields %v), want invalid fields %s", err, got, tc.fields)
			}
			if e.queue.Len() != 0 {
				t.Errorf("got %d jobs, want none", e.queue.Len())
			}
		})
	}
}

func send(t *testing.T, e *env, kind ports.WAMediaKind, cmd messaging.SendMediaCmd) (ports.Message, error) {
	switch kind {
	case ports.MediaImage:
		return e.svc.SendImage(t.Context(), e.p, e.inst.ID, cmd)
	case ports.MediaAudio:
		return e.svc.SendAudio(t.Context(), e.p, e.inst.ID, cmd)
	}
	return e.svc.SendDocument(t.Context(), e.p, e.inst.ID, cmd)
}

func TestSendMediaRefusals(t *testing.T) {
	refused := ports.InvalidFields(ports.FieldError{Field: "media.url", Message: "refused"})
	big := append(append([]byte{}, png...), make([]byte, 1024)...)
	tests := []struct {
		name   string
		kind   ports.WAMediaKind
		fetch  *fakeFetcher
		media  messaging.MediaInput
		code   ports.ErrorCode
		reason string
	}{
		{"over the limit", ports.MediaImage, nil, messaging.MediaInput{Data: big}, ports.ETooLarge, "payload_too_large"},
		{"fetched over the limit", ports.MediaImage, &fakeFetcher{url: "https://x.test/a", body: big}, messaging.MediaInput{URL: "https://x.test/a"}, ports.ETooLarge, "payload_too_large"},
		{"the fetcher refuses", ports.MediaImage, &fakeFetcher{err: refused}, messaging.MediaInput{URL: "http://127.0.0.1/a"}, ports.EInvalid, ""},
		{"no fetcher", ports.MediaImage, nil, messaging.MediaInput{URL: "https://x.test/a"}, ports.EInvalid, ""},
		{"PNG as audio", ports.MediaAudio, nil, messaging.MediaInput{Data: png, MimeType: "audio/ogg"}, ports.EUnsupported, "unsupported_media_type"},
		{"PDF as an image", ports.MediaImage, nil, messaging.MediaInput{Data: pdf}, ports.EUnsupported, "unsupported_media_type"},
		{"EXE as a document", ports.MediaDocument, nil, messaging.MediaInput{Data: []byte("MZ\x90\x00\x03\x00\x00\x00")}, ports.EUnsupported, "unsupported_media_type"},
		{"PNG declared a PDF", ports.MediaDocument, nil, messaging.MediaInput{Data: png, MimeType: "application/pdf"}, ports.EUnsupported, "unsupported_media_type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var f ports.MediaFetcher
			if tc.fetch != nil {
				f = tc.fetch
			}
			e := newMediaEnv(t, f)
			_, err := send(t, e, tc.kind, messaging.SendMediaCmd{To: "+15550001111", Media: tc.media})
			pe := ports.AsError(err)
			if pe == nil || pe.Code != tc.code || pe.Reason != tc.reason {
				t.Fatalf("got %v, want %s %s", err, tc.code, tc.reason)
			}
			if tc.code == ports.EInvalid && (len(pe.Fields) != 1 || pe.Fields[0].Field != "media.url") {
				t.Errorf("got fields %v, want media.url", pe.Fields)
			}
			if tc.fetch != nil && tc.fetch.max != 1024 {
				t.Errorf("fetch limit: got %d, want 1024", tc.fetch.max)
			}
		})
	}
}

func TestSendMediaFromURL(t *testing.T) {
	f := &fakeFetcher{url: "https://cdn.test/cat.png", body: png}
	e := newMediaEnv(t, f)
	m, err := e.svc.SendImage(t.Context(), e.p, e.inst.ID, messaging.SendMediaCmd{To: "+15550001111", Media: messaging.MediaInput{URL: f.url}})
	if err != nil {
		t.Fatalf("send image by URL: %v", err)
	}
	if err := e.run(t, m.ID); err != nil {
		t.Fatal(err)
	}
	if got := e.wa.Sent[0].Media; got == nil || !bytes.Equal(got.Data, png) {
		t.Errorf("sent: got %+v, want the fetched PNG", got)
	}
}

func TestInboundMediaStored(t *testing.T) {
	e := newMediaEnv(t, nil)
	e.svc.HandleEvent(ports.WAEvent{Subscription: e.p.SubscriptionID, Instance: e.inst.ID, Kind: ports.WAMessage, At: e.clock.Now(), Message: &ports.WAInbound{
		WAMessageID: "3EB0IMG", Chat: "15550002222@s.whatsapp.net", From: "15550002222@s.whatsapp.net", Caption: "from me",
		Media: &ports.WAMedia{Kind: ports.MediaImage, Data: png, MimeType: "image/png"},
	}})
	m, err := e.store.Stores().Messages.FindMessageByWAID(t.Context(), e.p.SubscriptionID, e.inst.ID, "3EB0IMG")
	if err != nil || m.Type != ports.MessageImage || m.Caption != "from me" || m.Direction != ports.DirectionInbound {
		t.Fatalf("inbound image: got %+v, %v; want it stored with its caption", m, err)
	}
	md, err := e.svc.GetMedia(t.Context(), e.p, e.inst.ID, m.ID)
	if err != nil || !bytes.Equal(md.Data, png) || md.MimeType != "image/png" {
		t.Errorf("get media: got %q %d bytes, %v; want the PNG", md.MimeType, len(md.Data), err)
	}
	text := e.send(t, "+15550001111")
	if _, err := e.svc.GetMedia(t.Context(), e.p, e.inst.ID, text.ID); !ports.IsCode(err, ports.ENotFound) {
		t.Errorf("media of a text message: got %v, want not found", err)
	}
	key := ports.Principal{Kind: ports.PrincipalAPIKey, SubscriptionID: e.p.SubscriptionID, InstanceID: e.inst.ID, Scopes: []ports.Scope{ports.ScopeMessagesSend}}
	if _, err := e.svc.GetMedia(t.Context(), key, e.inst.ID, m.ID); !ports.IsCode(err, ports.EForbidden) {
		t.Errorf("a key without messages:read: got %v, want forbidden", err)
	}
}
