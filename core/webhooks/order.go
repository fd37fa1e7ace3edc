package webhooks

import (
	"sync"

	"github.com/wagate/wagate/ports"
)

// Delivery in order (SPEC §9: "in creation order per endpoint as far as
// retries allow") rests on two rules:
//
//   - One lane per endpoint in this process: deliveries are made only by
//     the job that holds their endpoint's lane.
//   - The lane's holder drains: it attempts the endpoint's oldest due
//     pending delivery (ids sort in creation order), then the next, until
//     none is due. Its own delivery goes when nothing older is due. So a
//     newer event never overtakes an older one that is due, whichever job
//     the queue happened to run first.
//
// A job that finds the lane taken knocks and ends: its delivery is due
// (the queue ran its job), so the holder makes it, and the knock makes the
// holder look once more before it lets go, in case the delivery came after
// its last look. Ending at once, rather than waiting or being deferred,
// keeps a busy endpoint's jobs from holding workers or churning through
// the queue. If the holder stops early (an error, a shutdown), its own job
// runs again and drains again; the relay (RelayOnce) is the last resort for
// deliveries whose jobs have ended.
//
// "As far as retries allow": a delivery waiting for a later retry is not
// due, so it does not hold the endpoint up; later events pass it.
//
// Claiming an attempt moves the delivery's next attempt to the end of a
// lease (see claim), so that another node's drain does not pick a delivery
// in flight, and a crash mid-attempt leaves it due again once the lease
// ends. Across several nodes the lanes are per process: each drain still
// goes oldest first, so the order is kept except between attempts that
// different nodes start within the same moment.
type lanes struct {
	mu sync.Mutex
	// held maps a held lane to whether a job knocked since its holder
	// last looked for due deliveries.
	held map[ports.WebhookID]bool
}

// maxDrain bounds the deliveries one job makes before it hands its lane
// over to a new job, so that a busy endpoint's backlog does not keep one
// worker for ever while other endpoints' jobs wait.
const maxDrain = 100

func newLanes() *lanes { return &lanes{held: map[ports.WebhookID]bool{}} }

// acquire takes the endpoint's lane. If it is held, it knocks and returns
// false: the holder will look again before it lets go.
func (l *lanes) acquire(id ports.WebhookID) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, held := l.held[id]; held {
		l.held[id] = true
		return false
	}
	l.held[id] = false
	return true
}

// release gives the lane back, unless a job knocked since the holder last
// looked: then it clears the knock, keeps the lane and returns false, and
// the holder must look again.
func (l *lanes) release(id ports.WebhookID) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held[id] {
		l.held[id] = false
		return false
	}
	delete(l.held, id)
	return true
}

// drop gives the lane back whatever knocked.
func (l *lanes) drop(id ports.WebhookID) {
	l.mu.Lock()
	delete(l.held, id)
	l.mu.Unlock()
}
