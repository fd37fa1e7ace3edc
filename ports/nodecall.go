package ports

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// NodeCalls carries calls that need an instance's live WhatsApp
// connection (a contact check, a pair code, a logout's WhatsApp side…)
// from the node that received the request to the node holding the
// instance (SPEC §14), and brings the answer back. Requests and answers
// are opaque bytes (core/nodecalls encodes them).
type NodeCalls interface {
	// Call runs the call named name with req on the node holding id and
	// returns its answer. An error the call returned there comes back as
	// it was (a *Error keeps its code, reason, fields and RetryAfter).
	// ErrNotHeld when no node took the call up (no node holds id right
	// now); EUnavailable, with RetryAfter, when the holder stopped
	// answering mid-call or ctx ended first: never a wait past ctx's
	// deadline.
	Call(ctx context.Context, id InstanceID, name string, req []byte) ([]byte, error)
	// Serve hands the calls of the instances h holds to h, from now on
	// until the transport is closed.
	Serve(h CallHandler) error
}

// CallHandler answers the calls NodeCalls brings to this node.
type CallHandler interface {
	// Owns reports whether this node holds id: only the holder takes a
	// call up.
	Owns(id InstanceID) bool
	// HandleCall runs the call named name for id with req.
	HandleCall(ctx context.Context, id InstanceID, name string, req []byte) ([]byte, error)
}

// NotHeldRetryAfter is the Retry-After of a call no node took up: a
// dead holder's instances are taken over within a lease's TTL.
const NotHeldRetryAfter = 5 * time.Second

var errNotHeld = errors.New("no node holds the instance")

// ErrNotHeld is what NodeCalls.Call returns when no node holds id: an
// EUnavailable error with RetryAfter that IsNotHeld tells apart.
func ErrNotHeld(id InstanceID) error {
	return fmt.Errorf("%s: %w: %w", id, errNotHeld, &Error{Code: EUnavailable, RetryAfter: NotHeldRetryAfter,
		Message: "no node holds the instance's WhatsApp connection right now (it is being handed over): try again in a few seconds"})
}

// IsNotHeld reports whether err says that no node holds the instance.
func IsNotHeld(err error) bool { return errors.Is(err, errNotHeld) }
