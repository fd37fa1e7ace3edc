package multinode

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wagate/wagate/adapters/wasim"
)

// phones are the simulated recipients' phones: what each received, read
// from the simulator's contacts as it arrives, so that the test counts
// messages where a user would, not in the server's records.
type phones struct {
	sim  *wasim.Server
	stop chan struct{}

	mu       sync.Mutex
	got      map[string][]wasim.Received // by phone digits
	contacts map[string]*wasim.Contact   // by phone digits
	readers  sync.WaitGroup
}

func newPhones(t *testing.T, sim *wasim.Server) *phones {
	ps := &phones{sim: sim, stop: make(chan struct{}), got: map[string][]wasim.Received{}, contacts: map[string]*wasim.Contact{}}
	t.Cleanup(func() {
		close(ps.stop)
		ps.readers.Wait()
	})
	return ps
}

// watch starts reading what phone ("+digits") receives.
func (ps *phones) watch(phone string) {
	d := strings.TrimPrefix(phone, "+")
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.contacts[d] != nil {
		return
	}
	ct := ps.sim.Contact(phone)
	ps.contacts[d] = ct
	ps.readers.Go(func() {
		for {
			select {
			case r := <-ct.Messages():
				ps.mu.Lock()
				ps.got[d] = append(ps.got[d], r)
				ps.mu.Unlock()
			case <-ps.stop:
				return
			}
		}
	})
}

// served counts the phones of list that received at least one message.
func (ps *phones) served(list []string) int {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	n := 0
	for _, p := range list {
		if len(ps.got[strings.TrimPrefix(p, "+")]) > 0 {
			n++
		}
	}
	return n
}

// duplicates counts the repeats the phones dropped: a message received
// again with the id of one they had, as a resend after a crash is.
func (ps *phones) duplicates() int {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	n := 0
	for _, ct := range ps.contacts {
		n += ct.Duplicates()
	}
	return n
}

// checkOne checks that phone received exactly one message: one distinct
// id, the WhatsApp id the server recorded, with the text it recorded.
// It returns false (after reporting) when not.
func (ps *phones) checkOne(t *testing.T, phone, waID, text string) bool {
	t.Helper()
	ps.mu.Lock()
	got := append([]wasim.Received(nil), ps.got[strings.TrimPrefix(phone, "+")]...)
	ps.mu.Unlock()
	ids := map[string]bool{}
	var desc []string
	for _, r := range got {
		ids[r.ID] = true
		desc = append(desc, fmt.Sprintf("%s:%q", r.ID, r.Text))
	}
	if len(got) != 1 || waID == "" || got[0].ID != waID || got[0].Text != text {
		t.Errorf("phone %s: got %d messages, %d distinct ids [%s], want exactly one, %q with the server's id %q",
			phone, len(got), len(ids), strings.Join(desc, ", "), text, waID)
		return false
	}
	return true
}

// bulk is one bulk send of one text to fresh phones.
type bulk struct {
	id, inst, text string
	phones         []string
}

// startBulk creates a bulk of text from instance inst to n fresh phones
// numbered from base, through node p, paced 100–200 ms a recipient so
// that it is still running when a node goes away.
func (c *cluster) startBulk(p *proc, ps *phones, inst string, base, n int, text string) *bulk {
	c.t.Helper()
	b := &bulk{inst: inst, text: text}
	rcpts := make([]map[string]any, 0, n)
	for i := range n {
		phone := fmt.Sprintf("+1777%07d", base+i)
		ps.watch(phone)
		b.phones = append(b.phones, phone)
		rcpts = append(rcpts, map[string]any{"to": phone})
	}
	code, out := call(c.t, p, "POST", "/api/v1/instances/"+inst+"/bulk", c.token, map[string]any{
		"text": text, "recipients": rcpts, "pacing": map[string]any{"minDelayMs": 100, "maxDelayMs": 200},
	})
	if code != http.StatusAccepted || str(out, "id") == "" {
		c.t.Fatalf("create bulk on %s: got %d %v, want 202 with an id", inst, code, out)
	}
	b.id = str(out, "id")
	return b
}

// waitBulks waits until every bulk has completed with all its recipients
// sent and none failed, and returns the longest run, from its start to its
// completion.
func (c *cluster) waitBulks(p *proc, bs []*bulk, what string) time.Duration {
	c.t.Helper()
	var longest time.Duration
	poll(c.t, bulkWait, what, func() bool {
		longest = 0
		for _, b := range bs {
			code, out := call(c.t, p, "GET", "/api/v1/bulk/"+b.id, c.token, nil)
			if code != http.StatusOK {
				c.t.Fatalf("get bulk %s: %d %v", b.id, code, out)
			}
			if failed := num(out, "failed"); failed != 0 {
				c.t.Fatalf("bulk %s: %d recipients failed: %v", b.id, failed, out)
			}
			if str(out, "status") != "completed" {
				return false
			}
			if sent := num(out, "sent") + num(out, "delivered") + num(out, "read"); sent != len(b.phones) {
				c.t.Fatalf("completed bulk %s: got %v, want all %d sent", b.id, out, len(b.phones))
			}
			started, err1 := time.Parse(time.RFC3339Nano, str(out, "startedAt"))
			completed, err2 := time.Parse(time.RFC3339Nano, str(out, "completedAt"))
			if err1 != nil || err2 != nil {
				c.t.Fatalf("completed bulk %s: got startedAt %q and completedAt %q, want times", b.id, str(out, "startedAt"), str(out, "completedAt"))
			}
			longest = max(longest, completed.Sub(started))
		}
		return true
	})
	return longest
}

