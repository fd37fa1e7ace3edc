package whatsapp

import (
	"strings"

	"github.com/wagate/wagate/ports"
)

// vCard 3.0 (RFC 2426) is how WhatsApp carries a shared contact. Values
// are escaped so that a name with a newline, comma or semicolon cannot
// add lines or properties to the card.

var vcardEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, "\r", "", ",", `\,`, ";", `\;`)

func escapeVCard(s string) string { return vcardEscaper.Replace(s) }

// buildVCard writes one contact's card. The waid parameter lets WhatsApp
// offer "message" and "add" for a number that has an account.
func buildVCard(c ports.ContactCard) string {
	var b strings.Builder
	b.WriteString("BEGIN:VCARD\r\nVERSION:3.0\r\n")
	b.WriteString("N:;" + escapeVCard(c.Name) + ";;;\r\n")
	b.WriteString("FN:" + escapeVCard(c.Name) + "\r\n")
	if c.Organization != "" {
		b.WriteString("ORG:" + escapeVCard(c.Organization) + "\r\n")
	}
	for _, p := range c.Phones {
		typ := p.Type
		if typ == "" {
			typ = "CELL"
		}
		digits := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, p.Number)
		b.WriteString("TEL;type=" + escapeVCard(typ) + ";waid=" + digits + ":" + escapeVCard(p.Number) + "\r\n")
	}
	if c.Email != "" {
		b.WriteString("EMAIL:" + escapeVCard(c.Email) + "\r\n")
	}
	b.WriteString("END:VCARD\r\n")
	return b.String()
}

// parseVCard reads the name, numbers, email and organisation of a card a
// contact shared; displayName is the fallback name.
func parseVCard(card, displayName string) ports.ContactCard {
	c := ports.ContactCard{Name: displayName}
	for _, line := range strings.Split(unfoldVCard(card), "\n") {
		line = strings.TrimRight(line, "\r")
		head, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		name, params, _ := strings.Cut(head, ";")
		if _, after, ok := strings.Cut(name, "."); ok {
			name = after // item1.TEL: a grouped property
		}
		value = unescapeVCard(value)
		switch strings.ToUpper(name) {
		case "FN":
			if value != "" {
				c.Name = value
			}
		case "ORG":
			c.Organization = strings.TrimRight(value, ";")
		case "EMAIL":
			if c.Email == "" {
				c.Email = value
			}
		case "TEL":
			c.Phones = append(c.Phones, ports.ContactPhone{Number: value, Type: telType(params)})
		}
	}
	return c
}

// unfoldVCard joins continuation lines (a line break then a space or tab).
func unfoldVCard(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.NewReplacer("\n ", "", "\n\t", "").Replace(s)
}

func unescapeVCard(s string) string {
	return strings.NewReplacer(`\n`, "\n", `\N`, "\n", `\,`, ",", `\;`, ";", `\\`, `\`).Replace(s)
}

// telType is the first type of a TEL property's parameters, upper-cased.
func telType(params string) string {
	for _, p := range strings.Split(params, ";") {
		k, v, ok := strings.Cut(p, "=")
		if ok && strings.EqualFold(k, "type") {
			t, _, _ := strings.Cut(v, ",")
			return strings.ToUpper(t)
		}
	}
	return ""
}
