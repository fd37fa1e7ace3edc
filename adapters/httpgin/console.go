package httpgin

// The web console (SPEC §19): a single page of plain ES modules, embedded
// in the binary, served at / under a CSP that allows scripts and styles from
// this origin only. It is a client of the public API and nothing else.

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/ports"
)

//go:embed console
var consoleFS embed.FS

// consoleCSP lets the page run its own files and nothing else: no inline
// script or style, no other origin. img-src allows data: for the QR PNGs
// the API returns and blob: for media previews fetched with the token.
const consoleCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"connect-src 'self'; font-src 'none'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// consoleAsset is one embedded file, kept plain and gzipped.
type consoleAsset struct {
	body, gz    []byte
	contentType string
	etag        string
}

// consoleAssets are the console's files by name, prepared once.
var consoleAssets = loadConsoleAssets()

func loadConsoleAssets() map[string]consoleAsset {
	out := map[string]consoleAsset{}
	_ = fs.WalkDir(consoleFS, "console", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := consoleFS.ReadFile(p)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(body)
		_ = zw.Close()
		sum := sha256.Sum256(body)
		ct := mime.TypeByExtension(path.Ext(p))
		if path.Ext(p) == ".js" {
			ct = "text/javascript; charset=utf-8"
		}
		out[strings.TrimPrefix(p, "console/")] = consoleAsset{
			body: body, gz: buf.Bytes(), contentType: ct, etag: `"` + hex.EncodeToString(sum[:12]) + `"`,
		}
		return nil
	})
	return out
}

// consoleIndex serves the page itself.
func (a *api) consoleIndex(c *gin.Context) { a.serveConsole(c, "index.html") }

// consoleFile serves the page's scripts, styles and images.
func (a *api) consoleFile(c *gin.Context) {
	name := strings.TrimPrefix(c.Param("file"), "/")
	if name == "index.html" {
		name = ""
	}
	a.serveConsole(c, name)
}

func (a *api) serveConsole(c *gin.Context, name string) {
	f, ok := consoleAssets[name]
	if !ok || name == "" {
		abortWithError(c, a.log, ports.Errorf(ports.ENotFound, "no such console file"))
		return
	}
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", consoleCSP)
	// Revalidate every time: a new binary must never run with old scripts.
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", f.etag)
	h.Add("Vary", "Accept-Encoding")
	if c.GetHeader("If-None-Match") == f.etag {
		c.Status(http.StatusNotModified)
		return
	}
	body := f.body
	if acceptsGzip(c.GetHeader("Accept-Encoding")) {
		h.Set("Content-Encoding", "gzip")
		body = f.gz
	}
	c.Data(http.StatusOK, f.contentType, body)
}

// acceptsGzip reads Accept-Encoding loosely: gzip listed and not refused.
func acceptsGzip(h string) bool {
	for part := range strings.SplitSeq(h, ",") {
		enc, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") {
			return strings.ReplaceAll(strings.TrimSpace(params), " ", "") != "q=0"
		}
	}
	return false
}
