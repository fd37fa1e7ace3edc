package wasim

import (
	"context"
	"fmt"
	"sync"
)

// receiptLog remembers which message ids a device has acknowledged with a
// receipt. whatsmeow emits an inbound message's event before it sends the
// receipt, and closing a client while that receipt is being written is a
// data race inside whatsmeow; a test that waits for the receipt first knows
// the client is done with the message.
type receiptLog struct {
	mu   sync.Mutex
	seen map[string]chan struct{}
}

func (l *receiptLog) signal(id string) chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen == nil {
		l.seen = map[string]chan struct{}{}
	}
	c, ok := l.seen[id]
	if !ok {
		c = make(chan struct{})
		l.seen[id] = c
	}
	return c
}

// mark records the ids a receipt stanza acknowledges (receiptIDs).
func (l *receiptLog) mark(ids []string) {
	for _, id := range ids {
		c := l.signal(id)
		l.mu.Lock()
		select {
		case <-c:
		default:
			close(c)
		}
		l.mu.Unlock()
	}
}

// WaitReceipt waits until some device has sent a receipt for the message id
// (a linked client acknowledging an inbound message does so right after
// handling it).
func (s *Server) WaitReceipt(ctx context.Context, msgID string) error {
	select {
	case <-s.receipts.signal(msgID):
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for a receipt of %s: %w", msgID, ctx.Err())
	}
}
