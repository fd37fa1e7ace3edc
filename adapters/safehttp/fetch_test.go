package safehttp

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/wagate/wagate/ports"
)

func TestFetchMedia(t *testing.T) {
	file := bytes.Repeat([]byte("x"), 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/file":
			w.Write(file)
		case "/moved":
			http.Redirect(w, r, "/file", http.StatusFound)
		case "/chunked": // no Content-Length: the cap must hold while reading
			w.(http.Flusher).Flush()
			w.Write(file)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	open := NewMediaFetcher(Options{AllowPrivate: true})
	guarded := NewMediaFetcher(Options{})

	got, err := open.FetchMedia(t.Context(), srv.URL+"/file", 100)
	if err != nil || !bytes.Equal(got, file) {
		t.Fatalf("fetch: got %d bytes, %v; want the 100-byte file", len(got), err)
	}
	tests := []struct {
		name string
		f    *MediaFetcher
		path string
		max  int64
		code ports.ErrorCode
	}{
		{"loopback refused by the guard", guarded, "/file", 100, ports.EInvalid},
		{"a redirect", open, "/moved", 100, ports.EInvalid},
		{"a 404", open, "/missing", 100, ports.EInvalid},
		{"declared over the limit", open, "/file", 99, ports.ETooLarge},
		{"streamed over the limit", open, "/chunked", 99, ports.ETooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.f.FetchMedia(t.Context(), srv.URL+tc.path, tc.max)
			pe := ports.AsError(err)
			if pe == nil || pe.Code != tc.code {
				t.Fatalf("got %v, want %s", err, tc.code)
			}
			if tc.code == ports.EInvalid && (len(pe.Fields) != 1 || pe.Fields[0].Field != "media.url") {
				t.Errorf("got fields %v, want media.url", pe.Fields)
			}
			if tc.code == ports.ETooLarge && pe.Reason != "payload_too_large" {
				t.Errorf("got reason %q, want payload_too_large", pe.Reason)
			}
		})
	}
}
