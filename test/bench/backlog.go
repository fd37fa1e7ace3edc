package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/wagate/wagate/adapters/entstore"
	"github.com/wagate/wagate/adapters/httpgin"
	"github.com/wagate/wagate/adapters/uuidv7"
	"github.com/wagate/wagate/core/events"
	"github.com/wagate/wagate/ports"
	"github.com/wagate/wagate/test/testserver"
)

// The backlog phase measures the delivery pipeline alone: with the server
// stopped, message.received events are appended to the log through
// core/events and the real store, in one transaction per batch as the
// inbound path would, on the database the server then opens again. The
// restarted server finds them undispatched and works through them: the
// dispatcher's fan-out, the queue and the delivery workers, nothing that
// makes events. The figure runs from the first delivery received to the
// last, so the restart itself does not count.

// appendBatch is how many events one append transaction writes.
const appendBatch = 200

// backlogWait bounds the wait for the backlog's deliveries after the
// restart; a slower backend is reported as such.
const backlogWait = 3 * time.Minute

// backlogPhase stops g, appends n events round-robin over insts, starts
// g again and waits for their n*perEvent deliveries at rcv.
func backlogPhase(g *gateway, rcv *receiver, insts []linked, n, perEvent int) (phaseFigures, error) {
	rcv.next()
	p := phaseFigures{events: n, want: n * perEvent}
	if err := g.srv.Stop(); err != nil {
		return p, fmt.Errorf("stop the server: %w", err)
	}
	t0 := time.Now()
	err := appendEvents(g.st, ports.SubscriptionID(g.sub), insts, n, rcv.tag())
	p.generateFor = time.Since(t0)
	if err != nil {
		return p, err
	}
	if err := g.restart(); err != nil {
		return p, err
	}
	restarted := time.Now()
	for rcv.progress() < p.want && time.Since(restarted) <= backlogWait {
		time.Sleep(20 * time.Millisecond)
	}
	s := rcv.snapshot()
	p.got, p.latency, p.dups = len(s.latency), s.latency, s.dups
	p.elapsed = s.last.Sub(s.first)
	if p.got < p.want {
		p.elapsed = time.Since(s.first)
	}
	return p, nil
}

// appendEvents writes n inbound-message events of sub, spread over insts,
// whose texts start with tag (the receiver's phase).
func appendEvents(st store, sub ports.SubscriptionID, insts []linked, n int, tag string) error {
	ctx := context.Background()
	es, err := entstore.Open(ctx, entstore.Options{URL: st.dbURL, DataDir: st.dataDir, MaxConns: 4})
	if err != nil {
		return fmt.Errorf("open the store: %w", err)
	}
	defer es.Close()
	ids := uuidv7.New()
	clock := ports.ClockFunc(func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) })
	// No queue: nothing wakes the dispatcher before the server runs.
	log := events.New(events.Deps{IDs: ids, Clock: clock, Encode: httpgin.EncodeEventData})
	for from := 0; from < n; from += appendBatch {
		err := es.InTx(ctx, func(ctx context.Context, tx ports.Stores) error {
			for i := from; i < min(n, from+appendBatch); i++ {
				in := insts[i%len(insts)]
				m := inboundMessage(ids, clock.Now(), sub, in, i, tag)
				if _, err := log.Append(ctx, tx, ports.EventMessageReceived, sub, m.InstanceID, m); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("append events: %w", err)
		}
	}
	return nil
}

// inboundMessage is the i-th message a contact wrote to in.
func inboundMessage(ids uuidv7.Generator, at time.Time, sub ports.SubscriptionID, in linked, i int, tag string) ports.Message {
	from := fmt.Sprintf("1557%07d@s.whatsapp.net", 1_000_000+i%contacts)
	return ports.Message{
		ID: ports.MessageID(ids.NewID()), SubscriptionID: sub, InstanceID: ports.InstanceID(in.id),
		Direction: ports.DirectionInbound, Chat: from, From: from, To: in.jid, Type: ports.MessageText,
		Text: fmt.Sprintf("%s%d", tag, i), Status: ports.MsgReceived, CreatedAt: at, UpdatedAt: at,
	}
}

// restart starts the server again on the same environment (database,
// data directory, Redis prefix and the JWT secret, so the token holds).
func (g *gateway) restart() error {
	env := make(map[string]string, len(g.env))
	for k, v := range g.env {
		if k != "WAGATE_ADDR" {
			env[k] = v
		}
	}
	srv, err := testserver.Start(context.Background(), env)
	if err != nil {
		return fmt.Errorf("restart the server: %w", err)
	}
	g.srv = srv
	g.c.base = srv.URL
	return nil
}

// backlogLine is the backlog phase's figures next to the ceiling.
func backlogLine(p, ceiling phaseFigures) string {
	var b strings.Builder
	fmt.Fprintf(&b, "backlog %d deliveries (%d events appended in %s): %.0f deliveries/s first→last",
		p.want, p.events, p.generateFor.Round(10*time.Millisecond), p.rate())
	if p.got < p.want {
		fmt.Fprintf(&b, " (only %d arrived)", p.got)
	}
	if p.dups > 0 {
		fmt.Fprintf(&b, ", %d REPEATED", p.dups)
	}
	ratio := 0.0
	if ceiling.rate() > 0 {
		ratio = p.rate() / ceiling.rate()
	}
	fmt.Fprintf(&b, "; plain client ceiling %.0f/s, ratio %.2f", ceiling.rate(), ratio)
	return b.String()
}
