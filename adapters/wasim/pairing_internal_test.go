package wasim

import (
	"context"
	"testing"
)

// A successful pairing answers done and then closes the connection (the
// 515 stream error): when the scanning side wakes up late, both are ready
// at once and the pairing must still count as done.
func TestAwaitPairSignPrefersDoneOverClose(t *testing.T) {
	for i := range 200 {
		connCtx, cancel := context.WithCancel(context.Background())
		cancel()
		p := &pairing{done: make(chan error, 1)}
		p.done <- nil
		if err := awaitPairSign(context.Background(), &conn{ctx: connCtx}, p); err != nil {
			t.Fatalf("round %d: got %v with the answer and the close both ready, want nil", i, err)
		}
	}
}

// Without an answer a closed connection is a failed pairing.
func TestAwaitPairSignFailsOnCloseWithoutAnswer(t *testing.T) {
	connCtx, cancel := context.WithCancel(context.Background())
	cancel()
	p := &pairing{done: make(chan error, 1)}
	if err := awaitPairSign(context.Background(), &conn{ctx: connCtx}, p); err == nil {
		t.Fatal("got nil with the connection closed and no answer, want an error")
	}
}
