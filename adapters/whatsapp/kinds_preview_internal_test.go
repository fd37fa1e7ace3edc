package whatsapp

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"
)

// box builds one MP4 box.
func box(kind string, body ...[]byte) []byte {
	b := bytes.Join(body, nil)
	out := binary.BigEndian.AppendUint32(nil, uint32(8+len(b)))
	return append(append(out, kind...), b...)
}

// testMP4 is an MP4's boxes: ftyp, then moov with a version-0 mvhd of
// dur/scale seconds, an audio track (no picture) and a video track of w×h.
func testMP4(scale, dur uint32, w, h uint32) []byte {
	mvhd := make([]byte, 100)
	binary.BigEndian.PutUint32(mvhd[12:], scale)
	binary.BigEndian.PutUint32(mvhd[16:], dur)
	tkhd := func(w, h uint32) []byte {
		b := make([]byte, 84)
		binary.BigEndian.PutUint32(b[76:], w<<16)
		binary.BigEndian.PutUint32(b[80:], h<<16)
		return b
	}
	return append(box("ftyp", []byte("mp42\x00\x00\x00\x00mp42isom")),
		box("moov", box("mvhd", mvhd), box("trak", box("tkhd", tkhd(0, 0))), box("trak", box("tkhd", tkhd(w, h))))...)
}

func TestMP4Info(t *testing.T) {
	for _, c := range []struct {
		name string
		data []byte
		want videoInfo
	}{
		{"7.5 s 640×360", testMP4(1000, 7500, 640, 360), videoInfo{Seconds: 8, Width: 640, Height: 360}},
		{"exact seconds", testMP4(90000, 90000*3, 320, 240), videoInfo{Seconds: 3, Width: 320, Height: 240}},
		{"unknown length", testMP4(1000, 0xffffffff, 16, 16), videoInfo{Width: 16, Height: 16}},
		{"no moov", box("ftyp", []byte("mp42")), videoInfo{}},
		{"truncated", testMP4(1000, 2000, 8, 8)[:40], videoInfo{}},
		{"a box larger than the file", append(box("ftyp"), 0xff, 0xff, 0xff, 0xff, 'm', 'o', 'o', 'v'), videoInfo{}},
		{"not an MP4", []byte("hello"), videoInfo{}},
	} {
		if got := mp4Info(c.data); got != c.want {
			t.Errorf("%s: got %+v, want %+v", c.name, got, c.want)
		}
	}
}

// A PNG becomes a JPEG thumbnail of at most 72 pixels on its longer
// side, in proportion; a small image is not scaled up; a file that is not
// an image, or claims an enormous canvas, has none.
func TestImageInfo(t *testing.T) {
	encode := func(w, h int) []byte {
		img := image.NewNRGBA(image.Rect(0, 0, w, h))
		for x := range w {
			img.Set(x, h/2, color.NRGBA{R: 200, A: 255})
		}
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	for _, c := range []struct {
		w, h, tw, th int
	}{{800, 400, 72, 36}, {300, 1200, 18, 72}, {40, 30, 40, 30}} {
		w, h, thumb := imageInfo(encode(c.w, c.h))
		if int(w) != c.w || int(h) != c.h {
			t.Errorf("%d×%d: got the size %d×%d", c.w, c.h, w, h)
		}
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(thumb))
		if err != nil || cfg.Width != c.tw || cfg.Height != c.th {
			t.Errorf("%d×%d: got a thumbnail %d×%d (%v), want a %d×%d JPEG", c.w, c.h, cfg.Width, cfg.Height, err, c.tw, c.th)
		}
	}
	huge := encode(1, 1)
	binary.BigEndian.PutUint32(huge[16:], 100_000) // IHDR width, the CRC no longer matches: DecodeConfig does not check it
	binary.BigEndian.PutUint32(huge[20:], 100_000)
	if w, _, thumb := imageInfo(huge); w != 0 || thumb != nil {
		t.Errorf("a 100,000² canvas: got width %d and %d bytes of thumbnail, want neither", w, len(thumb))
	}
	if w, _, thumb := imageInfo([]byte("\x89PNG\r\n\x1a\nnot really")); w != 0 || thumb != nil {
		t.Errorf("a broken PNG: got width %d and a thumbnail", w)
	}
}
