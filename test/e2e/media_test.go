package e2e

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wagate/wagate/adapters/wasim"
)

// Files with real signatures, padded with random bytes so that each test
// run sends content no other run sent.
func fileWith(head string, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rand.N(256))
	}
	return append([]byte(head), b...)
}

var (
	pngHead  = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
	jpegHead = "\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
	opusHead = "OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x12\x34\x56\x78\x00\x00\x00\x00\xa1\xb2\xc3\xd4\x01\x13OpusHead\x01\x01\x38\x01"
	pdfHead  = "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
	exeHead  = "MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
)

// Media messages (SPEC §6): images, documents and voice notes reach the
// simulated contact byte for byte, from base64, multipart and URL media;
// the limits and type rules hold; an inbound image is downloadable. On each
// database with the embedded queue, and on PostgreSQL with asynq.
func TestMediaMessages(t *testing.T) {
	sim := simulator(t, wasim.Options{ReceiptDelay: receiptDelay})
	for _, b := range []backend{sqlite, postgres, postgresRedis} {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			mediaMessages(t, b, sim)
		})
	}
	t.Run("url guard", func(t *testing.T) {
		t.Parallel()
		mediaURLGuard(t, sim)
	})
}

// mediaEnv is a sandbox server with the SSRF guard lifted, so that URL
// media may come from a loopback test server.
type mediaEnv struct {
	s    *ownedServer
	sim  *wasim.Server
	a    account
	inst string
	key  string
}

func mediaMessages(t *testing.T, b backend, sim *wasim.Server) {
	env := sandboxEnv(t, b, sim)
	env["WAGATE_WEBHOOK_ALLOW_PRIVATE"] = "true"
	s := startOwned(t, b.name, env)
	a := s.register(t)
	inst := linkedInstance(t, s, a.Access, "media")
	_, key := s.createKey(t, a.Access, inst, map[string]any{"name": "sender"})
	e := &mediaEnv{s: s, sim: sim, a: a, inst: inst, key: key}

	e.imageBase64(t)
	e.documentMultipart(t)
	e.voiceNote(t)
	e.imageFromURL(t)
	e.idempotentImage(t)
	e.refusals(t)
	e.inboundImage(t)
}

func newPhone() string { return fmt.Sprintf("+1555%07d", rand.N(10_000_000)) }

// received waits for the contact's next message.
func received(t *testing.T, sim *wasim.Server, phone string) wasim.Received {
	t.Helper()
	select {
	case got := <-sim.Contact(phone).Messages():
		return got
	case <-time.After(flowWait):
		t.Fatalf("the contact %s received nothing", phone)
	}
	return wasim.Received{}
}

func (e *mediaEnv) imageBase64(t *testing.T) {
	img := fileWith(pngHead, 200_000)
	phone := newPhone()
	r := e.s.do(t, "POST", "/api/v1/messages/image", e.key, map[string]any{
		"to": phone, "caption": "the plan ✓", "media": map[string]any{"base64": base64.StdEncoding.EncodeToString(img), "mimeType": "image/png"},
	})
	wantStatus(t, r, http.StatusAccepted)
	if str(r.JSON, "type") != "image" || str(r.JSON, "status") != "queued" {
		t.Errorf("%s: want a queued image", r)
	}
	got := received(t, e.sim, phone)
	if !bytes.Equal(got.Media, img) || got.Caption != "the plan ✓" || got.MimeType != "image/png" {
		t.Errorf("the contact received %d bytes %q caption %q, want the %d-byte PNG with its caption", len(got.Media), got.MimeType, got.Caption, len(img))
	}
	// The sent file is downloadable as sent.
	m := e.s.do(t, "GET", "/api/v1/messages/"+str(r.JSON, "id")+"/media", e.key, nil)
	wantStatus(t, m, http.StatusOK)
	if !bytes.Equal(m.Body, img) || m.Header.Get("Content-Type") != "image/png" || !strings.HasPrefix(m.Header.Get("Content-Disposition"), "attachment") {
		t.Errorf("GET media: got %d bytes, %q, %q; want the PNG as an attachment", len(m.Body), m.Header.Get("Content-Type"), m.Header.Get("Content-Disposition"))
	}
	msg := e.s.do(t, "GET", "/api/v1/messages/"+str(r.JSON, "id"), e.key, nil)
	if str(msg.JSON, "caption") != "the plan ✓" || str(msg.JSON, "type") != "image" {
		t.Errorf("GET message: got %v, want the image with its caption", msg.JSON)
	}
}

