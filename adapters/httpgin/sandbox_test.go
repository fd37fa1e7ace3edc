package httpgin

import (
	"context"
	"errors"
	"sync"
)

// fakeSimulator records what the sandbox routes asked of the simulated
// network; fail makes every call fail, as a simulator that refuses.
type fakeSimulator struct {
	mu    sync.Mutex
	scans []scanCall
	texts []textCall
	lids  []textCall // ContactSendTextFromLID
	fail  bool
}

type scanCall struct{ qr, phone string }

type textCall struct{ from, to, text string }

func (f *fakeSimulator) ScanQR(_ context.Context, qr, phone string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return errors.New("no client shows this code")
	}
	f.scans = append(f.scans, scanCall{qr, phone})
	return nil
}

func (f *fakeSimulator) ContactSendText(_ context.Context, from, to, text string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return errors.New("no linked device")
	}
	f.texts = append(f.texts, textCall{from, to, text})
	return nil
}
