package wasim

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"

	"go.mau.fi/util/random"
	"go.mau.fi/whatsmeow"
	waBinary "go.mau.fi/whatsmeow/binary"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/util/cbcutil"
	"go.mau.fi/whatsmeow/util/hkdfutil"
	"google.golang.org/protobuf/proto"
)

// mediaHost is the host name handed out in media_conn; HTTPClient sends it
// to the simulator like every other host.
const mediaHost = "mmg.whatsapp.net"

// maxMedia bounds one upload.
const maxMedia = 64 << 20

const (
	mediaImage    = whatsmeow.MediaImage
	mediaVideo    = whatsmeow.MediaVideo
	mediaAudio    = whatsmeow.MediaAudio
	mediaDocument = whatsmeow.MediaDocument
)

// mediaObject is an uploaded (encrypted) file.
type mediaObject struct {
	data []byte
}

func (s *Server) mediaConn() waBinary.Node {
	return waBinary.Node{Tag: "media_conn", Attrs: waBinary.Attrs{
		"auth": "sim", "ttl": "3600", "auth_ttl": "3600", "max_buckets": "1",
	}, Content: []waBinary.Node{{Tag: "host", Attrs: waBinary.Attrs{"hostname": mediaHost}}}}
}

// serveUpload stores POST /mms/<type>/<token> and answers like WhatsApp's
// media hosts: {url, direct_path}.
func (s *Server) serveUpload(w http.ResponseWriter, r *http.Request) {
	data, err := io.ReadAll(io.LimitReader(r.Body, maxMedia+1))
	if err != nil || len(data) > maxMedia {
		http.Error(w, "bad upload", http.StatusBadRequest)
		return
	}
	path := s.putMedia(data)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{
		"url": "https://" + mediaHost + path + "?ccb=sim", "direct_path": path + "?ccb=sim",
	})
}

func (s *Server) putMedia(data []byte) string {
	path := fmt.Sprintf("/v/t62.sim/%016x%016x", rand.Uint64(), rand.Uint64())
	s.mu.Lock()
	s.media[path] = mediaObject{data: data}
	s.mu.Unlock()
	return path
}

func (s *Server) serveDownload(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	obj, ok := s.media[r.URL.Path]
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	_, _ = w.Write(obj.data)
}

type mediaRef interface {
	GetURL() string
	GetDirectPath() string
	GetMediaKey() []byte
}

// openMedia fetches and decrypts the file a received media message points
// to (whatsmeow download.go: downloadAndDecrypt); nil if it cannot.
func (s *Server) openMedia(m mediaRef, kind whatsmeow.MediaType) []byte {
	path := m.GetDirectPath()
	if u, err := url.Parse(m.GetURL()); path == "" && err == nil {
		path = u.Path
	}
	path, _, _ = strings.Cut(path, "?")
	s.mu.Lock()
	obj, ok := s.media[path]
	s.mu.Unlock()
	if !ok || len(obj.data) < 10 {
		return nil
	}
	iv, cipherKey, macKey := mediaKeys(m.GetMediaKey(), kind)
	body, mac := obj.data[:len(obj.data)-10], obj.data[len(obj.data)-10:]
	h := hmac.New(sha256.New, macKey)
	h.Write(iv)
	h.Write(body)
	if !hmac.Equal(h.Sum(nil)[:10], mac) {
		s.log.Warn("wasim: media mac mismatch", "path", path)
		return nil
	}
	// cbcutil.Decrypt works in place: on a copy, or the stored file would
	// be garbage for the next phone that downloads it (a group's members).
	data, err := cbcutil.Decrypt(cipherKey, iv, bytes.Clone(body))
	if err != nil {
		s.log.Warn("wasim: media decrypt", "err", err)
		return nil
	}
	return data
}

func mediaKeys(key []byte, kind whatsmeow.MediaType) (iv, cipherKey, macKey []byte) {
	k := hkdfutil.SHA256(key, nil, []byte(kind), 112)
	return k[:16], k[16:48], k[48:80]
}

// sealedMedia is an encrypted upload with what a media message needs.
type sealedMedia struct {
	url, directPath               string
	mediaKey, fileEncSHA, fileSHA []byte
	length                        uint64
}

// sealMedia encrypts data like whatsmeow's Upload and stores it.
func (s *Server) sealMedia(data []byte, kind whatsmeow.MediaType) (sealedMedia, error) {
	key := random.Bytes(32)
	iv, cipherKey, macKey := mediaKeys(key, kind)
	body, err := cbcutil.Encrypt(cipherKey, iv, data)
	if err != nil {
		return sealedMedia{}, fmt.Errorf("encrypt media: %w", err)
	}
	h := hmac.New(sha256.New, macKey)
	h.Write(iv)
	h.Write(body)
	blob := append(body, h.Sum(nil)[:10]...)
	encSum, sum := sha256.Sum256(blob), sha256.Sum256(data)
	path := s.putMedia(blob)
	return sealedMedia{url: "https://" + mediaHost + path + "?ccb=sim", directPath: path + "?ccb=sim",
		mediaKey: key, fileEncSHA: encSum[:], fileSHA: sum[:], length: uint64(len(data))}, nil
}

// SendImage makes the contact send an image (uploaded to the simulator's
// media store, encrypted as WhatsApp does) to every device of `to`.
func (c *Contact) SendImage(ctx context.Context, to string, data []byte, mime, caption string) error {
	m, err := c.s.sealMedia(data, mediaImage)
	if err != nil {
		return fmt.Errorf("send image: %w", err)
	}
	img := &waE2E.ImageMessage{
		URL: proto.String(m.url), DirectPath: proto.String(m.directPath), MediaKey: m.mediaKey,
		Mimetype: proto.String(mime), FileEncSHA256: m.fileEncSHA, FileSHA256: m.fileSHA,
		FileLength: proto.Uint64(m.length), MediaKeyTimestamp: proto.Int64(0),
	}
	if caption != "" {
		img.Caption = proto.String(caption)
	}
	_, err = c.Send(ctx, to, &waE2E.Message{ImageMessage: img})
	return err
}