// multipartBody builds a multipart/form-data body: fields, then the file.
func multipartBody(t *testing.T, fields map[string]string, fileName, fileType string, file []byte) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := w.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	h := make(map[string][]string)
	h["Content-Disposition"] = []string{fmt.Sprintf(`form-data; name="file"; filename=%q`, fileName)}
	h["Content-Type"] = []string{fileType}
	part, err := w.CreatePart(h)
	if err != nil {
		t.Fatal(err)
	}
	part.Write(file)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), w.FormDataContentType()
}

func (e *mediaEnv) postMultipart(t *testing.T, path, token string, fields map[string]string, fileName, fileType string, file []byte) *response {
	t.Helper()
	body, ct := multipartBody(t, fields, fileName, fileType, file)
	h := bearer(token)
	h.Set("Content-Type", ct)
	return e.s.doWith(t, "POST", path, h, body)
}

func (e *mediaEnv) documentMultipart(t *testing.T) {
	doc := fileWith(pdfHead, 300_000)
	phone := newPhone()
	// The JWT form; the filename field wins over the part's own name.
	r := e.postMultipart(t, "/api/v1/instances/"+e.inst+"/messages/document", e.a.Access,
		map[string]string{"to": phone, "caption": "Q3", "filename": "Q3 report ✓.pdf"}, "upload.bin", "application/octet-stream", doc)
	wantStatus(t, r, http.StatusAccepted)
	got := received(t, e.sim, phone)
	if !bytes.Equal(got.Media, doc) || got.FileName != "Q3 report ✓.pdf" || got.Caption != "Q3" || got.MimeType != "application/pdf" {
		t.Errorf("the contact received %d bytes %q named %q caption %q, want the %d-byte PDF named Q3 report ✓.pdf",
			len(got.Media), got.MimeType, got.FileName, got.Caption, len(doc))
	}
	m := e.s.do(t, "GET", "/api/v1/instances/"+e.inst+"/messages/"+str(r.JSON, "id")+"/media", e.a.Access, nil)
	wantStatus(t, m, http.StatusOK)
	if cd := m.Header.Get("Content-Disposition"); !strings.Contains(cd, "filename*=utf-8''Q3%20report%20%E2%9C%93.pdf") {
		t.Errorf("Content-Disposition: got %q, want the encoded file name", cd)
	}
}

func (e *mediaEnv) voiceNote(t *testing.T) {
	voice := fileWith(opusHead, 20_000)
	phone := newPhone()
	r := e.s.do(t, "POST", "/api/v1/messages/audio", e.key, map[string]any{
		"to": phone, "ptt": true, "media": map[string]any{"base64": base64.StdEncoding.EncodeToString(voice)},
	})
	wantStatus(t, r, http.StatusAccepted)
	got := received(t, e.sim, phone)
	if !bytes.Equal(got.Media, voice) || !got.PTT || !strings.HasPrefix(got.MimeType, "audio/ogg") {
		t.Errorf("the contact received %d bytes %q ptt %v, want the voice note", len(got.Media), got.MimeType, got.PTT)
	}
}

