package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"image"
	"image/jpeg"
	"image/png"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/wagate/wagate/adapters/wasim"
)

// The message kinds of SPEC §6a, both ways, through the real whatsmeow
// client against the simulator: what the simulated phone decrypted (read
// from the simulator and over GET /sandbox/phones/{phone}/messages), the
// stored message and the realtime stream's events. On each database with
// the embedded queue, and on PostgreSQL with asynq.
func TestMessageKinds(t *testing.T) {
	sim := simulator(t, wasim.Options{ReceiptDelay: receiptDelay})
	for _, b := range []backend{sqlite, postgres, postgresRedis} {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			env := sandboxEnv(t, b, sim)
			env["WAGATE_MAX_MEDIA_BYTES"] = "300000"
			env["WAGATE_WEBHOOK_ALLOW_PRIVATE"] = "true" // the receiver is on loopback
			s := startOwned(t, b.name, env)
			a := s.register(t)
			inst := linkedInstance(t, s, a.Access, "kinds")
			_, key := s.createKey(t, a.Access, inst, map[string]any{"name": "sender"})
			k := &kindsEnv{mediaEnv: mediaEnv{s: s, sim: sim, a: a, inst: inst, key: key}, st: openStream(t, s, "", bearer(a.Access)), hook: newReceiver(t)}
			createWebhook(t, s, a.Access, inst, map[string]any{"url": k.hook.srv.URL, "events": []string{"message.received", "message.poll_vote"}})
			t.Run("send", k.sendKinds)
			t.Run("receive", k.receiveKinds)
			t.Run("refusals", k.kindRefusals)
		})
	}
}

type kindsEnv struct {
	mediaEnv
	st   *stream
	hook *receiver // a webhook for message.received and message.poll_vote
}

// Files with real signatures: an MP4, an animated WebP, and an OGG/Opus
// voice note of three seconds (pages whose granule positions end at
// 3 s of 48 kHz samples plus the pre-skip).
var (
	mp4Head      = "\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
	animatedWebP = "RIFF\x00\x10\x00\x00WEBPVP8X\x0a\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00"
)

func voiceNote() []byte {
	page := func(granule int64, body []byte) []byte {
		h := append([]byte("OggS\x00\x00"), make([]byte, 8)...)
		binary.LittleEndian.PutUint64(h[6:], uint64(granule))
		h = append(h, make([]byte, 12)...) // serial, sequence, checksum
		h = append(h, 1, byte(len(body)))
		return append(h, body...)
	}
	head := append([]byte("OpusHead\x01\x01"), 0x38, 0x01, 0x80, 0xbb, 0, 0, 0, 0, 0)
	out := page(0, head)
	out = append(out, page(0, []byte("OpusTags\x00\x00\x00\x00\x00\x00\x00\x00"))...)
	for i := int64(1); i <= 30; i++ {
		out = append(out, page(312+i*4800, bytes.Repeat([]byte{byte(i)}, int(20+i*5)))...)
	}
	return out
}

// realMP4 is an MP4 whose movie header says ms milliseconds and whose
// video track is w×h, with n bytes of (random) media data.
func realMP4(ms, w, h uint32, n int) []byte {
	box := func(kind string, body ...[]byte) []byte {
		b := bytes.Join(body, nil)
		return append(append(binary.BigEndian.AppendUint32(nil, uint32(8+len(b))), kind...), b...)
	}
	mvhd := make([]byte, 100)
	binary.BigEndian.PutUint32(mvhd[12:], 1000)
	binary.BigEndian.PutUint32(mvhd[16:], ms)
	tkhd := make([]byte, 84)
	binary.BigEndian.PutUint32(tkhd[76:], w<<16)
	binary.BigEndian.PutUint32(tkhd[80:], h<<16)
	out := box("ftyp", []byte("mp42\x00\x00\x00\x00mp42isom"))
	out = append(out, box("moov", box("mvhd", mvhd), box("trak", box("tkhd", tkhd)))...)
	return append(out, box("mdat", fileWith("", n))...)
}

