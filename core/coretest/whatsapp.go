package coretest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/wagate/wagate/ports"
)

var _ ports.WhatsApp = (*WhatsApp)(nil)

// WhatsApp is a ports.WhatsApp whose answers the test sets. It writes each
// call but Send to Log ("connect <id> jid=<jid> proxy=<url>", "pair-code
// <id> <phone>", "disconnect <id>", "logout <id>", "check <id> <phones>"),
// which a test may share with other fakes to see the order of all calls,
// and keeps every message sent in Sent. Set the fields before the code
// under test runs; they are read under the fake's lock.
type WhatsApp struct {
	Log *CallLog // nil: calls are not logged
	// ConnectErr is what Connect returns per instance; none: nil.
	ConnectErr map[ports.InstanceID]error
	// OnConnect runs after a successful Connect, as the adapter's first
	// events would.
	OnConnect func(ports.InstanceID)
	// Err, when set, is returned by PairCode, Disconnect, Logout and
	// CheckNumbers.
	Err error
	// Exists holds the phone numbers (digits) that are on WhatsApp.
	Exists map[string]bool
	// SendFunc answers Send; nil: Send is EUnsupported.
	SendFunc func(ports.WAOutbound) (ports.WASent, error)
	// Sent lists the messages given to Send, in order. Read it once the
	// sends are over, or through Sends.
	Sent []ports.WAOutbound

	mu sync.Mutex
}

// log writes c to Log, if there is one.
func (f *WhatsApp) log(c string) {
	if f.Log != nil {
		f.Log.Add(c)
	}
}

// NewWhatsApp returns a fake that logs to log (a new one when nil).
func NewWhatsApp(log *CallLog) *WhatsApp {
	if log == nil {
		log = &CallLog{}
	}
	return &WhatsApp{Log: log, Exists: map[string]bool{}}
}

// Connect logs the call and returns ConnectErr[id].
func (f *WhatsApp) Connect(_ context.Context, id ports.InstanceID, opt ports.ConnectOptions) error {
	f.log(fmt.Sprintf("connect %s jid=%s proxy=%s", id, opt.JID, opt.ProxyURL))
	f.mu.Lock()
	err, hook := f.ConnectErr[id], f.OnConnect
	f.mu.Unlock()
	if err == nil && hook != nil {
		hook(id)
	}
	return err
}

// PairCode logs the call and answers a fixed code.
func (f *WhatsApp) PairCode(_ context.Context, id ports.InstanceID, phone string) (string, error) {
	f.log(fmt.Sprintf("pair-code %s %s", id, phone))
	if err := f.Failure(); err != nil {
		return "", err
	}
	return "ABCD-EFGH", nil
}

// Disconnect logs the call.
func (f *WhatsApp) Disconnect(_ context.Context, id ports.InstanceID) error {
	f.log("disconnect " + string(id))
	return f.Failure()
}

// Logout logs the call.
func (f *WhatsApp) Logout(_ context.Context, id ports.InstanceID) error {
	f.log("logout " + string(id))
	return f.Failure()
}

// CheckNumbers logs the call and answers from Exists.
func (f *WhatsApp) CheckNumbers(_ context.Context, id ports.InstanceID, phones []string) ([]ports.NumberCheck, error) {
	f.log(fmt.Sprintf("check %s %s", id, strings.Join(phones, ",")))
	if err := f.Failure(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]ports.NumberCheck, len(phones))
	for i, p := range phones {
		out[i] = ports.NumberCheck{PhoneNumber: p}
		if f.Exists[p] {
			out[i].Exists, out[i].JID = true, p+"@s.whatsapp.net"
		}
	}
	return out, nil
}

// Send records m and answers with SendFunc.
func (f *WhatsApp) Send(_ context.Context, _ ports.InstanceID, m ports.WAOutbound) (ports.WASent, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Sent = append(f.Sent, m)
	if f.SendFunc == nil {
		return ports.WASent{}, ports.Errorf(ports.EUnsupported, "the fake does not send")
	}
	return f.SendFunc(m)
}

// Sends returns the messages sent so far.
func (f *WhatsApp) Sends() []ports.WAOutbound {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.Sent)
}

// Failure returns Err, for wrappers that add an optional capability of
// the adapter and fail like the other calls.
func (f *WhatsApp) Failure() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.Err
}

// CallLog is an ordered, concurrency-safe list of calls. The zero CallLog
// is ready to use.
type CallLog struct {
	mu    sync.Mutex
	calls []string
}

// Add appends a call.
func (l *CallLog) Add(c string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, c)
}

// Take returns the calls so far and starts a new list.
func (l *CallLog) Take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.calls
	l.calls = nil
	return out
}
