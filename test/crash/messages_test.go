package crash

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wagate/wagate/adapters/wasim"
	"github.com/wagate/wagate/test/testserver"
)

// Message crash safety (SPEC §6 and §8, issue 4): a bulk of 1,000
// recipients, and 300 single messages, are interrupted by SIGKILL and
// resumed by a restart on the same database; every recipient's phone
// receives exactly one message. With asynq a second batch loses the
// queue's Redis keys mid-run, and the relays still complete it.

const (
	bulkRecipients = 1000
	// singleRecipients is smaller: the single sends go through the same
	// claim and relay as a bulk's, one HTTP request each, and 1,000 of
	// them would double the package's runtime for no other path.
	singleRecipients = 300
	// phaseWait bounds one batch, on a loaded machine: the recovery
	// itself takes seconds (a 45 s bulk relay after a Redis flush), the
	// sends up to a few minutes under -race.
	phaseWait = 5 * time.Minute
)

// sendMode is how a batch is handed to the server.
type sendMode struct {
	name       string
	recipients int // per batch
	// start submits the batch and returns a check that reports when the
	// server has finished it.
	start func(t *testing.T, c *client, inst string, b *batch) func() (bool, string)
	// messages lists the batch's messages as the server has them.
	messages func(c *client, inst string, b *batch) ([]map[string]any, error)
}

var sendModes = []sendMode{singles, bulkSend}

func TestMessagesSurviveKill(t *testing.T) {
	for _, mode := range sendModes {
		for _, b := range backends {
			t.Run(mode.name+"/"+b.name, func(t *testing.T) {
				t.Parallel()
				messagesSurviveKill(t, b, mode)
			})
		}
	}
}

func messagesSurviveKill(t *testing.T, b backend, mode sendMode) {
	if testing.Short() {
		t.Skip("a crash test of minutes; skipped with -short")
	}
	sim := startSim(t, 0)
	px := testserver.StartProxy(t, sim.Addr())
	d := deploy(t, b, px.Addr(), nil)
	p := startProcess(t, d)
	c := newClient(p)
	c.register(t)
	inst, _ := c.linkInstance(t, "crash-"+mode.name)
	base := rand.N(8_000_000)

	// Phase 1: SIGKILL once a third of the recipients have their message,
	// right after the last one reached its phone and before the server
	// heard WhatsApp's ack (slowed, then held by the proxy).
	b1 := newBatch(t, sim, mode.name+"-kill", base, mode.recipients)
	done := mode.start(t, c, inst, b1)
	b1.waitServed(t, mode.recipients/3-2)
	px.Slow(time.Second)
	b1.waitServed(t, mode.recipients/3)
	px.Hold(true)
	window := b1.inWindow(c, inst)
	killed := time.Now()
	kill(t, p)
	atKill := b1.served()
	px.Slow(0)
	px.Hold(false)
	restart(t, d, p)
	b1.finish(t, c, inst, mode, done)
	switch {
	case window == "":
		t.Logf("the kill did not fall between a send and its record (no message was sending with its id already received)")
	case b1.duplicates() == 0:
		t.Errorf("message %s reached its phone before the kill, unrecorded; its resend after the restart should be a repeat the phone drops, but no phone saw a repeat", window)
	}
	t.Logf("kill: %d of %d recipients served at the kill, %s between send and record; %s later every one has exactly one message, %d repeats dropped by the phones",
		atKill, mode.recipients, orNone(window), time.Since(killed).Round(time.Second), b1.duplicates())

	if !b.asynq {
		return
	}
	// Phase 2: Redis loses the queue's keys once a third are served.
	b2 := newBatch(t, sim, mode.name+"-flush", base+mode.recipients, mode.recipients)
	done = mode.start(t, c, inst, b2)
	b2.waitServed(t, mode.recipients/3)
	flushed := time.Now()
	deleted, err := d.flushRedis(t.Context())
	if err != nil {
		t.Fatalf("flush Redis: %v", err)
	}
	atFlush := b2.served()
	if atFlush == mode.recipients {
		t.Fatalf("every recipient was served before the flush: nothing was lost")
	}
	b2.finish(t, c, inst, mode, done)
	t.Logf("Redis flush: deleted %d keys with %d of %d recipients served; %s later every one has exactly one message, %d repeats dropped by the phones",
		deleted, atFlush, mode.recipients, time.Since(flushed).Round(time.Second), b2.duplicates())
}

// batch is one run of sends to fresh recipients, and what their phones
// received.
type batch struct {
	name     string
	phones   []string // +digits, in send order
	texts    map[string]string
	want     map[string]string // by phone: the signature of what it must get (kinds_test.go)
	contacts []*wasim.Contact

	mu       sync.Mutex
	got      map[string][]wasim.Received // by phone digits
	nServed  int
	newServe chan struct{} // signalled when a recipient is served
	bulkID   string
	messages map[string]bool // the message ids of singles
}

