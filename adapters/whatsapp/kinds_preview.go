package whatsapp

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/jpeg"
	"math"

	// The formats a sent image is decoded from for its thumbnail.
	_ "image/gif"
	_ "image/png"

	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp"
)

// What WhatsApp shows before the file is downloaded: an image's size and
// a small JPEG of it, a video's size and length. whatsmeow leaves all of
// them to the application. Without cgo (and without ffmpeg) a video's
// frames cannot be decoded, so a video goes without a thumbnail; its
// length and size come from the MP4 boxes.

const (
	thumbSide = 72 // the longer side of a thumbnail, in pixels, as WhatsApp's own
	// thumbMaxPixels bounds the images decoded for a thumbnail: a small
	// PNG can claim a huge canvas, and decoding it would take width ×
	// height × 4 bytes. Larger images are sent without a thumbnail.
	thumbMaxPixels = 24_000_000
)

// imageInfo returns the size of an image and a JPEG thumbnail of it; zeros
// and nil when the file does not decode (the send goes on without them).
func imageInfo(data []byte) (width, height uint32, thumb []byte) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > thumbMaxPixels {
		return 0, 0, nil
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return uint32(cfg.Width), uint32(cfg.Height), nil
	}
	return uint32(cfg.Width), uint32(cfg.Height), thumbnail(img)
}

// thumbnail scales img down to fit thumbSide (never up) and encodes it as
// a JPEG.
func thumbnail(img image.Image) []byte {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if scale := float64(thumbSide) / float64(max(w, h)); scale < 1 {
		w = max(1, int(math.Round(float64(w)*scale)))
		h = max(1, int(math.Round(float64(h)*scale)))
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(dst, dst.Bounds(), image.White, image.Point{}, draw.Src) // transparency on white, as JPEG has none
	draw.CatmullRom.Scale(dst, dst.Bounds(), img, b, draw.Over, nil)
	var out bytes.Buffer
	if err := jpeg.Encode(&out, dst, &jpeg.Options{Quality: 75}); err != nil {
		return nil
	}
	return out.Bytes()
}

// videoInfo is what an MP4's boxes tell about a video.
type videoInfo struct {
	Seconds       uint32 // from the movie header (mvhd), rounded up; 0 if unknown
	Width, Height uint32 // of the first track with a picture (tkhd)
}

// mp4Info reads the movie header and the track headers of an MP4 (or
// QuickTime) file, without decoding any frame. Boxes that do not parse
// end the walk; what was read until then is kept.
func mp4Info(data []byte) videoInfo {
	var v videoInfo
	walkBoxes(data, 0, func(kind string, body []byte) {
		switch kind {
		case "mvhd":
			if secs, ok := mvhdSeconds(body); ok {
				v.Seconds = secs
			}
		case "tkhd":
			if w, h, ok := tkhdSize(body); ok && v.Width == 0 && w > 0 && h > 0 {
				v.Width, v.Height = w, h
			}
		}
	})
	return v
}

// walkBoxes calls fn for every box in data, descending into the boxes
// that hold the headers (moov, trak). depth bounds the nesting.
func walkBoxes(data []byte, depth int, fn func(kind string, body []byte)) {
	for len(data) >= 8 && depth < 4 {
		size := uint64(binary.BigEndian.Uint32(data))
		kind := string(data[4:8])
		head := uint64(8)
		switch size {
		case 0: // to the end of the file
			size = uint64(len(data))
		case 1: // a 64-bit size follows
			if len(data) < 16 {
				return
			}
			size, head = binary.BigEndian.Uint64(data[8:]), 16
		}
		if size < head || size > uint64(len(data)) {
			return
		}
		body := data[head:size]
		switch kind {
		case "moov", "trak":
			walkBoxes(body, depth+1, fn)
		default:
			fn(kind, body)
		}
		data = data[size:]
	}
}

// mvhdSeconds reads a movie header's duration in whole seconds, rounded up.
func mvhdSeconds(b []byte) (uint32, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var scale, dur uint64
	switch b[0] { // version
	case 0:
		if len(b) < 20 {
			return 0, false
		}
		scale, dur = uint64(binary.BigEndian.Uint32(b[12:])), uint64(binary.BigEndian.Uint32(b[16:]))
	case 1:
		if len(b) < 32 {
			return 0, false
		}
		scale, dur = uint64(binary.BigEndian.Uint32(b[20:])), binary.BigEndian.Uint64(b[24:])
	default:
		return 0, false
	}
	if scale == 0 || dur == math.MaxUint64 || dur == math.MaxUint32 && b[0] == 0 { // all ones: unknown
		return 0, false
	}
	secs := (dur + scale - 1) / scale
	if secs > math.MaxUint32 {
		return 0, false
	}
	return uint32(secs), true
}

// tkhdSize reads a track header's width and height (16.16 fixed point,
// the last eight bytes); both zero for a track without a picture.
func tkhdSize(b []byte) (w, h uint32, ok bool) {
	n := 84 // version 0
	if len(b) > 0 && b[0] == 1 {
		n = 96
	}
	if len(b) < n {
		return 0, 0, false
	}
	return binary.BigEndian.Uint32(b[n-8:]) >> 16, binary.BigEndian.Uint32(b[n-4:]) >> 16, true
}
