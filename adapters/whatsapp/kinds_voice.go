package whatsapp

import (
	"bytes"
	"encoding/binary"
)

// A voice note carries its length and a waveform (64 levels, 0–100) that
// WhatsApp draws; whatsmeow leaves both to the application. Both come from
// the OGG container without decoding Opus: the length from the last
// page's granule position (48 kHz samples, less the pre-skip), the
// waveform from how many bytes each stretch of time took, which with
// Opus's variable bitrate follows loudness closely enough to draw.

const (
	waveformLen = 64
	opusRate    = 48000
)

// oggPage is one page's end position (in samples) and payload size.
type oggPage struct {
	granule int64
	size    int
}

// oggPages reads the page headers of an OGG file; it stops at the first
// malformed page.
func oggPages(data []byte) (pages []oggPage, preSkip int64) {
	for len(data) >= 27 && bytes.HasPrefix(data, []byte("OggS")) {
		nseg := int(data[26])
		if len(data) < 27+nseg {
			break
		}
		size := 0
		for _, s := range data[27 : 27+nseg] {
			size += int(s)
		}
		body := data[27+nseg:]
		if len(body) < size {
			break
		}
		if bytes.HasPrefix(body, []byte("OpusHead")) && len(body) >= 12 {
			preSkip = int64(binary.LittleEndian.Uint16(body[10:12]))
		}
		pages = append(pages, oggPage{granule: int64(binary.LittleEndian.Uint64(data[6:14])), size: size})
		data = body[size:]
	}
	return pages, preSkip
}

// voiceInfo returns the length in seconds (at least 1) and the waveform of
// an OGG/Opus voice note; zero and nil when the file does not parse.
func voiceInfo(data []byte) (seconds uint32, waveform []byte) {
	pages, preSkip := oggPages(data)
	var last int64
	for _, p := range pages {
		if p.granule > last {
			last = p.granule
		}
	}
	samples := last - preSkip
	if samples <= 0 {
		return 0, nil
	}
	seconds = uint32((samples + opusRate - 1) / opusRate)
	levels := make([]int, waveformLen)
	for _, p := range pages {
		if p.granule <= 0 {
			continue // header pages carry no audio
		}
		i := min(int(p.granule*waveformLen/(last+1)), waveformLen-1)
		levels[i] += p.size
	}
	peak := 0
	for _, l := range levels {
		peak = max(peak, l)
	}
	waveform = make([]byte, waveformLen)
	for i, l := range levels {
		if peak > 0 {
			waveform[i] = byte(l * 100 / peak)
		}
	}
	return seconds, waveform
}
