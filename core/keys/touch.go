package keys

import (
	"context"
	"sync"
	"time"

	"github.com/wagate/wagate/ports"
)

// lastUsedAt is written in the background and at most once a minute per
// key: a busy key would otherwise cost a write per request.
const (
	touchEvery  = time.Minute
	touchBuffer = 1024
	flushWithin = 5 * time.Second
)

type touch struct {
	id ports.APIKeyID
	at time.Time
}

// toucher queues lastUsedAt updates.
type toucher struct {
	ch chan touch

	mu   sync.Mutex
	last map[ports.APIKeyID]time.Time
}

func newToucher() *toucher {
	return &toucher{ch: make(chan touch, touchBuffer), last: map[ports.APIKeyID]time.Time{}}
}

// queue asks for a write unless the key was queued within the last minute.
// It never blocks a request: when the buffer is full the touch is dropped,
// which only makes lastUsedAt a little older.
func (t *toucher) queue(id ports.APIKeyID, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if last, ok := t.last[id]; ok && now.Sub(last) < touchEvery {
		return
	}
	select {
	case t.ch <- touch{id: id, at: now}:
		t.last[id] = now
	default:
	}
	// Forget keys not seen for a while, so that the map stays as small as
	// the set of keys in use.
	if len(t.last) > touchBuffer {
		for k, at := range t.last {
			if now.Sub(at) >= touchEvery {
				delete(t.last, k)
			}
		}
	}
}

func (s *Service) run(ctx context.Context) {
	for {
		select {
		case tc := <-s.touches.ch:
			s.write(ctx, tc)
		case <-ctx.Done():
			s.flush(ctx)
			return
		}
	}
}

// flush writes what is still queued, with a short deadline of its own: ctx
// is already done.
func (s *Service) flush(ctx context.Context) {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flushWithin)
	defer cancel()
	for {
		select {
		case tc := <-s.touches.ch:
			s.write(fctx, tc)
		default:
			return
		}
	}
}

func (s *Service) write(ctx context.Context, tc touch) {
	if err := s.d.Stores.APIKeys.TouchAPIKey(ctx, tc.id, tc.at); err != nil {
		s.d.Log.WarnContext(ctx, "record api key use", "apiKeyId", tc.id, "err", err)
	}
}
