package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	asynqueue "github.com/wagate/wagate/adapters/asynq"
	"github.com/wagate/wagate/adapters/entstore"
	"github.com/wagate/wagate/adapters/localqueue"
	"github.com/wagate/wagate/adapters/uuidv7"
	"github.com/wagate/wagate/core/messaging"
	"github.com/wagate/wagate/ports"
)

// The baseline of POST /messages/text is the floor this machine allows an
// accepted send: a bare net/http handler that decodes the body, INSERTs one
// message row through the same entstore store and enqueues one job through
// the same queue adapter, on the same database (and Redis prefix), with a
// runner draining those jobs at the send worker's concurrency. No auth, no
// Gin, no transaction, no instance check: what the real route adds on top
// is what the comparison shows.

// baselineJob is the job type the baseline enqueues; its handler does
// nothing, so the drain costs only what the queue itself costs.
const baselineJob = "bench.baseline"

// baseline is the bare handler.
type baseline struct {
	msgs  ports.MessageStore
	queue ports.Queue
	ids   uuidv7.Generator
	sub   ports.SubscriptionID
	inst  linked
}

type baselineReq struct {
	To   string `json:"to"`
	Text string `json:"text"`
}

func (b *baseline) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req baselineReq
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil || req.To == "" || req.Text == "" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	to := strings.TrimPrefix(req.To, "+") + "@s.whatsapp.net"
	m := ports.Message{
		ID: ports.MessageID(b.ids.NewID()), SubscriptionID: b.sub, InstanceID: ports.InstanceID(b.inst.id),
		Direction: ports.DirectionOutbound, Chat: to, To: to, From: b.inst.jid, Type: ports.MessageText,
		Text: req.Text, Status: ports.MsgQueued, CreatedAt: now, UpdatedAt: now,
	}
	if err := b.msgs.CreateMessage(r.Context(), b.sub, m); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	payload, _ := json.Marshal(map[string]string{"sub": string(b.sub), "id": string(m.ID)})
	if err := b.queue.Enqueue(r.Context(), ports.Job{ID: string(m.ID), Type: baselineJob, Payload: payload}); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	json.NewEncoder(w).Encode(map[string]any{"id": m.ID, "status": m.Status, "to": m.To, "type": m.Type, "createdAt": m.CreatedAt})
}

// measureBaseline serves the baseline on st for the instance and measures
// it with the same load as the real route. The server that used st must
// have stopped: the two would compete for the database.
func measureBaseline(st store, sub string, inst linked, conc int, dur time.Duration) (result, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	es, err := entstore.Open(ctx, entstore.Options{URL: st.dbURL, DataDir: st.dataDir})
	if err != nil {
		return result{}, fmt.Errorf("baseline: %w", err)
	}
	defer es.Close()
	q, runner, closeQueue, err := openQueue(st, es)
	if err != nil {
		return result{}, fmt.Errorf("baseline: %w", err)
	}
	defer closeQueue()
	runner.Handle(baselineJob, func(context.Context, ports.Delivery) error { return nil },
		ports.HandlerOptions{Concurrency: messaging.DefaultSendConcurrency})
	var running sync.WaitGroup
	running.Go(func() {
		if err := runner.Run(ctx); err != nil {
			fmt.Println("  (baseline runner:", err, ")")
		}
	})
	defer running.Wait()
	defer cancel()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return result{}, fmt.Errorf("baseline: %w", err)
	}
	hs := &http.Server{Handler: &baseline{
		msgs: es.Stores().Messages, queue: q, ids: uuidv7.New(), sub: ports.SubscriptionID(sub), inst: inst,
	}, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Println("  (baseline server:", err, ")")
		}
	}()
	defer hs.Close()
	c := &client{base: "http://" + ln.Addr().String(), http: &http.Client{
		Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: conc * 2},
	}}
	next := counter()
	return load(conc, dur, func() error {
		return c.do("POST", "/messages/text", "", textBody(next()), http.StatusAccepted, nil)
	}), nil
}

// openQueue opens the queue adapter the server used on st: asynq on the
// same Redis prefix, or the embedded queue in the same database.
func openQueue(st store, es *entstore.Store) (ports.Queue, ports.Runner, func(), error) {
	if st.redisURL == "" {
		q, err := localqueue.New(es.DB(), es.Dialect(), localqueue.Options{})
		if err != nil {
			return nil, nil, nil, err
		}
		return q, q.NewRunner(), func() {}, nil
	}
	rc, err := redisClient(st.redisURL)
	if err != nil {
		return nil, nil, nil, err
	}
	q, err := asynqueue.New(asynqueue.Options{Redis: rc, Prefix: st.prefix})
	if err != nil {
		rc.Close()
		return nil, nil, nil, err
	}
	return q, q.NewRunner(), func() { rc.Close() }, nil
}
