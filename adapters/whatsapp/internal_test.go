package whatsapp

import (
	"context"
	"errors"
	"testing"
	"time"

	wa "go.mau.fi/whatsmeow"

	"github.com/wagate/wagate/ports"
)

func TestPhoneDigits(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		code     ports.ErrorCode
	}{
		{in: "+1 (555) 000-1111", want: "15550001111"},
		{in: "4915112345678", want: "4915112345678"},
		{in: "12345", code: ports.EInvalid},
		{in: "01555000111", code: ports.EInvalid},
		{in: "+1555abc0001", code: ports.EInvalid},
		{in: "1234567890123456", code: ports.EInvalid},
	} {
		got, err := phoneDigits(tc.in)
		if got != tc.want || ports.ErrorCodeOf(err) != tc.code {
			t.Errorf("phoneDigits(%q): got %q, %v; want %q, code %q", tc.in, got, err, tc.want, tc.code)
		}
	}
}

func TestCheckProxyURL(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"", true},
		{"http://proxy:3128", true},
		{"https://user:pw@proxy:443", true},
		{"socks5://127.0.0.1:1080", true},
		{"ftp://proxy:21", false},
		{"proxy:3128", false},
		{"http://", false},
	} {
		err := checkProxyURL(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("checkProxyURL(%q): got %v, want ok=%v", tc.in, err, tc.ok)
		}
	}
}

func TestQueueKeepsOrderAndDrainsAfterClose(t *testing.T) {
	q := newQueue()
	for i := range 5 {
		q.push(i)
	}
	q.close()
	q.push(99) // dropped: closed
	done := make(chan struct{})
	var got []any
	for {
		items, ok := q.take(done)
		if !ok {
			break
		}
		got = append(got, items...)
	}
	if len(got) != 5 {
		t.Fatalf("got %v, want 0..4", got)
	}
	for i, v := range got {
		if v != i {
			t.Errorf("got item %d = %v, want %d", i, v, i)
		}
	}
}

func TestCapBackoff(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	m := &Manager{opt: Options{ReconnectMax: 10 * time.Second}, ctx: ctx}
	cli := &wa.Client{AutoReconnectErrors: 20}
	hook := m.capBackoff(cli)
	if !hook(errors.New("dial: refused")) {
		t.Error("got false, want the reconnects to go on")
	}
	// whatsmeow waits 2 s per error: 5 errors make the 10 s cap.
	if cli.AutoReconnectErrors != 5 {
		t.Errorf("got %d errors, want 5", cli.AutoReconnectErrors)
	}
	cancel()
	if hook(errors.New("dial: refused")) {
		t.Error("got true after the manager closed, want the reconnects to stop")
	}
}
