package main

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"time"
)

// sendFigures are scenario (a): POST /messages/text against the real
// server, and the bare INSERT + enqueue baseline on the same store.
type sendFigures struct {
	real, baseline result
}

// benchSend measures how fast the real server accepts text messages with
// an API key, with its default pacing: the send workers in the same process
// drain the queue one message per instance every 1-3 s, deferring the
// others, and that churn is part of what is measured. Then the server
// stops and the baseline runs on the same database and queue.
func benchSend(b backend, simAddr string, conc int, dur time.Duration) (sendFigures, error) {
	st, err := b.fresh()
	if err != nil {
		return sendFigures{}, err
	}
	defer st.drop()
	g, err := startGateway(st, simAddr, nil, conc)
	if err != nil {
		return sendFigures{}, err
	}
	inst, err := g.link("bench-send")
	if err != nil {
		g.stop()
		return sendFigures{}, err
	}
	next := counter()
	real := load(conc, dur, func() error {
		return g.c.do("POST", "/api/v1/messages/text", inst.key, textBody(next()), http.StatusAccepted, nil)
	})
	g.stop()
	base, err := measureBaseline(st, g.sub, inst, conc, dur)
	if err != nil {
		return sendFigures{}, err
	}
	return sendFigures{real: real, baseline: base}, nil
}

// contacts is how many simulated recipients the sends cycle through.
const contacts = 200

// contactPhone is the i-th recipient: numbers that exist on the sandbox
// network (only +999… do not).
func contactPhone(i int) string { return fmt.Sprintf("+1555%07d", 1_000_000+i%contacts) }

// textBody is the i-th send's body.
func textBody(i int) map[string]string {
	return map[string]string{"to": contactPhone(i), "text": fmt.Sprintf("bench message %d", i)}
}

// counter returns a function that counts from 0, safe for concurrent use.
func counter() func() int {
	var n atomic.Int64
	return func() int { return int(n.Add(1) - 1) }
}
