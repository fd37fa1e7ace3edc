package whatsapp

import (
	"encoding/binary"
	"reflect"
	"strings"
	"testing"

	"github.com/wagate/wagate/ports"
)

// A card built from hostile fields parses back to the same contact and
// adds no line of its own.
func TestVCardRoundTrip(t *testing.T) {
	in := ports.ContactCard{Name: "Ada; Lovelace\r\nTEL:+1999", Organization: "Engines, Ltd\\",
		Email: "ada@example.com", Phones: []ports.ContactPhone{{Number: "+44 20 7946 0000", Type: "WORK"}, {Number: "+1 555", Type: ""}}}
	card := buildVCard(in)
	if strings.Count(card, "\r\nTEL") != 2 || strings.Contains(card, "\nTEL:+1999") {
		t.Fatalf("the card %q has lines its fields made", card)
	}
	got := parseVCard(card, "fallback")
	want := in
	want.Name = "Ada; Lovelace\nTEL:+1999" // the line break is kept, escaped inside its value
	want.Phones = []ports.ContactPhone{{Number: "+44 20 7946 0000", Type: "WORK"}, {Number: "+1 555", Type: "CELL"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if c := parseVCard("BEGIN:VCARD\nitem1.TEL;type=HOME,VOICE:+1 2\n line\nEND:VCARD", "Shown"); c.Name != "Shown" || len(c.Phones) != 1 || c.Phones[0] != (ports.ContactPhone{Number: "+1 2line", Type: "HOME"}) {
		t.Errorf("a folded, grouped card: got %+v", c)
	}
}

// The length of a voice note comes from the last granule less the
// pre-skip; a file that is no OGG has none.
func TestVoiceInfo(t *testing.T) {
	page := func(granule int64, body []byte) []byte {
		h := make([]byte, 27)
		copy(h, "OggS")
		binary.LittleEndian.PutUint64(h[6:], uint64(granule))
		h[26] = 1
		return append(append(h, byte(len(body))), body...)
	}
	head := append([]byte("OpusHead\x01\x01"), 0x38, 0x01, 0, 0, 0, 0, 0, 0, 0)
	data := page(0, head)
	for i := int64(1); i <= 10; i++ {
		data = append(data, page(312+i*9600, make([]byte, 10*i))...)
	}
	secs, wave := voiceInfo(data)
	if secs != 2 || len(wave) != waveformLen || wave[waveformLen-1] != 100 {
		t.Errorf("got %d s and waveform %v, want 2 s ending at the loudest level", secs, wave)
	}
	if secs, wave := voiceInfo([]byte("not an ogg file")); secs != 0 || wave != nil {
		t.Errorf("not OGG: got %d s, %v; want nothing", secs, wave)
	}
}
