package wasim_test

import (
	"bytes"
	"testing"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"
)

func TestImageRoundTrip(t *testing.T) {
	sim := newSim(t, wasimOptions())
	c := pairQR(t, sim, newContainer(t), "15550700")
	img := bytes.Repeat([]byte("\x89PNG fake image bytes "), 500)

	up, err := c.Upload(ctxTimeout(t), img, whatsmeow.MediaImage)
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	_, err = c.SendMessage(ctxTimeout(t), types.NewJID("15550701", types.DefaultUserServer), &waE2E.Message{
		ImageMessage: &waE2E.ImageMessage{
			URL: proto.String(up.URL), DirectPath: proto.String(up.DirectPath), MediaKey: up.MediaKey,
			FileEncSHA256: up.FileEncSHA256, FileSHA256: up.FileSHA256, FileLength: proto.Uint64(up.FileLength),
			Mimetype: proto.String("image/png"), Caption: proto.String("look"),
		},
	})
	if err != nil {
		t.Fatalf("send image: %v", err)
	}
	got := recv(t, sim.Contact("15550701"))
	if !bytes.Equal(got.Media, img) || got.Caption != "look" || got.MimeType != "image/png" {
		t.Fatalf("got %d bytes, caption %q, mime %q; want %d bytes, %q, image/png", len(got.Media), got.Caption, got.MimeType, len(img), "look")
	}

	back := bytes.Repeat([]byte("another image "), 300)
	if err := sim.Contact("15550701").SendImage(ctxTimeout(t), "15550700", back, "image/jpeg", "reply"); err != nil {
		t.Fatalf("contact send image: %v", err)
	}
	msg := waitEvent[*events.Message](t, c)
	im := msg.Message.GetImageMessage()
	if im == nil || im.GetCaption() != "reply" {
		t.Fatalf("got message %v, want an image captioned %q", msg.Message, "reply")
	}
	data, err := c.Download(ctxTimeout(t), im)
	if err != nil {
		t.Fatalf("download: %v", err)
	}
	if !bytes.Equal(data, back) {
		t.Fatalf("got %d downloaded bytes, want %d identical", len(data), len(back))
	}
}
