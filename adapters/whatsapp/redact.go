package whatsapp

import (
	"fmt"
	"hash/fnv"
	"regexp"
	"strings"
)

// Masking of what whatsmeow and libsignal print, for SPEC §11: logs carry
// no keys and no phone numbers. The libraries format their messages
// themselves, so the masking works on the finished text.
var (
	// keyMaterial: long hex (whatsmeow prints binary stanza content as
	// hex), base64 (keys and media tokens) and decimal byte lists (Go's
	// default format of a []byte, which libsignal uses for keys). Message
	// ids (16-22 hex digits) stay readable.
	keyMaterial = regexp.MustCompile(`\b[0-9A-Fa-f]{32,}\b|[A-Za-z0-9+/_-]{40,}={0,2}|\[(?:\d{1,3} ){15,}\d{1,3}\]`)
	// digitRun: a run of digits, a phone number when it is long enough
	// and stands apart from letters: the user part of a JID
	// (user[.agent][:device]@server; on lid an account id), a signal
	// address (user_agent:device) or a bare number, but not a hex id.
	digitRun = regexp.MustCompile(`\+?[0-9]+`)
	// stanza: an XML element as whatsmeow's Node.XMLString writes it.
	stanza = regexp.MustCompile(`<[a-z][a-z0-9:_-]*(?: [a-z_:-]+="|/?>)`)
)

// redact masks key material, and phone numbers in JIDs or alone, in a
// library message. The server part of a JID stays.
func redact(msg string) string {
	return maskNumbers(keyMaterial.ReplaceAllString(msg, "[redacted]"))
}

// maskNumbers masks the digit runs of phone-number length (7 to 15, E.164)
// that no letter touches. Regexp has no look-around to say this, so the
// neighbours are checked here.
func maskNumbers(msg string) string {
	var b strings.Builder
	prev := 0
	for _, loc := range digitRun.FindAllStringIndex(msg, -1) {
		run := strings.TrimPrefix(msg[loc[0]:loc[1]], "+")
		if len(run) < 7 || len(run) > 15 || letterAt(msg, loc[0]-1) || letterAt(msg, loc[1]) {
			continue
		}
		b.WriteString(msg[prev:loc[0]])
		b.WriteString(maskNumber(run))
		prev = loc[1]
	}
	b.WriteString(msg[prev:])
	return b.String()
}

func letterAt(s string, i int) bool {
	if i < 0 || i >= len(s) {
		return false
	}
	c := s[i] | 0x20 // lower case for ASCII letters
	return c >= 'a' && c <= 'z'
}

// maskNumber keeps the first four characters (the country, mostly) and
// adds a 16-bit hash, so that lines about one number can be told from
// lines about another without the number being readable. Sixteen bits
// leave thousands of numbers behind each hash.
func maskNumber(n string) string {
	n = strings.TrimPrefix(n, "+")
	h := fnv.New32a()
	h.Write([]byte(n))
	return fmt.Sprintf("%s***%04x", n[:min(4, len(n))], h.Sum32()&0xffff)
}

// hasStanza reports whether msg dumps a stanza. Below info these are
// whole nodes (whatsmeow's Recv/Send traces, notifications) and are
// dropped rather than masked: masking cannot know every attribute.
func hasStanza(msg string) bool { return stanza.MatchString(msg) }
