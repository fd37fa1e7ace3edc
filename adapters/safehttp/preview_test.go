package safehttp

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// jpeg is the start of a JPEG file: enough for a thumbnail's bytes.
var jpeg = []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9")

// previewSite serves the pages and images of the preview tests; /slow
// answers only once the client has gone.
func previewSite(t *testing.T) *receiver {
	t.Helper()
	pages := map[string]string{
		"/og": `<html><head><meta property="og:title" content="Launch &amp; more">
			<meta name="description" content="plain description">
			<meta property='og:description' content='The og description'>
			<meta property="og:image" content="/img/thumb.jpg"></head><body>x</body></html>`,
		"/plain":     `<html><head><title> A plain page </title><meta name="description" content="Just words"></head></html>`,
		"/untitled":  `<html><head><meta name="description" content="no title here"></head></html>`,
		"/bigthumb":  `<html><head><title>Big picture</title><meta property="og:image" content="/img/big.jpg"></head></html>`,
		"/pngthumb":  `<html><head><title>PNG picture</title><meta property="og:image" content="/img/thumb.png"></head></html>`,
		"/longtitle": `<html><head><title>` + strings.Repeat("é", 300) + `</title></head></html>`,
		"/huge":      `<html><head><title>Huge page</title></head><body>` + strings.Repeat("x", maxPreviewPage*2) + `</body></html>`,
	}
	return newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		switch p := r.URL.Path; {
		case pages[p] != "":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write([]byte(pages[p]))
		case p == "/img/thumb.jpg":
			w.Header().Set("Content-Type", "image/jpeg")
			_, _ = w.Write(jpeg)
		case p == "/img/big.jpg":
			w.Header().Set("Content-Type", "image/jpeg")
			_, _ = w.Write(bytes.Repeat([]byte{0xff}, maxPreviewThumbnail+1))
		case p == "/img/thumb.png":
			w.Header().Set("Content-Type", "image/png")
			_, _ = w.Write([]byte("\x89PNG\r\n\x1a\n"))
		case p == "/json":
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"title":"not a page"}`))
		case p == "/slow":
			<-r.Context().Done()
		default:
			http.NotFound(w, r)
		}
	})
}

func TestPreview(t *testing.T) {
	site := previewSite(t)
	p := NewPreviewer(Options{AllowPrivate: true})
	tests := []struct {
		path, title, desc string
		thumb             []byte
	}{
		{"/og", "Launch & more", "The og description", jpeg},
		{"/plain", "A plain page", "Just words", nil},
		{"/bigthumb", "Big picture", "", nil}, // thumbnail over 64 KiB: none
		{"/pngthumb", "PNG picture", "", nil}, // not a JPEG: none
		{"/huge", "Huge page", "", nil},       // read only up to its limit
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			got, err := p.Preview(t.Context(), site.URL+tc.path)
			if err != nil {
				t.Fatalf("preview: %v", err)
			}
			if got.URL != site.URL+tc.path || got.Title != tc.title || got.Description != tc.desc || !bytes.Equal(got.Thumbnail, tc.thumb) {
				t.Errorf("got %q %q %q with %d thumbnail bytes, want %q %q with %d", got.URL, got.Title, got.Description,
					len(got.Thumbnail), tc.title, tc.desc, len(tc.thumb))
			}
		})
	}
	got, err := p.Preview(t.Context(), site.URL+"/longtitle")
	if err != nil || utf8.RuneCountInString(got.Title) != maxPreviewTitle {
		t.Errorf("long title: got %d characters, %v; want it cut to %d", utf8.RuneCountInString(got.Title), err, maxPreviewTitle)
	}
}

func TestPreviewRefusals(t *testing.T) {
	site := previewSite(t)
	open := NewPreviewer(Options{AllowPrivate: true})
	for _, path := range []string{"/json", "/untitled", "/missing"} {
		if got, err := open.Preview(t.Context(), site.URL+path); err == nil {
			t.Errorf("%s: got %+v, want no preview", path, got)
		}
	}
	quick := NewPreviewer(Options{AllowPrivate: true, Timeout: 100 * time.Millisecond})
	if got, err := quick.Preview(t.Context(), site.URL+"/slow"); err == nil {
		t.Errorf("a page that never answers: got %+v, want an error once the time limit passed", got)
	}
	before := site.conns.Load()
	guarded := NewPreviewer(Options{})
	if got, err := guarded.Preview(t.Context(), site.URL+"/og"); err == nil {
		t.Errorf("loopback without the allow flag: got %+v, want refused", got)
	}
	if n := site.conns.Load() - before; n != 0 {
		t.Errorf("loopback without the allow flag: got %d connections, want none", n)
	}
}

func TestPreviewTimeoutCapped(t *testing.T) {
	p := NewPreviewer(Options{Timeout: time.Hour})
	if p.client.Timeout != previewTimeout {
		t.Errorf("got client timeout %v, want it capped at %v", p.client.Timeout, previewTimeout)
	}
}