// checkBulks checks, once the bulks completed, that the server has one
// message per recipient and that each phone received exactly that one.
// It returns the number of recipients checked.
func (c *cluster) checkBulks(p *proc, ps *phones, bs []*bulk) int {
	c.t.Helper()
	n, bad := 0, 0
	for _, b := range bs {
		msgs := c.pages(p, "/api/v1/bulk/"+b.id+"/messages")
		byTo := map[string]map[string]any{}
		for _, m := range msgs {
			to := phoneOf(str(m, "to"))
			if _, dup := byTo[to]; dup {
				c.t.Errorf("bulk %s: the server has two messages to %s", b.id, to)
			}
			byTo[to] = m
		}
		if len(msgs) != len(b.phones) {
			c.t.Errorf("bulk %s: the server lists %d messages, want %d", b.id, len(msgs), len(b.phones))
		}
		for _, phone := range b.phones {
			n++
			m := byTo[phone]
			if !ps.checkOne(c.t, phone, str(m, "waMessageId"), str(m, "text")) {
				bad++
			}
			if str(m, "text") != b.text {
				c.t.Errorf("bulk %s to %s: the server recorded %q, want %q", b.id, phone, str(m, "text"), b.text)
			}
		}
	}
	if bad > 0 {
		c.t.Errorf("%d of %d bulk recipients did not get exactly one message", bad, n)
	}
	return n
}

// checkSingles checks that the phone of each message of queued (as
// sendText returns them) received exactly that message.
func (c *cluster) checkSingles(p *proc, ps *phones, queued []string) {
	c.t.Helper()
	for _, q := range queued {
		inst, msg, _ := strings.Cut(q, "/")
		code, m := call(c.t, p, "GET", "/api/v1/instances/"+inst+"/messages/"+msg, c.token, nil)
		if code != http.StatusOK {
			c.t.Fatalf("get message: %d %v", code, m)
		}
		to := phoneOf(str(m, "to"))
		ps.checkOne(c.t, to, str(m, "waMessageId"), str(m, "text"))
	}
}

// pages returns every item of a list endpoint, following nextCursor.
func (c *cluster) pages(p *proc, path string) []map[string]any {
	c.t.Helper()
	var all []map[string]any
	cursor := ""
	for range 100 {
		q := path + "?limit=200"
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		code, out := call(c.t, p, "GET", q, c.token, nil)
		if code != http.StatusOK {
			c.t.Fatalf("GET %s: %d %v", q, code, out)
		}
		data, _ := out["data"].([]any)
		for _, e := range data {
			if m, ok := e.(map[string]any); ok {
				all = append(all, m)
			}
		}
		if cursor, _ = out["nextCursor"].(string); cursor == "" {
			return all
		}
	}
	c.t.Fatalf("GET %s: more than 100 pages", path)
	return nil
}

// phoneOf writes a message's "to" ("+digits" or a JID) as "+digits".
func phoneOf(to string) string {
	return "+" + strings.TrimPrefix(strings.TrimSuffix(to, "@s.whatsapp.net"), "+")
}

func num(m map[string]any, k string) int {
	f, _ := m[k].(float64)
	return int(f)
}

// waitInProgress waits until every bulk of bs has reached at least min of
// its phones, so that a node goes away with each of them running.
func waitInProgress(t *testing.T, ps *phones, bs []*bulk, min int) {
	t.Helper()
	poll(t, takeover, "the bulks under way", func() bool {
		for _, b := range bs {
			if ps.served(b.phones) < min {
				return false
			}
		}
		return true
	})
}

// inWindow returns "<message id> to <phone>" of a message of bs the server
// has as sending although its phone received it (with the WhatsApp id the
// server recorded before the send), or "" if there is none.
func (c *cluster) inWindow(p *proc, ps *phones, bs []*bulk) string {
	c.t.Helper()
	for _, b := range bs {
		for _, m := range c.pages(p, "/api/v1/bulk/"+b.id+"/messages") {
			wa := str(m, "waMessageId")
			if str(m, "status") != "sending" || wa == "" {
				continue
			}
			to := phoneOf(str(m, "to"))
			ps.mu.Lock()
			got := ps.got[strings.TrimPrefix(to, "+")]
			ps.mu.Unlock()
			for _, r := range got {
				if r.ID == wa {
					return str(m, "id") + " to " + to
				}
			}
		}
	}
	return ""
}

// servedOf counts the recipients of bs their phones have reached.
func servedOf(ps *phones, bs []*bulk) (served, total int) {
	for _, b := range bs {
		served += ps.served(b.phones)
		total += len(b.phones)
	}
	return served, total
}
