package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	_ "github.com/lib/pq" // the "postgres" driver, for the scratch database

	"github.com/wagate/wagate/adapters/entstore"
	"github.com/wagate/wagate/adapters/wasim"
	"github.com/wagate/wagate/adapters/whatsapp"
	"github.com/wagate/wagate/ports"
)

// dbConfig chooses the database: a PostgreSQL URL, or SQLite in dataDir.
type dbConfig struct {
	url     string
	dataDir string
}

// benchBackend pairs cfg.n instances on a fresh manager and measures them
// connected, then closes the manager, restores them all on a new one and
// measures again.
func benchBackend(ctx context.Context, cfg config, simAddr, name string, dbc dbConfig) error {
	db, err := entstore.Open(ctx, entstore.Options{URL: dbc.url, DataDir: dbc.dataDir})
	if err != nil {
		return err
	}
	defer db.Close()

	f, err := startFleet(ctx, db, simAddr, cfg.n)
	if err != nil {
		return err
	}
	base, err := baseline()
	if err != nil {
		f.close()
		return err
	}
	t0 := time.Now()
	jids, err := f.pairAll(ctx, wasim.NewRemote(simAddr), cfg)
	took := time.Since(t0)
	if err != nil {
		f.close()
		return fmt.Errorf("pair: %w", err)
	}
	load, err := settled(ctx, cfg.settle)
	f.close()
	if err != nil {
		return err
	}
	row{database: name, phase: "paired", n: cfg.n, took: took.Seconds(), base: base, load: load}.print()

	r, err := restore(ctx, db, simAddr, cfg, jids)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	r.database = name
	r.print()
	return nil
}

// restore is a server start: a new manager on the same database connects
// every linked instance with its stored JID, cfg.parallel at a time like
// the sessions core's Restore, and is timed until all report connected.
func restore(ctx context.Context, db *entstore.Store, simAddr string, cfg config, jids []string) (row, error) {
	f, err := startFleet(ctx, db, simAddr, cfg.n)
	if err != nil {
		return row{}, err
	}
	defer f.close()
	base, err := baseline()
	if err != nil {
		return row{}, err
	}
	t0 := time.Now()
	err = inParallel(cfg.parallel, len(jids), func(i int) error {
		return f.m.Connect(ctx, instanceID(i), ports.ConnectOptions{JID: jids[i]})
	})
	if err != nil {
		return row{}, err
	}
	if err := f.t.waitAll(ctx, cfg.timeout); err != nil {
		return row{}, err
	}
	took := time.Since(t0)
	load, err := settled(ctx, cfg.settle)
	if err != nil {
		return row{}, err
	}
	return row{phase: "restored", n: cfg.n, took: took.Seconds(), base: base, load: load}, nil
}

// settled samples once post-login work (pre-key uploads and the like) has
// had time to finish.
func settled(ctx context.Context, wait time.Duration) (sample, error) {
	select {
	case <-time.After(wait):
	case <-ctx.Done():
		return sample{}, ctx.Err()
	}
	return atLoad()
}

// fleet is a manager on the simulator and the tracker of its events.
type fleet struct {
	m *whatsapp.Manager
	t *tracker
}

func startFleet(ctx context.Context, db *entstore.Store, simAddr string, n int) (*fleet, error) {
	t := newTracker(n)
	m, err := whatsapp.New(ctx, whatsapp.Options{
		DB:         db.DeviceDB(),
		Dialect:    db.Dialect(),
		HTTPClient: wasim.HTTPClientFor(simAddr),
		OnEvent:    t.add,
	})
	if err != nil {
		return nil, err
	}
	return &fleet{m: m, t: t}, nil
}

func (f *fleet) close() { f.m.Close() }

// pairAll links instance i to the simulated phone +1555000000i, scanning
// the first QR code of each, cfg.parallel at a time. It returns the device
// JIDs by instance.
func (f *fleet) pairAll(ctx context.Context, sim *wasim.Remote, cfg config) ([]string, error) {
	jids := make([]string, cfg.n)
	err := inParallel(cfg.parallel, cfg.n, func(i int) error {
		jid, err := f.pair(ctx, sim, i, cfg.timeout)
		jids[i] = jid
		return err
	})
	return jids, err
}

func (f *fleet) pair(ctx context.Context, sim *wasim.Remote, i int, timeout time.Duration) (string, error) {
	id := instanceID(i)
	w := f.t.watch(id)
	if err := f.m.Connect(ctx, id, ports.ConnectOptions{}); err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var qr string
	select {
	case qr = <-w.qr:
	case <-ctx.Done():
		return "", fmt.Errorf("%s: no QR code: %w (last status %s)", id, ctx.Err(), f.t.last(id))
	}
	if err := sim.ScanQR(ctx, qr, fmt.Sprintf("+1555%07d", i)); err != nil {
		return "", fmt.Errorf("%s: %w", id, err)
	}
	select {
	case jid := <-w.up:
		return jid, nil
	case <-ctx.Done():
		return "", fmt.Errorf("%s: not connected after the scan: %w (last status %s)", id, ctx.Err(), f.t.last(id))
	}
}

func instanceID(i int) ports.InstanceID { return ports.InstanceID(fmt.Sprintf("bench-%05d", i)) }

// inParallel runs fn(0..n-1) with at most limit calls in flight and
// returns the first error; after one, the calls not yet started are
// skipped.
func inParallel(limit, n int, fn func(i int) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	sem := make(chan struct{}, limit)
	for i := range n {
		sem <- struct{}{}
		mu.Lock()
		failed := first != nil
		mu.Unlock()
		if failed {
			<-sem
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := fn(i); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return first
}

// scratchDatabase creates a database for one run on the server of base and
// returns its URL and a function that drops it.
func scratchDatabase(ctx context.Context, base string) (string, func(), error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, errors.New("parse the database URL")
	}
	admin, err := sql.Open("postgres", base)
	if err != nil {
		return "", nil, err
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "wagate_bench_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("create database: %w", err)
	}
	u.Path = "/" + name
	drop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		admin.Close()
	}
	return u.String(), drop, nil
}
