package httpgin

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/wagate/wagate/ports"
)

// fakeSimulator records what the sandbox routes asked of the simulated
// network; fail makes every call fail, as a simulator that refuses.
type fakeSimulator struct {
	mu    sync.Mutex
	scans []scanCall
	texts []textCall
	lids  []textCall // ContactSendTextFromLID
	fail  bool
	// received is what each phone (digits) received, as the simulator
	// would report it.
	received map[string][]ports.PhoneMessage
	kinds    []ports.PhoneSend // what ContactSendKind sent
	votes    []string          // pollID:selected,…
}

func (f *fakeSimulator) PhoneMessages(_ context.Context, phone string) ([]ports.PhoneMessage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return nil, errors.New("the simulator is gone")
	}
	return append([]ports.PhoneMessage(nil), f.received[phone]...), nil
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

func (f *fakeSimulator) ContactSendKind(_ context.Context, from, to string, m ports.PhoneSend) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return errors.New("no linked device")
	}
	f.kinds = append(f.kinds, m)
	return nil
}

func (f *fakeSimulator) ContactVote(_ context.Context, from, to, pollID string, selected []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return errors.New("no such poll")
	}
	f.votes = append(f.votes, pollID+":"+strings.Join(selected, ","))
	return nil
}
