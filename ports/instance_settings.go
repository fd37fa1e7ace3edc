package ports

import (
	"context"
	"time"
)

// InstanceSettings is an instance's behaviour (SPEC §16, "Per-instance
// behaviour"); the zero value is the default: everything off.
type InstanceSettings struct {
	RejectCalls            bool   // calls are rejected at once
	RejectCallMessage      string // sent to a rejected caller; "" none
	AutoRead               bool   // received messages are marked read
	AlwaysOnline           bool   // the account shows "online"
	IgnoreGroups           bool   // group messages are dropped
	IgnoreStatusBroadcasts bool   // status updates are dropped
}

// MaxRejectCallMessage bounds RejectCallMessage, in characters.
const MaxRejectCallMessage = 1024

// EventCallReceived is the event of every call (SPEC §10).
const EventCallReceived EventType = "call.received"

// WACallKind is the WAEvent kind of an incoming call; see Call.
const WACallKind WAEventKind = "call"

// WACall is a call offered to an instance.
type WACall struct {
	ID      string // WhatsApp's call id
	From    string // the caller's JID (a phone number when known)
	IsVideo bool
	IsGroup bool
	At      time.Time
}

// CallReceivedData is the data of call.received.
type CallReceivedData struct {
	From     string
	IsVideo  bool
	IsGroup  bool
	Rejected bool
}

// WACalls is the port, implemented by the WhatsApp adapter, that answers
// calls and keeps the account's presence; wired on its own like WAActions.
// Errors as WAActions'.
type WACalls interface {
	// RejectCall declines a call offered to the instance.
	RejectCall(ctx context.Context, id InstanceID, call WACall) error
	// SetOnline shows the account available (true) or unavailable.
	SetOnline(ctx context.Context, id InstanceID, online bool) error
}
