package events_test

import (
	"slices"
	"testing"

	"github.com/wagate/wagate/ports"
)

// recorder collects what a tail emits.
type recorder struct{ got []int64 }

func (r *recorder) emit(e ports.Event) error {
	r.got = append(r.got, e.Position)
	return nil
}

// TestTailSeam: the replay, then live events out of order, repeated and
// with holes: each position comes out once, in order.
func TestTailSeam(t *testing.T) {
	e := newFeedEnv(t)
	var log []ports.Event
	for range 3 {
		log = append(log, e.appendEvent("sub-a", "i1", ports.EventMessageStatus))
	}
	rec := &recorder{}
	tail, err := e.feed.Follow(e.ctx, ports.EventFilter{SubscriptionID: "sub-a"}, 1, rec.emit)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rec.got, []int64{2, 3}) {
		t.Fatalf("replay: got %v, want [2 3]", rec.got)
	}
	for range 4 {
		log = append(log, e.appendEvent("sub-a", "i1", ports.EventMessageStatus))
	}
	// The bus repeats 3 (published during the replay), skips 4 and 5 (a
	// node crashed before forwarding them) and brings 7 before 6.
	for _, i := range []int{2, 5, 6, 3, 4} {
		if err := tail.Live(e.ctx, log[i], rec.emit); err != nil {
			t.Fatal(err)
		}
	}
	if want := []int64{2, 3, 4, 5, 6, 7}; !slices.Equal(rec.got, want) {
		t.Fatalf("got %v, want %v", rec.got, want)
	}
	if tail.Last() != 7 {
		t.Fatalf("last: got %d, want 7", tail.Last())
	}
}

// TestTailFilter: a filtered tail emits only matching events, yet moves
// past the others without reading them again.
func TestTailFilter(t *testing.T) {
	e := newFeedEnv(t)
	var log []ports.Event
	for i := range 6 {
		typ := ports.EventMessageStatus
		if i%2 == 0 {
			typ = ports.EventInstanceStatus
		}
		log = append(log, e.appendEvent("sub-a", "i1", typ))
	}
	rec := &recorder{}
	f := ports.EventFilter{SubscriptionID: "sub-a", Types: []ports.EventType{ports.EventInstanceStatus}}
	tail, err := e.feed.Follow(e.ctx, f, 0, rec.emit)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int64{1, 3, 5}; !slices.Equal(rec.got, want) {
		t.Fatalf("replay: got %v, want %v", rec.got, want)
	}
	more := e.appendEvent("sub-a", "i1", ports.EventInstanceStatus)
	for _, ev := range []ports.Event{log[5], more, log[4]} {
		if err := tail.Live(e.ctx, ev, rec.emit); err != nil {
			t.Fatal(err)
		}
	}
	// Outside the log: no position, passed as it comes if it matches.
	other := ports.Event{ID: "evt_x", Type: ports.EventMessageStatus, SubscriptionID: "sub-a"}
	if err := tail.Live(e.ctx, other, rec.emit); err != nil {
		t.Fatal(err)
	}
	if want := []int64{1, 3, 5, 7}; !slices.Equal(rec.got, want) {
		t.Fatalf("got %v, want %v", rec.got, want)
	}
}

// TestTailLongReplay: a replay longer than one page reads every page.
func TestTailLongReplay(t *testing.T) {
	e := newFeedEnv(t)
	for range 250 {
		e.appendEvent("sub-a", "i1", ports.EventMessageStatus)
	}
	rec := &recorder{}
	if _, err := e.feed.Follow(e.ctx, ports.EventFilter{SubscriptionID: "sub-a"}, 10, rec.emit); err != nil {
		t.Fatal(err)
	}
	if len(rec.got) != 240 || rec.got[0] != 11 || rec.got[239] != 250 {
		t.Fatalf("got %d events from %d, want 240 from 11 to 250", len(rec.got), rec.got[0])
	}
	for i := 1; i < len(rec.got); i++ {
		if rec.got[i] != rec.got[i-1]+1 {
			t.Fatalf("position %d follows %d", rec.got[i], rec.got[i-1])
		}
	}
}
