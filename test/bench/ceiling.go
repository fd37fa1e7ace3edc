package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/store/sqlstore"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"

	_ "modernc.org/sqlite"

	"github.com/wagate/wagate/adapters/wasim"
)

// The drain scenario (issue 17): n instances × 100 texts to all sent,
// pacing off, next to the same sends by bare whatsmeow clients against
// the same simulator in this process, one send at a time per client
// (whatsmeow holds one SendMessage per client until the server's ack, so
// that is the ceiling of one linked device).

// drainShapes are the instance counts of the scenario, 100 texts each.
var drainShapes = []int{1, 10}

// drainPerInstance is the texts each instance sends.
const drainPerInstance = 100

// aimDrainRatio is the share of the ceiling wagate should reach.
const aimDrainRatio = 0.7

// ceilingFigures are the bare clients' sends.
type ceilingFigures struct {
	clients, messages int
	done              time.Duration // first send until the last ack
}

func (f ceilingFigures) rate() float64 { return float64(f.messages) / f.done.Seconds() }

// drainRounds is how many times each shape runs, on the same linked
// clients or instances; the median round is reported, as the machine's
// other work makes single rounds vary by half.
const drainRounds = 3

// deviceStores opens the device store of the i-th bare client.
type deviceStores func(i int) (*sqlstore.Container, error)

// sqliteStores gives each bare client an SQLite file of its own under dir,
// as the embedded default keeps its devices.
func sqliteStores(dir string, n int) deviceStores {
	return func(i int) (*sqlstore.Container, error) {
		path := filepath.Join(dir, fmt.Sprintf("ceiling-%d-%d.db", n, i))
		dsn := "file:" + path + "?_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate"
		return sqlstore.New(context.Background(), "sqlite", dsn, nil)
	}
}

// postgresStores keeps every bare client's device in one PostgreSQL
// database, as a deployment on PostgreSQL keeps its instances'.
func postgresStores(dsn string) (deviceStores, func(), error) {
	c, err := sqlstore.New(context.Background(), "postgres", dsn, nil)
	if err != nil {
		return nil, nil, err
	}
	return func(int) (*sqlstore.Container, error) { return c, nil }, func() { c.Close() }, nil
}

// benchCeiling links n whatsmeow clients, their devices in stores, to
// phones of their own and has each send per texts one after another to
// the bench's contacts, all clients at once, drainRounds times; it
// measures each round from the first send to the last ack and returns the
// median round.
func benchCeiling(sim *wasim.Server, stores deviceStores, phonePrefix string, n, per int) (ceilingFigures, error) {
	wasim.InstallCert() // as the server's sandbox mode does
	clis := make([]*whatsmeow.Client, n)
	defer func() {
		for _, c := range clis {
			if c != nil {
				c.Disconnect()
			}
		}
	}()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			clis[i], errs[i] = linkBare(sim, stores, i, fmt.Sprintf("%s%07d", phonePrefix, n*100+i))
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return ceilingFigures{}, err
	}
	stop := drainContacts(sim, per*n)
	defer stop()
	rounds := make([]ceilingFigures, drainRounds)
	for r := range rounds {
		f, err := ceilingRound(clis, per)
		if err != nil {
			return f, err
		}
		rounds[r] = f
	}
	slices.SortFunc(rounds, func(a, b ceilingFigures) int { return cmp.Compare(a.done, b.done) })
	return rounds[len(rounds)/2], nil
}

func ceilingRound(clis []*whatsmeow.Client, per int) (ceilingFigures, error) {
	n := len(clis)
	f := ceilingFigures{clients: n, messages: n * per}
	var failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for k, c := range clis {
		wg.Go(func() {
			for j := range per {
				i := j*n + k // the same spread as benchDeliver's round-robin
				to := types.NewJID(strings.TrimPrefix(contactPhone(i), "+"), types.DefaultUserServer)
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				_, err := c.SendMessage(ctx, to, &waE2E.Message{Conversation: proto.String(fmt.Sprintf("bench message %d", i))})
				cancel()
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
				}
			}
		})
	}
	wg.Wait()
	f.done = time.Since(start)
	if n := failed.Load(); n > 0 {
		return f, fmt.Errorf("%d bare sends failed, the first: %v", n, firstErr.Load())
	}
	return f, nil
}

// linkBare pairs a fresh whatsmeow device, kept in the i-th of stores, to
// phone by a simulated QR scan, and waits until it is connected.
func linkBare(sim *wasim.Server, stores deviceStores, i int, phone string) (*whatsmeow.Client, error) {
	ctx, cancel := context.WithTimeout(context.Background(), linkWait)
	defer cancel()
	container, err := stores(i)
	if err != nil {
		return nil, fmt.Errorf("open device store: %w", err)
	}
	cli := whatsmeow.NewClient(container.NewDevice(), nil)
	hc := sim.HTTPClient()
	cli.SetWebsocketHTTPClient(hc)
	cli.SetPreLoginHTTPClient(hc)
	cli.SetMediaHTTPClient(hc)
	cli.EnableDecryptedEventBuffer = true // as the adapter runs it
	qr := make(chan string, 8)
	connected := make(chan struct{}, 1)
	cli.AddEventHandler(func(evt any) {
		switch e := evt.(type) {
		case *events.QR:
			if len(e.Codes) > 0 {
				select {
				case qr <- e.Codes[0]:
				default:
				}
			}
		case *events.Connected:
			select {
			case connected <- struct{}{}:
			default:
			}
		}
	})
	if err := cli.Connect(); err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	select {
	case code := <-qr:
		if err := sim.ScanQR(ctx, code, phone); err != nil {
			cli.Disconnect()
			return nil, fmt.Errorf("scan QR: %w", err)
		}
	case <-ctx.Done():
		cli.Disconnect()
		return nil, errors.New("no QR code")
	}
	select {
	case <-connected:
		return cli, nil
	case <-ctx.Done():
		cli.Disconnect()
		return nil, errors.New("not connected after the scan")
	}
}

