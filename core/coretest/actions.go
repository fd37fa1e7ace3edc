package coretest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/wagate/wagate/ports"
)

var _ ports.WAActions = (*Actions)(nil)

// Actions is a ports.WAActions that writes each call to Calls ("react
// <chat>/<id> <emoji>", "edit <chat>/<id> <text>", "revoke <chat>/<id>",
// "read <chat>/<id>,<id>", "presence <chat> <state>") and fails them all
// with Err when it is set.
type Actions struct {
	Err error

	mu    sync.Mutex
	calls []string
}

// Calls returns the calls so far, in order.
func (a *Actions) Calls() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.calls)
}

// record logs c and returns Err.
func (a *Actions) record(c string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.Err != nil {
		return a.Err
	}
	a.calls = append(a.calls, c)
	return nil
}

// React logs the reaction.
func (a *Actions) React(_ context.Context, _ ports.InstanceID, k ports.WAMessageKey, emoji string) error {
	return a.record(fmt.Sprintf("react %s/%s %s", k.Chat, k.ID, emoji))
}

// Edit logs the edit.
func (a *Actions) Edit(_ context.Context, _ ports.InstanceID, k ports.WAMessageKey, text string) error {
	return a.record(fmt.Sprintf("edit %s/%s %s", k.Chat, k.ID, text))
}

// Revoke logs the revoke.
func (a *Actions) Revoke(_ context.Context, _ ports.InstanceID, k ports.WAMessageKey) error {
	return a.record(fmt.Sprintf("revoke %s/%s", k.Chat, k.ID))
}

// MarkRead logs the read receipt.
func (a *Actions) MarkRead(_ context.Context, _ ports.InstanceID, keys []ports.WAMessageKey, _ time.Time) error {
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.ID
	}
	chat := ""
	if len(keys) > 0 {
		chat = keys[0].Chat
	}
	return a.record(fmt.Sprintf("read %s/%s", chat, strings.Join(ids, ",")))
}

// SendChatPresence logs the presence.
func (a *Actions) SendChatPresence(_ context.Context, _ ports.InstanceID, chat string, p ports.ChatPresence) error {
	return a.record(fmt.Sprintf("presence %s %s", chat, p))
}
