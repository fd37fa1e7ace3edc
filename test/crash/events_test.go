package crash

import (
	"context"
	"math/rand/v2"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wagate/wagate/adapters/wasim"
	"github.com/wagate/wagate/test/testserver"
)

// The event log's crash proof (SPEC §10, issue 11): the server is killed
// with SIGKILL at random moments while 1,000 inbound messages and 1,000
// sends are processed, with WhatsApp's receipts coming in; after the last
// restart, every change the database shows has exactly one event in the
// log, each webhook endpoint answered each webhook-id 2xx exactly once,
// and a WebSocket client that reconnected with ?after= got every event
// once, in order. WAGATE_CRASH_SEED replays a run's kill moments.

const (
	logInbound = 1000
	logSends   = 1000
	// logPeers write the inbound messages and receive the sends, a
	// twentieth each.
	logPeers = 20
	logKills = 3
	// logReceipts is the simulated phones' delay before delivered (and
	// twice it before read): receipts arrive throughout, kills included.
	logReceipts = 300 * time.Millisecond
	// logAhead is how far the inbound messages may run ahead of the
	// sends, so that both are under way at every kill.
	logAhead = 50
)

func TestEventLogSurvivesKills(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			eventLogSurvivesKills(t, b)
		})
	}
}

// logRun is one test's world: the server, its peers and its observers.
type logRun struct {
	sim   *wasim.Server
	px    *testserver.Proxy
	d     *deployment
	p     *testserver.Process
	c     *client
	rec   *logReceiver
	ws    *wsFollower
	inst  string
	phone string
	rng   *rand.Rand

	peers    []*wasim.Contact
	served   atomic.Int64 // sends that reached their phone
	newServe chan struct{}
	sendIDs  []string
}

func eventLogSurvivesKills(t *testing.T, b backend) {
	if testing.Short() {
		t.Skip("a crash test of a minute or more; skipped with -short")
	}
	seed := logSeed(t)
	r := &logRun{rng: rand.New(rand.NewPCG(seed, seed)), newServe: make(chan struct{}, 1)}
	r.sim = startSim(t, logReceipts)
	r.px = testserver.StartProxy(t, r.sim.Addr())
	r.rec = newLogReceiver(t)
	r.d = deploy(t, b, r.px.Addr(), map[string]string{
		"WAGATE_WEBHOOK_ALLOW_PRIVATE": "true",
		"WAGATE_WEBHOOK_ALLOW_HTTP":    "true",
		"WAGATE_WEBHOOK_SCHEDULE":      hookSchedule,
	})
	r.p = startProcess(t, r.d)
	r.c = newClient(r.p)
	r.c.register(t)
	db := openLog(t, r.d)
	r.setUp(t)
	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	r.ws = &wsFollower{base: r.p.URL, token: r.c.token}
	go r.ws.follow(ctx)
	r.link(t)

	r.startPeers(ctx)
	start := time.Now()
	r.sendAll(t)
	inbound := r.startInbound(ctx)
	r.killAtRandom(t, db)
	if err := <-inbound; err != nil {
		t.Fatalf("inbound: %v", err)
	}
	log, in, out := r.drain(t, db)
	t.Logf("%s after the sends began: %d events in the log, %d of %d inbound messages stored, %d sends",
		time.Since(start).Round(time.Second), len(log), len(in), logInbound, len(out))

	checkAccepted(t, r.sendIDs, out)
	checkAllReceived(t, in)
	checkReceived(t, in, log)
	retried := checkStatuses(t, out, log)
	t.Logf("%d sends went back to queued once or more for a retry", retried)
	r.rec.check(t, r.subscribed(log), eventIDs(log))
	r.ws.check(t, log)
}

// logSeed returns WAGATE_CRASH_SEED or a fresh seed, and logs it.
func logSeed(t *testing.T) uint64 {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("WAGATE_CRASH_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("WAGATE_CRASH_SEED=%q: %v", s, err)
		}
		seed = n
	}
	t.Logf("seed %d (WAGATE_CRASH_SEED=%d replays the kill moments)", seed, seed)
	return seed
}
