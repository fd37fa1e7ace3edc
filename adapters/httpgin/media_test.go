package httpgin

import (
	"bytes"
	"strings"
	"testing"

	"github.com/wagate/wagate/ports"
)

func TestIsMediaSend(t *testing.T) {
	for route, want := range map[string]bool{
		"/api/v1/messages/image":                  true,
		"/api/v1/instances/:id/messages/document": true,
		"/api/v1/instances/:id/messages/audio":    true,
		"/api/v1/messages/text":                   false,
		"/api/v1/messages/:messageId/media":       false,
		"":                                        false,
	} {
		if got := isMediaSend("POST", route); got != want {
			t.Errorf("isMediaSend(POST, %q): got %v, want %v", route, got, want)
		}
	}
	if isMediaSend("GET", "/api/v1/messages/image") {
		t.Errorf("isMediaSend(GET, …/image): got true, want false")
	}
}

func TestMediaBodyLimitFitsBase64(t *testing.T) {
	o := Options{MaxBodyBytes: 1 << 20, MaxMediaBytes: 10 << 20}
	if got, need := mediaBodyLimit(o), int64(10<<20)*4/3+4; got < need {
		t.Errorf("media body limit: got %d, want at least %d (10 MiB as base64)", got, need)
	}
}

func TestDecodeBase64(t *testing.T) {
	for in, want := range map[string]string{
		"aGVsbG8=":                        "hello",
		"aGVsbG8":                         "hello",
		"data:text/plain;base64,aGVsbG8=": "hello",
	} {
		got, err := decodeBase64(in)
		if err != nil || string(got) != want {
			t.Errorf("decodeBase64(%q): got %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := decodeBase64("not base64!"); err == nil {
		t.Errorf("decodeBase64 of garbage: got no error, want one")
	}
}

func TestContentDisposition(t *testing.T) {
	for _, tc := range []struct{ name, id, ct, want string }{
		{"report.pdf", "m1", "application/pdf", `attachment; filename=report.pdf`},
		{"Q3 ✓.pdf", "m1", "application/pdf", `attachment; filename*=utf-8''Q3%20%E2%9C%93.pdf`},
		{"", "m1", "image/png", `attachment; filename=m1.png`},
	} {
		if got := contentDisposition(tc.name, tc.id, tc.ct); got != tc.want {
			t.Errorf("contentDisposition(%q): got %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestReadMultipart(t *testing.T) {
	body := "--b\r\nContent-Disposition: form-data; name=\"to\"\r\n\r\n+15550001111\r\n" +
		"--b\r\nContent-Disposition: form-data; name=\"ptt\"\r\n\r\ntrue\r\n" +
		"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"v.ogg\"\r\nContent-Type: audio/ogg\r\n\r\nOggS-data\r\n--b--\r\n"
	req, file, err := readMultipart(strings.NewReader(body), "b", 100)
	if err != nil || req.To != "+15550001111" || req.PTT == nil || !*req.PTT || !bytes.Equal(file, []byte("OggS-data")) ||
		req.Media == nil || req.Media.FileName != "v.ogg" || req.Media.MimeType != "audio/ogg" {
		t.Fatalf("got %+v %q, %v; want the fields and the file", req, file, err)
	}
	if _, _, err := readMultipart(strings.NewReader(body), "b", 5); !ports.IsCode(err, ports.ETooLarge) {
		t.Errorf("a file over the limit: got %v, want too large", err)
	}
	bad := strings.Replace(body, `name="ptt"`, `name="zoom"`, 1)
	if _, _, err := readMultipart(strings.NewReader(bad), "b", 100); !ports.IsCode(err, ports.EInvalid) {
		t.Errorf("an unknown field: got %v, want invalid", err)
	}
	noFile := body[:strings.Index(body, "--b\r\nContent-Disposition: form-data; name=\"file\"")] + "--b--\r\n"
	if _, _, err := readMultipart(strings.NewReader(noFile), "b", 100); !ports.IsCode(err, ports.EInvalid) {
		t.Errorf("no file: got %v, want invalid", err)
	}
}

// The multipart form follows the JSON form's text rule and strictness.
func TestReadMultipartTextRule(t *testing.T) {
	part := func(name, v string) string {
		return "--b\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + v + "\r\n"
	}
	file := "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"\r\n\r\nJPEG\r\n--b--\r\n"
	for _, tc := range []struct{ name, body, field string }{
		{"NUL in caption", part("caption", "a\x00b") + file, "caption"},
		{"invalid UTF-8 in to", part("to", "+1555\xff") + file, "to"},
		{"duplicate field", part("to", "+15550001111") + part("to", "+15550002222") + file, "to"},
		{"second file", file[:len(file)-7] + "\r\n" + file, "file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := readMultipart(strings.NewReader(tc.body), "b", 100)
			e := ports.AsError(err)
			if e == nil || e.Code != ports.EInvalid || len(e.Fields) != 1 || e.Fields[0].Field != tc.field {
				t.Fatalf("got %v, want invalid on field %s", err, tc.field)
			}
		})
	}
}