func (e *mediaEnv) imageFromURL(t *testing.T) {
	img := fileWith(jpegHead, 50_000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/cat.jpg" {
			http.Redirect(w, r, "/cat.jpg", http.StatusFound)
			return
		}
		w.Write(img)
	}))
	t.Cleanup(srv.Close)
	phone := newPhone()
	r := e.s.do(t, "POST", "/api/v1/messages/image", e.key, map[string]any{"to": phone, "media": map[string]any{"url": srv.URL + "/cat.jpg"}})
	wantStatus(t, r, http.StatusAccepted)
	if got := received(t, e.sim, phone); !bytes.Equal(got.Media, img) || got.MimeType != "image/jpeg" {
		t.Errorf("the contact received %d bytes %q, want the fetched %d-byte JPEG", len(got.Media), got.MimeType, len(img))
	}
	// A redirect is not followed.
	wantFieldError(t, e.s.do(t, "POST", "/api/v1/messages/image", e.key, map[string]any{"to": phone, "media": map[string]any{"url": srv.URL + "/moved"}}), "media.url")
}

func (e *mediaEnv) idempotentImage(t *testing.T) {
	img := fileWith(pngHead, 1000)
	body, ct := multipartBody(t, map[string]string{"to": newPhone()}, "a.png", "image/png", img)
	h := bearer(e.key)
	h.Set("Content-Type", ct)
	h.Set("Idempotency-Key", unique("media-key"))
	first := e.s.doWith(t, "POST", "/api/v1/messages/image", h, body)
	wantStatus(t, first, http.StatusAccepted)
	again := e.s.doWith(t, "POST", "/api/v1/messages/image", h, body)
	wantStatus(t, again, http.StatusAccepted)
	if again.Header.Get("Idempotent-Replayed") != "true" || str(again.JSON, "id") != str(first.JSON, "id") {
		t.Errorf("the same key and body: got %s (replayed %q), want the first answer replayed", again, again.Header.Get("Idempotent-Replayed"))
	}
	other, _ := multipartBody(t, map[string]string{"to": newPhone()}, "a.png", "image/png", img)
	wantProblem(t, e.s.doWith(t, "POST", "/api/v1/messages/image", h, other), http.StatusUnprocessableEntity, "idempotency_key_reused")
}

func (e *mediaEnv) refusals(t *testing.T) {
	to := newPhone()
	b64 := func(b []byte) map[string]any { return map[string]any{"base64": base64.StdEncoding.EncodeToString(b)} }
	big := fileWith(pngHead, 11<<20)
	wantProblem(t, e.s.do(t, "POST", "/api/v1/messages/image", e.key, map[string]any{"to": to, "media": b64(big)}),
		http.StatusRequestEntityTooLarge, "payload_too_large")
	wantProblem(t, e.postMultipart(t, "/api/v1/messages/document", e.key, map[string]string{"to": to}, "big.png", "image/png", big),
		http.StatusRequestEntityTooLarge, "payload_too_large")
	png := fileWith(pngHead, 100)
	wantProblem(t, e.s.do(t, "POST", "/api/v1/messages/audio", e.key, map[string]any{"to": to, "media": map[string]any{
		"base64": base64.StdEncoding.EncodeToString(png), "mimeType": "audio/ogg"}}), http.StatusUnsupportedMediaType, "unsupported_media_type")
	wantProblem(t, e.postMultipart(t, "/api/v1/messages/document", e.key, map[string]string{"to": to}, "setup.pdf", "application/pdf", fileWith(exeHead, 100)),
		http.StatusUnsupportedMediaType, "unsupported_media_type")
	wantProblem(t, e.s.do(t, "POST", "/api/v1/messages/image", e.key, map[string]any{"to": to, "media": b64(fileWith(pdfHead, 10))}),
		http.StatusUnsupportedMediaType, "unsupported_media_type")
	for _, tc := range []struct {
		path, field string
		body        any
	}{
		{"image", "media", map[string]any{"to": to}},
		{"image", "media", map[string]any{"to": to, "media": map[string]any{"url": "https://example.com/a.png", "base64": "AAAA"}}},
		{"image", "media.base64", map[string]any{"to": to, "media": map[string]any{"base64": "not base64!"}}},
		{"image", "caption", map[string]any{"to": to, "caption": strings.Repeat("c", 1025), "media": b64(png)}},
		{"image", "filename", map[string]any{"to": to, "filename": "a.png", "media": b64(png)}},
		{"audio", "caption", map[string]any{"to": to, "caption": "hi", "media": b64(png)}},
		{"document", "filename", map[string]any{"to": to, "filename": strings.Repeat("f", 256), "media": b64(png)}},
		{"document", "to", map[string]any{"to": "12ab", "media": b64(png)}},
	} {
		wantFieldError(t, e.s.do(t, "POST", "/api/v1/messages/"+tc.path, e.key, tc.body), tc.field)
	}
	text := e.s.do(t, "POST", "/api/v1/messages/text", e.key, map[string]any{"to": to, "text": "no file"})
	wantStatus(t, text, http.StatusAccepted)
	wantProblem(t, e.s.do(t, "GET", "/api/v1/messages/"+str(text.JSON, "id")+"/media", e.key, nil), http.StatusNotFound, "not_found")
	// Other routes keep their 1 MiB limit.
	wantProblem(t, e.s.do(t, "POST", "/api/v1/messages/text", e.key, map[string]any{"to": to, "text": strings.Repeat("x", 2<<20)}),
		http.StatusRequestEntityTooLarge, "payload_too_large")
}