// imageThumbnail sends a real PNG: the phone gets its size and a JPEG
// thumbnail that fits 72 pixels, which GET /sandbox/phones shows too.
func (k *kindsEnv) imageThumbnail(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 400, 300))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	var file bytes.Buffer
	if err := png.Encode(&file, img); err != nil {
		t.Fatal(err)
	}
	phone := newPhone()
	r := k.s.do(t, "POST", "/api/v1/messages/image", k.key, map[string]any{"to": phone, "media": map[string]any{"base64": b64(file.Bytes())}})
	wantStatus(t, r, http.StatusAccepted)
	got := received(t, k.sim, phone)
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(got.Thumbnail))
	if got.Width != 400 || got.Height != 300 || err != nil || cfg.Width != 72 || cfg.Height != 54 {
		t.Errorf("image: the phone got %d×%d and a thumbnail %d×%d (%v), want 400×300 and a 72×54 JPEG", got.Width, got.Height, cfg.Width, cfg.Height, err)
	}
	wantPhoneGot(t, k.s, k.a.Access, phone, k.inst, func(m map[string]any) bool {
		md, _ := m["media"].(map[string]any)
		th, _ := md["thumbnail"].(map[string]any)
		return str(m, "waMessageId") == got.ID && md["width"] == 400.0 && th["width"] == 72.0 && th["height"] == 54.0 && th["size"] == float64(len(got.Thumbnail))
	})
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// send posts a send and waits for the phone to receive it.
func (k *kindsEnv) send(t *testing.T, kind string, body map[string]any) (string, wasim.Received) {
	t.Helper()
	phone := newPhone()
	body["to"] = phone
	r := k.s.do(t, "POST", "/api/v1/messages/"+kind, k.key, body)
	wantStatus(t, r, http.StatusAccepted)
	if str(r.JSON, "type") != kind || str(r.JSON, "status") != "queued" {
		t.Errorf("%s: want a queued %s", r, kind)
	}
	got := received(t, k.sim, phone)
	if got.Type != kind {
		t.Errorf("the phone received a %q, want a %s", got.Type, kind)
	}
	k.st.waitFor(t, 0, kind+" read", messageStatusIs(k.inst, str(r.JSON, "id"), "read"))
	wantPhoneGot(t, k.s, k.a.Access, phone, k.inst, func(m map[string]any) bool {
		return str(m, "type") == kind && str(m, "waMessageId") == got.ID
	})
	return str(r.JSON, "id"), got
}

func (k *kindsEnv) sendKinds(t *testing.T) {
	video := realMP4(12_500, 640, 360, 50_000) // 12.5 s
	_, got := k.send(t, "video", map[string]any{"caption": "loop ✓", "gif": true, "media": map[string]any{"base64": b64(video)}})
	if !bytes.Equal(got.Media, video) || !got.GIF || got.Caption != "loop ✓" || got.MimeType != "video/mp4" {
		t.Errorf("video: the phone got %d bytes %q gif %v caption %q, want the MP4 as a GIF with its caption", len(got.Media), got.MimeType, got.GIF, got.Caption)
	}
	// The length and size come from the MP4's boxes; no thumbnail, as
	// wagate has no video decoder.
	if got.Seconds != 13 || got.Width != 640 || got.Height != 360 || got.Thumbnail != nil {
		t.Errorf("video: the phone got %d s, %d×%d, a %d-byte thumbnail; want 13 s, 640×360 and no thumbnail", got.Seconds, got.Width, got.Height, len(got.Thumbnail))
	}
	k.imageThumbnail(t)

	sticker := fileWith(animatedWebP, 4_000)
	_, got = k.send(t, "sticker", map[string]any{"media": map[string]any{"base64": b64(sticker), "mimeType": "image/webp"}})
	if !bytes.Equal(got.Media, sticker) || !got.Animated || got.MimeType != "image/webp" {
		t.Errorf("sticker: the phone got %d bytes %q animated %v, want the animated WebP", len(got.Media), got.MimeType, got.Animated)
	}

	ogg := voiceNote()
	_, got = k.send(t, "audio", map[string]any{"ptt": true, "media": map[string]any{"base64": b64(ogg)}})
	if !got.PTT || got.Seconds != 3 || len(got.Waveform) != 64 || slices.Max(got.Waveform) != 100 || !bytes.Equal(got.Media, ogg) {
		t.Errorf("voice note: the phone got ptt %v, %d s, waveform %v; want a 3 s voice note with 64 levels", got.PTT, got.Seconds, got.Waveform)
	}

	cards := []map[string]any{
		{"name": "Ada; Lovelace\nEVIL:1", "phones": []map[string]any{{"number": "+44 20 7946 0000", "type": "work"}}, "email": "ada@example.com", "organization": "Engines, Ltd"},
		{"name": "Bob", "phones": []map[string]any{{"number": "+1 555 0100"}, {"number": "+1 555 0101", "type": "home"}}},
	}
	_, got = k.send(t, "contact", map[string]any{"contacts": cards})
	if len(got.Contacts) != 2 || !strings.Contains(got.Contacts[0].VCard, `FN:Ada\; Lovelace\nEVIL:1`) ||
		strings.Contains(got.Contacts[0].VCard, "\nEVIL") || !strings.Contains(got.Contacts[1].VCard, "TEL;type=HOME;waid=15550101:+1 555 0101") {
		t.Errorf("contacts: the phone got %+v, want two escaped vCards", got.Contacts)
	}

	k.pollRoundTrip(t)
}