// newBatch creates the recipients' phones and starts reading what they
// receive, until the test ends.
func newBatch(t *testing.T, sim *wasim.Server, name string, base, n int) *batch {
	b := &batch{name: name, texts: map[string]string{}, want: map[string]string{}, got: map[string][]wasim.Received{}, messages: map[string]bool{},
		newServe: make(chan struct{}, 1)}
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	for i := range n {
		phone := fmt.Sprintf("+1666%07d", base+i)
		b.phones = append(b.phones, phone)
		b.texts[phone] = fmt.Sprintf("crash %s %04d", name, i)
		b.want[phone] = "text:" + b.texts[phone]
		ct := sim.Contact(phone)
		b.contacts = append(b.contacts, ct)
		go b.read(ct, stop)
	}
	return b
}

func (b *batch) read(ct *wasim.Contact, stop <-chan struct{}) {
	for {
		select {
		case r := <-ct.Messages():
			b.mu.Lock()
			if len(b.got[ct.Phone()]) == 0 {
				b.nServed++
				select {
				case b.newServe <- struct{}{}:
				default:
				}
			}
			b.got[ct.Phone()] = append(b.got[ct.Phone()], r)
			b.mu.Unlock()
		case <-stop:
			return
		}
	}
}

// waitServed returns as soon as n recipients have their message.
func (b *batch) waitServed(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(phaseWait)
	for b.served() < n {
		select {
		case <-b.newServe:
		case <-deadline:
			t.Fatalf("waited %s for %d recipients to be served; %d are", phaseWait, n, b.served())
		}
	}
}

// served counts the recipients that received at least one message.
func (b *batch) served() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.nServed
}

