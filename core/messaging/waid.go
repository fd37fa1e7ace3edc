package messaging

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"time"
)

// newWAMessageID returns a new WhatsApp message id in the format of
// WhatsApp Web (whatsmeow's Client.GenerateMessageID): "3EB0" and the
// first 9 bytes, upper-case hex, of SHA-256 over the Unix time (8 bytes,
// big-endian), the sender's user with "@c.us" when known, and 16 random
// bytes. own is the sending instance's JID; empty leaves the user out.
func newWAMessageID(now time.Time, own string) string {
	data := make([]byte, 8, 8+32+16)
	binary.BigEndian.PutUint64(data, uint64(now.Unix()))
	if user := jidUser(own); user != "" {
		data = append(data, user+"@c.us"...)
	}
	data = append(data, make([]byte, 16)...)
	_, _ = rand.Read(data[len(data)-16:]) // never fails (crypto/rand)
	sum := sha256.Sum256(data)
	return "3EB0" + strings.ToUpper(hex.EncodeToString(sum[:9]))
}

// jidUser is the user part of a JID: "15550001" of
// "15550001:1@s.whatsapp.net".
func jidUser(jid string) string {
	user, _, _ := strings.Cut(jid, "@")
	user, _, _ = strings.Cut(user, ":")
	user, _, _ = strings.Cut(user, ".")
	return user
}
