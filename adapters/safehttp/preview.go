package safehttp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wagate/wagate/ports"
)

// Limits of a link preview (SPEC §6a): the page is read up to its head,
// the thumbnail kept small as WhatsApp's inline JPEG, and the whole fetch
// bounded, since it runs before the message's send.
const (
	maxPreviewPage      = 512 << 10
	maxPreviewThumbnail = 64 << 10
	previewTimeout      = 5 * time.Second
	maxPreviewTitle     = 256
	maxPreviewDesc      = 512
)

// Previewer fetches link previews with the guarded client: the page's
// Open Graph title, description and image (or its <title>), one GET each,
// no redirects.
type Previewer struct {
	client *http.Client
}

var _ ports.LinkPreviewer = (*Previewer)(nil)

// NewPreviewer returns a previewer with the guard configured by o.
func NewPreviewer(o Options) *Previewer {
	if o.Timeout <= 0 || o.Timeout > previewTimeout {
		o.Timeout = previewTimeout
	}
	return &Previewer{client: NewClient(o)}
}

// errNoPreview is any reason a page gives no preview.
var errNoPreview = errors.New("no preview")

// Preview returns the preview of raw, an http(s) URL; an error when the
// page cannot be fetched or has no title.
func (p *Previewer) Preview(ctx context.Context, raw string) (ports.LinkPreview, error) {
	page, ctype, err := p.get(ctx, raw, maxPreviewPage)
	if err != nil {
		return ports.LinkPreview{}, err
	}
	if !strings.HasPrefix(ctype, "text/html") {
		return ports.LinkPreview{}, fmt.Errorf("%w: %s is not HTML", errNoPreview, ctype)
	}
	meta := pageMeta(page)
	out := ports.LinkPreview{URL: raw, Title: clip(firstOf(meta["og:title"], meta["title"]), maxPreviewTitle),
		Description: clip(firstOf(meta["og:description"], meta["description"]), maxPreviewDesc)}
	if out.Title == "" {
		return ports.LinkPreview{}, fmt.Errorf("%w: the page has no title", errNoPreview)
	}
	if img := meta["og:image"]; img != "" {
		if u, err := url.Parse(raw); err == nil {
			if ref, err := u.Parse(img); err == nil {
				// A missing thumbnail leaves the preview without a picture.
				if data, ctype, err := p.get(ctx, ref.String(), maxPreviewThumbnail); err == nil && ctype == "image/jpeg" {
					out.Thumbnail = data
				}
			}
		}
	}
	return out, nil
}

// get is one guarded GET of up to max bytes; the body's media type is
// returned with it.
func (p *Previewer) get(ctx context.Context, raw string, max int64) ([]byte, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %v", errNoPreview, err)
	}
	req.Header.Set("User-Agent", "wagate-link-preview")
	res, err := p.client.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %v", errNoPreview, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("%w: status %d", errNoPreview, res.StatusCode)
	}
	data, err := ReadBody(res.Body, max)
	if err != nil && !ports.IsCode(err, ports.ETooLarge) {
		return nil, "", fmt.Errorf("%w: %v", errNoPreview, err)
	}
	if err != nil && max == maxPreviewThumbnail {
		return nil, "", fmt.Errorf("%w: thumbnail too large", errNoPreview)
	}
	ctype, _, _ := strings.Cut(res.Header.Get("Content-Type"), ";")
	return data, strings.ToLower(strings.TrimSpace(ctype)), nil
}

var (
	metaTag  = regexp.MustCompile(`(?is)<meta\s[^>]*>`)
	metaAttr = regexp.MustCompile(`(?is)(property|name|content)\s*=\s*("[^"]*"|'[^']*')`)
	titleTag = regexp.MustCompile(`(?is)<title[^>]*>(.*?)</title>`)
)

// pageMeta reads the <meta property|name=… content=…> tags and the
// <title> of a page (a page cut at the read limit still has its head).
func pageMeta(page []byte) map[string]string {
	out := map[string]string{}
	for _, tag := range metaTag.FindAll(page, 200) {
		var key, content string
		for _, a := range metaAttr.FindAllSubmatch(tag, -1) {
			v := html.UnescapeString(string(bytes.Trim(a[2], `"'`)))
			if strings.EqualFold(string(a[1]), "content") {
				content = v
			} else {
				key = strings.ToLower(v)
			}
		}
		if _, seen := out[key]; key != "" && !seen {
			out[key] = strings.TrimSpace(content)
		}
	}
	if m := titleTag.FindSubmatch(page); m != nil {
		out["title"] = strings.TrimSpace(html.UnescapeString(string(m[1])))
	}
	return out
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// clip cuts s to n characters of valid text.
func clip(s string, n int) string {
	s = ports.CleanText(s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
