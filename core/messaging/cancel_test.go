package messaging_test

import (
	"sync"
	"testing"

	"github.com/wagate/wagate/ports"
)

// TestCancelRacesTheClaim runs a cancel and the send job of one queued
// message at the same time, many times: exactly one of them wins. A
// cancelled message was never sent; one the worker claimed was sent once,
// and the cancel was refused (or, when it came after the send, deleted the
// message for everyone).
func TestCancelRacesTheClaim(t *testing.T) {
	e := newActionEnv(t)
	outcomes := map[ports.MessageStatus]int{}
	for range 200 {
		m := e.send(t, "+15550001111")
		before := len(e.wa.Sends())
		var wg sync.WaitGroup
		var cancelErr, sendErr error
		wg.Add(2)
		go func() { defer wg.Done(); _, cancelErr = e.svc.Delete(t.Context(), e.p, e.inst.ID, m.ID) }()
		go func() { defer wg.Done(); sendErr = e.svc.HandleSend(t.Context(), e.job(m.ID)) }()
		wg.Wait()
		if sendErr != nil {
			t.Fatalf("send job: %v", sendErr)
		}
		got := e.get(t, m.ID)
		sends := len(e.wa.Sends()) - before
		outcomes[got.Status]++
		switch got.Status {
		case ports.MsgCancelled:
			if cancelErr != nil || sends != 0 {
				t.Fatalf("cancelled: cancel %v, %d sends; want the cancel to succeed and nothing sent", cancelErr, sends)
			}
		case ports.MsgSent:
			wantReason(t, "cancel that lost to the claim", cancelErr, ports.EConflict, "message_sending")
			if sends != 1 {
				t.Fatalf("sent: got %d sends, want 1", sends)
			}
		case ports.MsgDeleted:
			if cancelErr != nil || sends != 1 {
				t.Fatalf("deleted: cancel %v, %d sends; want one send, then the delete", cancelErr, sends)
			}
		default:
			t.Fatalf("got status %s, want cancelled, sent or deleted", got.Status)
		}
	}
	t.Logf("outcomes: %v", outcomes)
}

// TestCancelAfterATimedOutAttempt: an attempt that timed out may have
// reached WhatsApp under the message's fixed id, so the message cannot be
// called cancelled; one whose attempt found the instance disconnected
// never left and can be.
func TestCancelAfterATimedOutAttempt(t *testing.T) {
	e := newActionEnv(t)
	e.wa.SendFunc = func(ports.WAOutbound) (ports.WASent, error) {
		return ports.WASent{}, ports.Errorf(ports.EUnavailable, "timed out")
	}
	m := e.send(t, "+15550001111")
	if err := e.run(t, m.ID); !ports.IsCode(err, ports.EUnavailable) {
		t.Fatalf("timed-out send: got %v, want unavailable (retried)", err)
	}
	if got := e.get(t, m.ID); got.Status != ports.MsgQueued || got.Attempts != 1 {
		t.Fatalf("after the timeout: got %s with %d attempts, want queued with 1", got.Status, got.Attempts)
	}
	_, err := e.svc.Delete(t.Context(), e.p, e.inst.ID, m.ID)
	wantReason(t, "cancel after a timed-out attempt", err, ports.EConflict, "message_sending")
	if got := e.get(t, m.ID); got.Status != ports.MsgQueued {
		t.Errorf("after the refused cancel: got %s, want still queued", got.Status)
	}

	e.wa.SendFunc = func(ports.WAOutbound) (ports.WASent, error) { return ports.WASent{}, ports.ErrNotConnected() }
	d := e.send(t, "+15550001111")
	if err := e.run(t, d.ID); !ports.IsCode(err, ports.EUnavailable) {
		t.Fatalf("send while disconnected: got %v, want unavailable (retried)", err)
	}
	got, err := e.svc.Delete(t.Context(), e.p, e.inst.ID, d.ID)
	if err != nil || got.Status != ports.MsgCancelled {
		t.Errorf("cancel of a message whose attempt found the instance disconnected: got %s, %v; want cancelled", got.Status, err)
	}
}