// drainContacts empties the inboxes of the first m contacts while the
// sends run, so that the simulator never waits on a full one; the
// returned function stops it.
func drainContacts(sim *wasim.Server, m int) func() {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range min(m, contacts) {
		inbox := sim.Contact(contactPhone(i)).Messages()
		drainNow(inbox)
		wg.Go(func() {
			for {
				select {
				case <-inbox:
				case <-stop:
					return
				}
			}
		})
	}
	return func() { close(stop); wg.Wait() }
}

// drainFigures are one shape of the scenario on one backend.
type drainFigures struct {
	gateway deliverFigures
	ceiling ceilingFigures
	// pgCeiling is bare whatsmeow with its devices on PostgreSQL, shown
	// next to the pg+redis figures (zero elsewhere).
	pgCeiling ceilingFigures
}

// measureCeilings measures the bare clients of every drain shape, their
// devices in the stores open gives for the shape; a failed shape is
// reported into errs and left out.
func measureCeilings(sim *wasim.Server, storeName, phonePrefix string, open func(n int) (deviceStores, func(), error), errs *[]error) map[int]ceilingFigures {
	out := map[int]ceilingFigures{}
	for _, n := range drainShapes {
		c, err := func() (ceilingFigures, error) {
			stores, done, err := open(n)
			if err != nil {
				return ceilingFigures{}, err
			}
			defer done()
			return benchCeiling(sim, stores, phonePrefix, n, drainPerInstance)
		}()
		if err != nil {
			*errs = append(*errs, fmt.Errorf("ceiling %d clients on %s: %w", n, storeName, err))
			fmt.Printf("  FAILED: ceiling on %s: %v\n", storeName, err)
			continue
		}
		out[n] = c
		fmt.Printf("  (bare whatsmeow, devices on %s, %d clients × %d texts, median of %d rounds: %.0f msgs/s in %s)\n",
			storeName, n, drainPerInstance, drainRounds, c.rate(), c.done.Round(10*time.Millisecond))
	}
	return out
}

// benchDrain runs the shapes on a fresh server each, pacing off, and
// takes each shape's ceiling from ceilings (measured once per shape).
func benchDrain(b backend, sim *wasim.Server, conc int, ceilings, pgCeilings map[int]ceilingFigures, report func(string)) error {
	for _, n := range drainShapes {
		f, err := drainOnce(b, sim, n, conc)
		if err != nil {
			return fmt.Errorf("%d instances: %w", n, err)
		}
		figs := drainFigures{gateway: f, ceiling: ceilings[n]}
		if b.pgURL != "" {
			figs.pgCeiling = pgCeilings[n]
		}
		report(drainLine(b.name, figs))
	}
	return nil
}

// drainOnce links n instances on a fresh server and sends drainRounds
// rounds of drainPerInstance texts each; it returns the median round.
func drainOnce(b backend, sim *wasim.Server, n, conc int) (deliverFigures, error) {
	st, err := b.fresh()
	if err != nil {
		return deliverFigures{}, err
	}
	defer st.drop()
	g, err := startGateway(st, sim.Addr(), map[string]string{"WAGATE_SEND_DELAY": "0"}, conc)
	if err != nil {
		return deliverFigures{}, err
	}
	defer g.stop()
	insts, err := g.linkMany(n, 8)
	if err != nil {
		return deliverFigures{}, err
	}
	rounds := make([]deliverFigures, drainRounds)
	for r := range rounds {
		if rounds[r], err = benchDeliver(g, sim, insts, n*drainPerInstance, conc); err != nil {
			return rounds[r], err
		}
	}
	slices.SortFunc(rounds, func(a, b deliverFigures) int { return cmp.Compare(a.done, b.done) })
	return rounds[len(rounds)/2], nil
}

func drainLine(name string, f drainFigures) string {
	g, c := f.gateway, f.ceiling
	ratio := 0.0
	if c.done > 0 {
		ratio = g.rate() / c.rate()
	}
	line := fmt.Sprintf("drain %s %d×%d (median of %d rounds): %.0f msgs/s (all accepted after %s, sent after %s) vs bare whatsmeow %.0f msgs/s (%s), ratio %.2f",
		name, g.instances, drainPerInstance, drainRounds, g.rate(), g.accepted.Round(10*time.Millisecond), g.done.Round(10*time.Millisecond),
		c.rate(), c.done.Round(10*time.Millisecond), ratio)
	if g.failed > 0 || g.refused > 0 || g.sent+g.failed < g.messages {
		line += fmt.Sprintf(" (%d sent, %d failed, %d refused)", g.sent, g.failed, g.refused)
	}
	if p := f.pgCeiling; p.done > 0 {
		line += fmt.Sprintf("; bare whatsmeow with its devices on PostgreSQL %.0f msgs/s (%s), ratio %.2f",
			p.rate(), p.done.Round(10*time.Millisecond), g.rate()/p.rate())
	}
	return line + aims(aim{fmt.Sprintf("≥%.1f of the ceiling", aimDrainRatio), ratio >= aimDrainRatio})
}
