package messaging

import (
	"slices"
	"testing"

	"github.com/wagate/wagate/ports"
)

// Real file openings, enough of each for its signature.
var (
	jpegBytes = []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
	pngBytes  = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00")
	webpBytes = []byte("RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00\x30\x01\x00\x9d\x01\x2a")
	opusBytes = append([]byte("OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x12\x34\x56\x78\x00\x00\x00\x00\xa1\xb2\xc3\xd4\x01\x13"), []byte("OpusHead\x01\x01\x38\x01\x80\xbb\x00\x00\x00\x00\x00")...)
	oggBytes  = []byte("OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x12\x34\x56\x78\x00\x00\x00\x00\xa1\xb2\xc3\xd4\x01\x1e\x01vorbis")
	id3Bytes  = []byte("ID3\x04\x00\x00\x00\x00\x00\x23TSSE\x00\x00\x00\x0f\x00\x00\x03Lavf58.76.100")
	mp3Frame  = []byte("\xff\xfb\x90\x64\x00\x0f\xf0\x00\x00\x69\x00\x00\x00\x08\x00\x00\x0d\x20")
	adtsBytes = []byte("\xff\xf1\x50\x80\x02\x1f\xfc\x21\x00\x49\x90\x02\x19\x00\x23\x80")
	m4aBytes  = []byte("\x00\x00\x00\x20ftypM4A \x00\x00\x02\x00M4A isommp42\x00\x00\x00\x08free")
	mp42Bytes = []byte("\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom")
	pdfBytes  = []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")
	zipBytes  = []byte("PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00[Content_Types].xml")
	textBytes = []byte("name,amount\nAda,12\n")
	exeBytes  = []byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00\xb8\x00\x00\x00This program cannot be run in DOS mode")
	elfBytes  = []byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00")
	machoByts = []byte("\xcf\xfa\xed\xfe\x07\x00\x00\x01\x03\x00\x00\x00\x02\x00\x00\x00")
	fatMachO  = []byte("\xca\xfe\xba\xbe\x00\x00\x00\x02\x01\x00\x00\x07\x00\x00\x00\x03")
	shellByts = []byte("#!/bin/sh\nrm -rf /\n")
)

func TestSniffAndAccept(t *testing.T) {
	img, doc, aud := ports.MediaImage, ports.MediaDocument, ports.MediaAudio
	tests := []struct {
		name string
		data []byte
		want string              // the sniffed base type
		ok   []ports.WAMediaKind // the kinds that accept it
	}{
		{"JPEG", jpegBytes, "image/jpeg", []ports.WAMediaKind{img, doc}},
		{"PNG", pngBytes, "image/png", []ports.WAMediaKind{img, doc}},
		{"WebP", webpBytes, "image/webp", []ports.WAMediaKind{img, doc}},
		{"OGG Opus", opusBytes, "audio/ogg", []ports.WAMediaKind{aud, doc}},
		{"OGG Vorbis", oggBytes, "audio/ogg", []ports.WAMediaKind{aud, doc}},
		{"MP3 with ID3", id3Bytes, "audio/mpeg", []ports.WAMediaKind{aud, doc}},
		{"MP3 frame", mp3Frame, "audio/mpeg", []ports.WAMediaKind{aud, doc}},
		{"AAC ADTS", adtsBytes, "audio/aac", []ports.WAMediaKind{aud, doc}},
		{"M4A", m4aBytes, "audio/mp4", []ports.WAMediaKind{aud, doc}},
		{"mp42 brand", mp42Bytes, "audio/mp4", []ports.WAMediaKind{aud, doc}},
		{"PDF", pdfBytes, "application/pdf", []ports.WAMediaKind{doc}},
		{"ZIP (docx)", zipBytes, "application/zip", []ports.WAMediaKind{doc}},
		{"CSV text", textBytes, "text/plain", []ports.WAMediaKind{doc}},
		{"Windows EXE", exeBytes, mimeExecutable, nil},
		{"ELF", elfBytes, mimeExecutable, nil},
		{"Mach-O 64", machoByts, mimeExecutable, nil},
		{"Mach-O universal", fatMachO, mimeExecutable, nil},
		{"shell script", shellByts, mimeScript, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := sniff(tc.data)
			if baseType(got) != tc.want {
				t.Fatalf("sniff: got %q, want %q", got, tc.want)
			}
			for _, kind := range []ports.WAMediaKind{img, doc, aud} {
				want := slices.Contains(tc.ok, kind)
				if accepts(kind, got) != want {
					t.Errorf("accepts(%s, %s): got %v, want %v", kind, got, !want, want)
				}
			}
		})
	}
	if got := sniff(opusBytes); got != mimeOggOpus {
		t.Errorf("sniff Opus: got %q, want %q (WhatsApp plays voice notes of that type)", got, mimeOggOpus)
	}
}

func TestCheckMediaTypeDeclared(t *testing.T) {
	tests := []struct {
		name     string
		kind     ports.WAMediaKind
		data     []byte
		declared string
		ok       bool
	}{
		{"nothing declared", ports.MediaImage, pngBytes, "", true},
		{"declared right", ports.MediaImage, pngBytes, "image/png", true},
		{"declared another image type", ports.MediaImage, jpegBytes, "image/png", true},
		{"PNG declared as audio", ports.MediaAudio, pngBytes, "audio/ogg", false},
		{"PNG on the audio route", ports.MediaAudio, pngBytes, "", false},
		{"PNG declared as audio on the image route", ports.MediaImage, pngBytes, "audio/mpeg", false},
		{"PDF declared as an image", ports.MediaDocument, pdfBytes, "image/jpeg", false},
		{"CSV declared text/csv", ports.MediaDocument, textBytes, "text/csv", true},
		{"EXE declared as a PDF", ports.MediaDocument, exeBytes, "application/pdf", false},
		{"EXE as a document", ports.MediaDocument, exeBytes, "", false},
		{"PDF as an image", ports.MediaImage, pdfBytes, "", false},
		{"voice note", ports.MediaAudio, opusBytes, "audio/ogg; codecs=opus", true},
		{"garbage declared type", ports.MediaImage, pngBytes, "not a type", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := checkMediaType(tc.kind, tc.data, tc.declared)
			if tc.ok && err != nil {
				t.Fatalf("got %v, want accepted", err)
			}
			if pe := ports.AsError(err); !tc.ok && (pe == nil || pe.Code != ports.EUnsupported || pe.Reason != "unsupported_media_type") {
				t.Fatalf("got %v, want unsupported_media_type", err)
			}
		})
	}
}

func TestSanitiseFileName(t *testing.T) {
	for in, want := range map[string]string{
		"report.pdf":            "report.pdf",
		"../../etc/passwd":      "passwd",
		`C:\Users\ada\cv.docx`:  "cv.docx",
		"a\"b\r\nc.txt":         "a_b__c.txt",
		"  .hidden ":            "hidden",
		"Übersicht 2025 ✓.xlsx": "Übersicht 2025 ✓.xlsx",
		"":                      "",
		"/":                     "",
	} {
		if got := sanitiseFileName(in); got != want {
			t.Errorf("sanitiseFileName(%q): got %q, want %q", in, got, want)
		}
	}
}
