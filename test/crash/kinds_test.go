package crash

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/png"
	"strings"

	"github.com/wagate/wagate/adapters/wasim"
)

// The single sends of the crash test are a mix of every kind that goes
// through the outbox (issue 13): text, image, video, voice note, sticker,
// document, location, contact card and poll, so that a kill between a
// media upload or a poll's secret and its record is as safe as a text's.
// Reactions, edits and deletions are synchronous calls answered with
// the result (no outbox row, nothing to resume), so they are not in it.

// crashKinds are the kinds, in turn by recipient.
var crashKinds = []string{"text", "image", "video", "audio", "sticker", "document", "location", "contact", "poll"}

// kindOf is the kind the i-th recipient gets.
func kindOf(i int) string { return crashKinds[i%len(crashKinds)] }

var (
	crashPNG = func() []byte {
		img := image.NewNRGBA(image.Rect(0, 0, 64, 48))
		for i := range img.Pix {
			img.Pix[i] = byte(i * 13)
		}
		var b bytes.Buffer
		_ = png.Encode(&b, img)
		return b.Bytes()
	}()
	crashMP4  = fileOf("\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom", 6_000)
	crashOGG  = fileOf("OggS", 3_000)
	crashWebP = fileOf("RIFF\x00\x10\x00\x00WEBPVP8 ", 2_000)
	crashPDF  = fileOf("%PDF-1.7\n", 4_000)
)

// fileOf is head followed by varied bytes up to n.
func fileOf(head string, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*31 ^ i>>7)
	}
	copy(b, head)
	return b
}

// kindBody is the send of a kind to `to`, labelled so that the phone's
// copy shows which recipient it was for.
func kindBody(kind, to, label string) map[string]any {
	media := func(mime string, file []byte) map[string]any {
		return map[string]any{"base64": base64.StdEncoding.EncodeToString(file), "mimeType": mime}
	}
	body := map[string]any{"to": to}
	switch kind {
	case "text":
		body["text"] = label
	case "image":
		body["caption"], body["media"] = label, media("image/png", crashPNG)
	case "video":
		body["caption"], body["media"] = label, media("video/mp4", crashMP4)
	case "audio":
		body["ptt"], body["media"] = true, media("audio/ogg; codecs=opus", crashOGG)
	case "sticker":
		body["media"] = media("image/webp", crashWebP)
	case "document":
		md := media("application/pdf", crashPDF)
		md["filename"] = "crash.pdf"
		body["caption"], body["media"] = label, md
	case "location":
		body["latitude"], body["longitude"], body["name"] = 52.52, 13.405, label
	case "contact":
		body["contacts"] = []map[string]any{{"name": label, "phones": []map[string]any{{"number": "+15550100"}}}}
	case "poll":
		body["question"], body["options"] = label, []string{"yes", "no"}
	}
	return body
}

// signature is what a phone's copy says of its kind and label (the
// file's size for the kinds without a caption); wantSignature is the same
// for what was sent.
func signature(r wasim.Received) string {
	label := r.Text
	switch {
	case r.Type == "audio" || r.Type == "sticker":
		label = fmt.Sprint(len(r.Media))
	case r.Caption != "":
		label = r.Caption
	case r.Location != nil:
		label = r.Location.Name
	case len(r.Contacts) > 0:
		label = r.Contacts[0].Name
	case r.Poll != nil:
		label = r.Poll.Question
	}
	return r.Type + ":" + label
}

func wantSignature(kind, label string) string {
	switch kind {
	case "audio":
		label = fmt.Sprint(len(crashOGG))
	case "sticker":
		label = fmt.Sprint(len(crashWebP))
	}
	return kind + ":" + label
}

// kindsSent counts the batch's recipients by kind, for the log.
func kindsSent(n int) string {
	var parts []string
	for k, kind := range crashKinds {
		c := n / len(crashKinds)
		if k < n%len(crashKinds) {
			c++
		}
		parts = append(parts, fmt.Sprintf("%d %s", c, kind))
	}
	return strings.Join(parts, ", ")
}