// inboundImage: a contact sends an image; it is stored, emitted and
// downloadable byte for byte.
func (e *mediaEnv) inboundImage(t *testing.T) {
	st := openStream(t, e.s, "", bearer(e.a.Access))
	instPhone := str(e.s.do(t, "GET", "/api/v1/instances/"+e.inst, e.a.Access, nil).JSON, "phoneNumber")
	img := fileWith(jpegHead, 80_000)
	if err := e.sim.Contact(newPhone()).SendImage(t.Context(), instPhone, img, "image/jpeg", "from the beach"); err != nil {
		t.Fatalf("the contact sends an image: %v", err)
	}
	ev := st.waitFor(t, 0, "message.received image", func(ev event) bool {
		return ev.is(e.inst, "message.received") && str(ev.Data, "type") == "image"
	})
	if str(ev.Data, "caption") != "from the beach" || str(ev.Data, "direction") != "inbound" {
		t.Errorf("message.received: got %v, want the inbound image with its caption", ev.Data)
	}
	m := e.s.do(t, "GET", "/api/v1/messages/"+str(ev.Data, "id")+"/media", e.key, nil)
	wantStatus(t, m, http.StatusOK)
	if !bytes.Equal(m.Body, img) || m.Header.Get("Content-Type") != "image/jpeg" {
		t.Errorf("GET media of the inbound image: got %d bytes %q, want the %d-byte JPEG", len(m.Body), m.Header.Get("Content-Type"), len(img))
	}
}

// mediaURLGuard: without WAGATE_WEBHOOK_ALLOW_PRIVATE, URL media on a
// loopback address is refused, and the server is never asked.
func mediaURLGuard(t *testing.T, sim *wasim.Server) {
	s := startOwned(t, "sqlite", sandboxEnv(t, sqlite, sim))
	a := s.register(t)
	inst := linkedInstance(t, s, a.Access, "guarded")
	asked := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked <- struct{}{}
		w.Write(fileWith(pngHead, 10))
	}))
	t.Cleanup(srv.Close)
	r := s.do(t, "POST", "/api/v1/instances/"+inst+"/messages/image", a.Access, map[string]any{
		"to": newPhone(), "media": map[string]any{"url": srv.URL + "/a.png"},
	})
	wantFieldError(t, r, "media.url")
	if strings.Contains(r.String(), "127.0.0.1") {
		t.Errorf("%s: the refusal names the address; want a generic message", r)
	}
	select {
	case <-asked:
		t.Errorf("the loopback server was asked for the file")
	default:
	}
}