// inWindow returns "<message id> to <phone>" of a message the server has
// as sending although its phone has received it (with the WhatsApp id the
// server recorded before the send), or "" if there is none.
func (b *batch) inWindow(c *client, inst string) string {
	_, out, err := c.call("GET", "/api/v1/instances/"+inst+"/messages?direction=outbound&status=sending", nil)
	if err != nil {
		return ""
	}
	data, _ := out["data"].([]any)
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range data {
		m, _ := e.(map[string]any)
		to := strings.TrimSuffix(str(m, "to"), "@s.whatsapp.net")
		for _, r := range b.got[to] {
			if wa := str(m, "waMessageId"); wa != "" && r.ID == wa {
				return str(m, "id") + " to +" + to
			}
		}
	}
	return ""
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// duplicates counts the repeats the phones dropped (a resend with the id
// of a message they had).
func (b *batch) duplicates() int {
	n := 0
	for _, ct := range b.contacts {
		if d, ok := any(ct).(interface{ Duplicates() int }); ok {
			n += d.Duplicates()
		}
	}
	return n
}

// finish waits until every recipient is served and the server is done,
// then checks that each phone got exactly one message, the right one, with
// the WhatsApp id the server recorded for it.
func (b *batch) finish(t *testing.T, c *client, inst string, mode sendMode, done func() (bool, string)) {
	t.Helper()
	waitFor(t, phaseWait, "every recipient served and the server done", func() (bool, string) {
		if n := b.served(); n < len(b.phones) {
			return false, fmt.Sprintf("%d of %d recipients served", n, len(b.phones))
		}
		return done()
	})
	msgs, err := mode.messages(c, inst, b)
	if err != nil {
		t.Fatalf("list the batch's messages: %v", err)
	}
	waID := map[string]string{} // by recipient digits
	for _, m := range msgs {
		to := strings.TrimSuffix(str(m, "to"), "@s.whatsapp.net")
		if _, dup := waID[to]; dup {
			t.Errorf("the server has two messages to %s", to)
		}
		waID[to] = str(m, "waMessageId")
		if s := str(m, "status"); s != "sent" && s != "delivered" && s != "read" {
			t.Errorf("message %s to %s: got status %q (%v), want sent", str(m, "id"), to, s, m["error"])
		}
	}
	if len(msgs) != len(b.phones) {
		t.Errorf("the server lists %d messages of the batch, want %d", len(msgs), len(b.phones))
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	bad := 0
	for _, phone := range b.phones {
		digits := strings.TrimPrefix(phone, "+")
		got := b.got[digits]
		ids := map[string]bool{}
		for _, r := range got {
			ids[r.ID] = true
		}
		ok := len(ids) == 1 && len(got) >= 1 && signature(got[0]) == b.want[phone] && got[0].ID == waID[digits]
		if !ok {
			if bad++; bad <= 20 {
				t.Errorf("recipient %s: got %d messages with %d distinct ids (%s), want exactly one, %q with the server's id %q",
					phone, len(got), len(ids), describe(got), b.want[phone], waID[digits])
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d recipients did not get exactly one message", bad, len(b.phones))
	}
}

func describe(got []wasim.Received) string {
	var parts []string
	for _, r := range got {
		parts = append(parts, fmt.Sprintf("%s:%q", r.ID, signature(r)))
	}
	return strings.Join(parts, ", ")
}

// singles sends each recipient's message with its own POST
// /instances/{id}/messages/{kind}, eight at a time, a mix of every kind
// the outbox sends (kinds_test.go).
var singles = sendMode{
	name:       "singles",
	recipients: singleRecipients,
	start: func(t *testing.T, c *client, inst string, b *batch) func() (bool, string) {
		t.Helper()
		for i, phone := range b.phones {
			b.want[phone] = wantSignature(kindOf(i), b.texts[phone])
		}
		t.Logf("singles of batch %s: %s", b.name, kindsSent(len(b.phones)))
		ids := sendKinds(t, c, inst, len(b.phones), func(i int) (string, map[string]any) {
			return kindOf(i), kindBody(kindOf(i), b.phones[i], b.texts[b.phones[i]])
		})
		for _, id := range ids {
			b.messages[id] = true
		}
		return func() (bool, string) {
			msgs, err := singleMessages(c, inst, b)
			if err != nil {
				return false, err.Error()
			}
			pending := 0
			for _, m := range msgs {
				if s := str(m, "status"); s == "queued" || s == "sending" {
					pending++
				}
			}
			return pending == 0, fmt.Sprintf("%d of %d messages queued or sending", pending, len(msgs))
		}
	},
	messages: singleMessages,
}

// sendTexts sends n texts, message(i) giving the i-th's recipient and
// text, each with its own POST /instances/{id}/messages/text, eight at a
// time, and returns the message ids. A failed request stops the test.
func sendTexts(t *testing.T, c *client, inst string, n int, message func(i int) (to, text string)) []string {
	t.Helper()
	return sendKinds(t, c, inst, n, func(i int) (string, map[string]any) {
		to, text := message(i)
		return "text", map[string]any{"to": to, "text": text}
	})
}

// sendKinds is sendTexts of any kind: message(i) gives the i-th's kind and
// request body.
func sendKinds(t *testing.T, c *client, inst string, n int, message func(i int) (kind string, body map[string]any)) []string {
	t.Helper()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		ids  []string
		errs []error
		next atomic.Int64
	)
	for range 8 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				kind, body := message(i)
				_, out, err := c.call("POST", "/api/v1/instances/"+inst+"/messages/"+kind, body)
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					ids = append(ids, str(out, "id"))
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for _, err := range errs[:min(len(errs), 10)] {
		t.Errorf("send: %v", err)
	}
	if len(errs) > 0 {
		t.FailNow()
	}
	return ids
}

// singleMessages lists the instance's outbound messages that belong to the
// batch.
func singleMessages(c *client, inst string, b *batch) ([]map[string]any, error) {
	all, err := c.pages("/api/v1/instances/" + inst + "/messages?direction=outbound")
	if err != nil {
		return nil, err
	}
	var out []map[string]any
	for _, m := range all {
		if b.messages[str(m, "id")] {
			out = append(out, m)
		}
	}
	return out, nil
}

// bulkSend sends the batch as one bulk of a template, rendered with each
// recipient's number, without pacing.
var bulkSend = sendMode{
	name:       "bulk",
	recipients: bulkRecipients,
	start: func(t *testing.T, c *client, inst string, b *batch) func() (bool, string) {
		t.Helper()
		tpl := c.must(t, http.StatusCreated, "POST", "/api/v1/templates", map[string]any{
			"name": "crash " + b.name, "body": "crash " + b.name + " {{n}}",
		})
		rcpts := make([]map[string]any, 0, len(b.phones))
		for i, phone := range b.phones {
			rcpts = append(rcpts, map[string]any{"to": phone, "variables": map[string]string{"n": fmt.Sprintf("%04d", i)}})
		}
		out := c.must(t, http.StatusAccepted, "POST", "/api/v1/instances/"+inst+"/bulk", map[string]any{
			"templateId": str(tpl, "id"), "recipients": rcpts, "pacing": map[string]any{"minDelayMs": 0, "maxDelayMs": 0},
		})
		if num(out, "total") != len(b.phones) || str(out, "id") == "" {
			t.Fatalf("create bulk: got %v, want an id and total %d", out, len(b.phones))
		}
		b.bulkID = str(out, "id")
		return func() (bool, string) {
			_, out, err := c.call("GET", "/api/v1/bulk/"+b.bulkID, nil)
			if err != nil {
				return false, err.Error()
			}
			if str(out, "status") != "completed" {
				return false, fmt.Sprint(out)
			}
			if sent := num(out, "sent") + num(out, "delivered") + num(out, "read"); sent != len(b.phones) || num(out, "failed") != 0 {
				t.Errorf("completed bulk: got %v, want all %d sent and none failed", out, len(b.phones))
			}
			return true, ""
		}
	},
	messages: func(c *client, _ string, b *batch) ([]map[string]any, error) {
		return c.pages("/api/v1/bulk/" + b.bulkID + "/messages")
	},
}
