package whatsapp

import (
	"bytes"
	"encoding/base64"
	"log/slog"
	"strings"
	"testing"
)

const (
	testHexKey = "3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29"
	testNumber = "15550001111"
)

// A pkmsg stanza as whatsmeow's Node.XMLString prints it.
var testStanza = `<message from="` + testNumber + `:2@s.whatsapp.net" id="3EB0ABCDEF0123456789" type="text"><enc type="pkmsg" v="2">` + testHexKey + `</enc></message>`

func TestLibraryLogsAreMasked(t *testing.T) {
	b64Key := base64.StdEncoding.EncodeToString([]byte(testHexKey[:32]))
	byteList := "[" + strings.Repeat("17 ", 31) + "17]"
	for _, tc := range []struct {
		name     string
		log      func(l slogLogger, sig signalLogger)
		dropped  bool
		want     []string // substrings the line keeps
		wantNone []string // substrings that must not appear
	}{
		{"paired JID", func(l slogLogger, _ signalLogger) { l.Infof("Successfully paired %s", testNumber+":3@s.whatsapp.net") },
			false, []string{"Successfully paired 1555***", ":3@s.whatsapp.net"}, []string{testNumber}},
		{"contact JID", func(l slogLogger, _ signalLogger) { l.Warnf("No LID found for %s", testNumber+"@s.whatsapp.net") },
			false, []string{"1555***", "@s.whatsapp.net"}, []string{testNumber}},
		{"LID", func(l slogLogger, _ signalLogger) { l.Infof("migrating to %s", "123456789012345:3@lid") },
			false, []string{"1234***", ":3@lid"}, []string{"123456789012345"}},
		{"signal address", func(l slogLogger, _ signalLogger) {
			l.Debugf("No sessions found to migrate from %s to %s", testNumber+":0", "100000000000001_1:0")
		}, false, []string{"1555***", "1000***"}, []string{testNumber, "100000000000001"}},
		{"hex id and pointer stay", func(l slogLogger, _ signalLogger) { l.Debugf("ack 3EB0123456789012 at 0x20fe47016000") },
			false, []string{"ack 3EB0123456789012 at 0x20fe47016000"}, nil},
		{"raw number", func(l slogLogger, _ signalLogger) { l.Warnf("pair code for +%s", testNumber) },
			false, []string{"pair code for 1555***"}, []string{"5550001111"}},
		{"stanza at warn is masked", func(l slogLogger, _ signalLogger) { l.Warnf("Node handling took 2s for %s", testStanza) },
			false, []string{"<enc", "[redacted]", "3EB0ABCDEF0123456789"}, []string{testHexKey, testNumber}},
		{"base64 key", func(l slogLogger, _ signalLogger) { l.Errorf("bad identity %s", b64Key) },
			false, []string{"bad identity [redacted]"}, []string{b64Key}},
		{"stanza at debug", func(l slogLogger, _ signalLogger) { l.Debugf("Got identity change for %s: %s", testNumber, testStanza) },
			true, nil, nil},
		{"Recv trace", func(l slogLogger, _ signalLogger) { l.Sub("Recv").Debugf("%s", "<ib><offline count=\"0\"/></ib>") },
			true, nil, nil},
		{"Send trace", func(l slogLogger, _ signalLogger) { l.Sub("Send").Debugf("%s", testStanza) },
			true, nil, nil},
		{"AppState debug", func(l slogLogger, _ signalLogger) { l.Sub("AppState").Debugf("patch key %s", "ABCDEF") },
			true, nil, nil},
		{"Recv warning stays", func(l slogLogger, _ signalLogger) {
			l.Sub("Recv").Warnf("unexpected from %s", testNumber+"@s.whatsapp.net")
		},
			false, []string{"unexpected from 1555***", `"wa_module":"Recv"`}, []string{testNumber}},
		{"plain debug stays", func(l slogLogger, _ signalLogger) {
			l.Sub("Socket").Debugf("Dialing %s", "wss://web.whatsapp.com/ws/chat")
		},
			false, []string{"Dialing wss://web.whatsapp.com/ws/chat"}, nil},
		{"libsignal debug key", func(_ slogLogger, s signalLogger) { s.Debug("SessionCipher.go:397", "Using cipherKey: "+byteList) },
			true, nil, nil},
		{"libsignal info", func(_ slogLogger, s signalLogger) { s.Info("Session.go:112", "Processing message with PreKeyID: 3") },
			false, []string{"PreKeyID: 3", `"component":"libsignal"`}, nil},
		{"libsignal error masked", func(_ slogLogger, s signalLogger) { s.Error("SessionCipher.go:239", "bad mac "+byteList) },
			false, []string{"bad mac [redacted]"}, []string{"17 17"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			base := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
			tc.log(newLogger(base), newSignalLogger(base))
			out := buf.String()
			if tc.dropped {
				if out != "" {
					t.Fatalf("got %s, want the line dropped", out)
				}
				return
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("got %s, want it to contain %q", out, w)
				}
			}
			for _, w := range tc.wantNone {
				if strings.Contains(out, w) {
					t.Errorf("got %s, want no %q", out, w)
				}
			}
		})
	}
}

// The mask tells numbers apart without showing them.
func TestMaskNumberIsStableAndDistinct(t *testing.T) {
	a, b := maskNumber("15550001111"), maskNumber("15550002222")
	if a != maskNumber("+15550001111") {
		t.Errorf("got %q and %q for one number, want the same mask", a, maskNumber("+15550001111"))
	}
	if a == b {
		t.Errorf("got %q for two numbers, want different masks", a)
	}
}