// pollRoundTrip sends a poll, has the contact vote twice (the second
// vote replaces the first) and reads the tallies.
func (k *kindsEnv) pollRoundTrip(t *testing.T) {
	opts := []string{"tea", "coffee", "water"}
	id, got := k.send(t, "poll", map[string]any{"question": "Drink?", "options": opts, "multipleAnswers": true})
	if got.Poll == nil || got.Poll.Question != "Drink?" || !slices.Equal(got.Poll.Options, opts) || !got.Poll.MultipleAnswers {
		t.Fatalf("poll: the phone got %+v, want the question and options", got.Poll)
	}
	from := "+" + digits(phoneOf(t, k, id))
	vote := "/api/v1/sandbox/instances/" + k.inst + "/vote"
	for _, sel := range [][]string{{"tea"}, {"coffee", "water"}} {
		mark := k.st.mark()
		wantStatus(t, k.s.do(t, "POST", vote, k.a.Access, map[string]any{"from": from, "messageId": id, "selected": sel}), http.StatusAccepted)
		ev := k.st.waitFor(t, mark, "message.poll_vote", func(e event) bool { return e.is(k.inst, "message.poll_vote") })
		if str(ev.Data, "messageId") != id || !strings.HasPrefix(str(ev.Data, "from"), digits(from)) || len(ev.Data["selected"].([]any)) != len(sel) {
			t.Errorf("message.poll_vote: got %v, want %s choosing %v", ev.Data, from, sel)
		}
		if h := k.hook.wait(t, "message.poll_vote"); str(obj(t, h.env, "data"), "messageId") != id {
			t.Errorf("the webhook's message.poll_vote: got %s, want the vote on %s", h.body, id)
		}
	}
	r := k.s.do(t, "GET", "/api/v1/messages/"+id+"/poll", k.key, nil)
	wantStatus(t, r, http.StatusOK)
	want := map[string]float64{"tea": 0, "coffee": 1, "water": 1}
	for _, o := range r.JSON["options"].([]any) {
		o := o.(map[string]any)
		if num(o, "votes") != want[str(o, "name")] {
			t.Errorf("tallies: got %v, want %v", r.JSON, want)
		}
	}
}

// phoneOf is the recipient number of a sent message.
func phoneOf(t *testing.T, k *kindsEnv, id string) string {
	t.Helper()
	m := k.s.do(t, "GET", "/api/v1/messages/"+id, k.key, nil)
	wantStatus(t, m, http.StatusOK)
	return strings.Split(str(m.JSON, "to"), "@")[0]
}
