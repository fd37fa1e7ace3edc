package events

import (
	"context"

	"github.com/wagate/wagate/ports"
)

// tailPage bounds one read of a replay or a gap fill.
const tailPage = 100

// Tail joins a replay of the log to the live events of the realtime bus
// for one stream, so that the client gets each event of its filter once,
// in log order, with no gap and no repeat at the seam. The stream
// subscribes to the bus (subscription-wide: every position must be seen
// to notice a gap) before it calls Follow, so that nothing committed after
// the replay's end is missed, and hands every bus event to Live.
//
// It relies on the log's positions being gapless per subscription and
// committing in order: the live events at or before the last position
// written were replayed already, and a live event past the next position
// means the bus reordered or lost some (nodes publish independently, a
// crash loses a batch's realtime copies), which are read from the log.
// A Tail belongs to one stream's goroutine.
type Tail struct {
	f      *Feed
	filter ports.EventFilter
	last   int64 // the stream is complete up to this position
}

// Follow replays through emit the events of filter after the position
// after up to the log's current end, and returns the tail that carries on
// with the live events.
func (f *Feed) Follow(ctx context.Context, filter ports.EventFilter, after int64, emit func(ports.Event) error) (*Tail, error) {
	end, err := f.End(ctx, filter.SubscriptionID)
	if err != nil {
		return nil, err
	}
	t := &Tail{f: f, filter: filter, last: after}
	if err := t.fill(ctx, end, emit); err != nil {
		return nil, err
	}
	return t, nil
}

// Live hands one bus event to the stream: skipped if it was written
// already, after the missing ones from the log if it jumps ahead.
// Events without a position (not from the log) pass as they come.
func (t *Tail) Live(ctx context.Context, e ports.Event, emit func(ports.Event) error) error {
	if e.Position == 0 {
		return t.emit(e, emit)
	}
	if e.Position <= t.last {
		return nil
	}
	if err := t.fill(ctx, e.Position-1, emit); err != nil {
		return err
	}
	t.last = e.Position
	return t.emit(e, emit)
}

func (t *Tail) emit(e ports.Event, emit func(ports.Event) error) error {
	if !t.filter.Matches(e) {
		return nil
	}
	return emit(e)
}

// fill writes the filter's events of the log after t.last up to until and
// moves t.last there. Every position up to until has committed, so what
// the log does not return there is filtered out or purged, not late.
func (t *Tail) fill(ctx context.Context, until int64, emit func(ports.Event) error) error {
	for t.last < until {
		evs, err := t.f.page(ctx, t.filter, t.last, until, tailPage)
		if err != nil {
			return err
		}
		for _, e := range evs {
			if err := emit(e); err != nil {
				return err
			}
			t.last = e.Position
		}
		if len(evs) < tailPage {
			t.last = until
		}
	}
	return nil
}

// Last is the position the stream is complete up to.
func (t *Tail) Last() int64 { return t.last }
