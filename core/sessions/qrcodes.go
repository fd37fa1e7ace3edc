package sessions

import (
	"context"
	"sync"

	"github.com/wagate/wagate/ports"
)

// memoryQRs is the QR code store of a single node (no Deps.QRCodes): the
// codes live in this process, where the pairing runs.
type memoryQRs struct {
	clock ports.Clock
	mu    sync.Mutex
	qrs   map[ports.InstanceID]ports.WAQRCode
}

var _ ports.QRCodeStore = (*memoryQRs)(nil)

func newMemoryQRs(clock ports.Clock) *memoryQRs {
	return &memoryQRs{clock: clock, qrs: map[ports.InstanceID]ports.WAQRCode{}}
}

func (m *memoryQRs) PutQR(_ context.Context, id ports.InstanceID, qr ports.WAQRCode) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	// Expired codes are dropped as new ones come, so the map stays as
	// small as the pairings in progress.
	now := m.clock.Now()
	for k, v := range m.qrs {
		if !now.Before(v.ExpiresAt) {
			delete(m.qrs, k)
		}
	}
	m.qrs[id] = qr
	return nil
}

func (m *memoryQRs) GetQR(_ context.Context, id ports.InstanceID) (ports.WAQRCode, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	qr, ok := m.qrs[id]
	return qr, ok, nil
}

func (m *memoryQRs) DeleteQR(_ context.Context, id ports.InstanceID) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.qrs, id)
	return nil
}
