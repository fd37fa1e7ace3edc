package messaging

import (
	"bytes"
	"mime"
	"net/http"
	"strings"

	"github.com/wagate/wagate/ports"
)

// Media types the sniffer names that net/http.DetectContentType does not
// know (or knows only under a name WhatsApp does not expect).
const (
	mimeOggOpus    = "audio/ogg; codecs=opus"
	mimeOgg        = "audio/ogg"
	mimeMP3        = "audio/mpeg"
	mimeAAC        = "audio/aac"
	mimeM4A        = "audio/mp4"
	mimeWebP       = "image/webp"
	mimeExecutable = "application/x-executable"
	mimeScript     = "text/x-shellscript"
)

// sniff names the type of data from its bytes alone (SPEC §6: the client's
// word is not taken). The signatures DetectContentType lacks are checked
// first: it reads OGG as application/ogg, knows no MP3 without ID3, no
// M4A brands, no ADTS AAC, and calls executables application/octet-stream.
func sniff(data []byte) string {
	switch {
	case isExecutable(data):
		return mimeExecutable
	case bytes.HasPrefix(data, []byte("#!")):
		return mimeScript
	case bytes.HasPrefix(data, []byte("OggS")):
		// The Opus identification header opens the first page's packet.
		if bytes.Contains(data[:min(len(data), 128)], []byte("OpusHead")) {
			return mimeOggOpus
		}
		return mimeOgg
	case bytes.HasPrefix(data, []byte("ID3")):
		return mimeMP3
	case len(data) >= 2 && data[0] == 0xFF && data[1]&0xE0 == 0xE0:
		// An MPEG audio frame sync; layer bits 00 mean ADTS (AAC), any
		// other layer is MP3 (layer III) or its older siblings.
		if data[1]&0x06 == 0 {
			return mimeAAC
		}
		return mimeMP3
	case len(data) >= 12 && string(data[4:8]) == "ftyp" && isAudioBrand(string(data[8:12])):
		return mimeM4A
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return mimeWebP
	}
	return http.DetectContentType(data)
}

// isAudioBrand accepts the ISO media brands of M4A files; mp42 and isom
// are generic, but that is what many encoders write into audio files too.
func isAudioBrand(brand string) bool {
	switch brand {
	case "M4A ", "M4B ", "mp42", "isom":
		return true
	}
	return false
}

// isExecutable recognises Windows (MZ), Linux (ELF) and macOS (Mach-O,
// either byte order, 32 or 64 bit, and universal) programs.
func isExecutable(data []byte) bool {
	if bytes.HasPrefix(data, []byte("MZ")) || bytes.HasPrefix(data, []byte("\x7fELF")) {
		return true
	}
	for _, magic := range []string{"\xfe\xed\xfa\xce", "\xfe\xed\xfa\xcf", "\xce\xfa\xed\xfe", "\xcf\xfa\xed\xfe", "\xca\xfe\xba\xbe"} {
		if bytes.HasPrefix(data, []byte(magic)) {
			return true
		}
	}
	return false
}

// accepts reports whether a sniffed type may be sent as kind: image =
// JPEG/PNG/WebP; audio = OGG/Opus, MP3, M4A/AAC; document = anything but
// executables and scripts.
func accepts(kind ports.WAMediaKind, sniffed string) bool {
	base := baseType(sniffed)
	switch kind {
	case ports.MediaImage:
		return base == "image/jpeg" || base == "image/png" || base == mimeWebP
	case ports.MediaAudio:
		return base == mimeOgg || base == mimeMP3 || base == mimeM4A || base == mimeAAC
	case ports.MediaDocument:
		return base != mimeExecutable && base != mimeScript
	case ports.MediaVideo:
		return base == mimeMP4
	case ports.MediaSticker:
		return base == mimeWebP
	}
	return false
}

// sameFamily reports whether a declared type agrees with the sniffed one:
// both images, both audio, both video, or both something else. Finer
// disagreements (text/csv declared, text/plain sniffed) are not a
// mismatch: the sniffer cannot tell them apart.
func sameFamily(declared, sniffed string) bool {
	if baseType(declared) == "application/octet-stream" {
		return true // "some bytes": what uploaders send when they do not know
	}
	return family(baseType(declared)) == family(baseType(sniffed))
}

func family(t string) string {
	major, _, _ := strings.Cut(t, "/")
	switch major {
	case "image", "audio", "video":
		return major
	}
	if t == "application/ogg" {
		return "audio"
	}
	return "other"
}

// baseType is the lower-cased type without parameters; "" if it does not
// parse.
func baseType(t string) string {
	mt, _, err := mime.ParseMediaType(t)
	if err != nil {
		return ""
	}
	return mt
}
