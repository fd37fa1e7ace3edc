package coretest_test

import (
	"testing"

	"github.com/wagate/wagate/core/coretest"
	"github.com/wagate/wagate/ports"
)

// The fake keeps the real queues' rule that matters to core: a pending id
// is refused, a taken one may be enqueued again.
func TestQueueRefusesAPendingID(t *testing.T) {
	var q coretest.Queue
	ctx := t.Context()
	for _, id := range []string{"a", "b"} {
		if err := q.Enqueue(ctx, ports.Job{ID: id}); err != nil {
			t.Fatalf("enqueue %s: %v", id, err)
		}
	}
	if err := q.Enqueue(ctx, ports.Job{ID: "a"}); !ports.IsCode(err, ports.EConflict) {
		t.Errorf("enqueue a pending id: got %v, want EConflict", err)
	}
	if j, ok := q.TakeNewest(); !ok || j.ID != "b" {
		t.Errorf("newest: got %q %v, want b", j.ID, ok)
	}
	if j, ok := q.Take("a"); !ok || j.ID != "a" || q.Len() != 0 {
		t.Errorf("take a: got %q %v with %d left, want a and none", j.ID, ok, q.Len())
	}
	if err := q.Enqueue(ctx, ports.Job{ID: "a"}); err != nil {
		t.Errorf("enqueue a taken id: got %v, want nil", err)
	}
}
