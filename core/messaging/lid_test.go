package messaging

import (
	"testing"

	"github.com/wagate/wagate/ports"
)

func TestNormaliseToLIDs(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		bad      bool
	}{
		{in: "123456789012345@lid", want: "123456789012345@lid"},
		{in: " 100000000000001@lid ", want: "100000000000001@lid"},
		{in: "+1 555-0100123", want: "15550100123@s.whatsapp.net"},
		{in: "15550100123@s.whatsapp.net", want: "15550100123@s.whatsapp.net"},
		{in: "12345@lid", bad: true},                   // too short
		{in: "123456789012345678901@lid", bad: true},   // too long
		{in: "12345678901234a@lid", bad: true},         // not digits
		{in: "123456789012345:3@lid", bad: true},       // a device
		{in: "@lid", bad: true},                        // no user
		{in: "123456789012345@lid.example", bad: true}, // another server
	} {
		got, fe := NormaliseTo(tc.in)
		if tc.bad {
			if fe == nil || fe.Field != "to" {
				t.Errorf("NormaliseTo(%q) = %q, %v; want a field error on to", tc.in, got, fe)
			}
			continue
		}
		if fe != nil || got != tc.want {
			t.Errorf("NormaliseTo(%q) = %q, %v; want %q", tc.in, got, fe, tc.want)
		}
	}
}

func TestSameChat(t *testing.T) {
	const pn, lid, other = "15550100123@s.whatsapp.net", "100000000000001@lid", "15550100999@s.whatsapp.net"
	for _, tc := range []struct {
		name string
		m    ports.Message
		r    ports.WAReceiptEvent
		want bool
	}{
		{"same phone number", ports.Message{Chat: pn}, ports.WAReceiptEvent{Chat: pn}, true},
		{"sent to the LID, receipt mapped", ports.Message{Chat: lid, ChatLID: lid}, ports.WAReceiptEvent{Chat: pn, ChatLID: lid}, true},
		{"sent to the number, receipt from the LID", ports.Message{Chat: pn}, ports.WAReceiptEvent{Chat: pn, ChatLID: lid}, true},
		{"unmapped LID: the id decides", ports.Message{Chat: pn}, ports.WAReceiptEvent{Chat: lid, ChatLID: lid}, true},
		{"no chat on the receipt", ports.Message{Chat: pn}, ports.WAReceiptEvent{}, true},
		{"another chat", ports.Message{Chat: pn}, ports.WAReceiptEvent{Chat: other}, false},
		{"another chat by LID", ports.Message{Chat: pn, ChatLID: lid}, ports.WAReceiptEvent{Chat: other, ChatLID: "100000000000002@lid"}, false},
	} {
		if got := sameChat(tc.m, &tc.r); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}
