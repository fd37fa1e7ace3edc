package whatsapp

import "sync"

// queue is an unbounded FIFO with a wake-up channel. whatsmeow's event
// handlers push to it; all but messages and receipts return at once,
// whatever the consumer is doing (downloading media, calling OnEvent).
type queue struct {
	mu     sync.Mutex
	items  []any
	wake   chan struct{}
	closed bool
}

func newQueue() *queue {
	return &queue{wake: make(chan struct{}, 1)}
}

// push appends v; after close it drops v and returns false.
func (q *queue) push(v any) bool {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return false
	}
	q.items = append(q.items, v)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return true
}

// take returns everything queued so far, or nil and false once the queue
// is closed and empty.
func (q *queue) take(done <-chan struct{}) ([]any, bool) {
	for {
		q.mu.Lock()
		items := q.items
		q.items = nil
		closed := q.closed
		q.mu.Unlock()
		if len(items) > 0 {
			return items, true
		}
		if closed {
			return nil, false
		}
		select {
		case <-q.wake:
		case <-done:
			return nil, false
		}
	}
}

// close makes take return false once the queued items are consumed.
func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}
