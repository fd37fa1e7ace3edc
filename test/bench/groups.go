package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.mau.fi/whatsmeow/types"

	_ "modernc.org/sqlite" // the "sqlite" driver, to read what whatsmeow stored

	"github.com/wagate/wagate/adapters/entstore"
	"github.com/wagate/wagate/adapters/wasim"
	"github.com/wagate/wagate/test/testserver"
)

// The groups scenario (issue 14): the real binary on the embedded default
// (SQLite, its queue, pacing off) with one instance linked to an
// in-process simulator. A simulated phone creates the groups and adds the
// instance and the other phones, so every group has the same size phones
// plus the instance (the API's participant limits per hour do not apply
// to being added).
//
//   - Send: one text to a group through POST /messages/text, timed from
//     the request to the 202, to the message's status `sent` (WhatsApp's
//     ack of the stanza), and to the moment every phone decrypted it: each
//     phone's Signal store processes the sender key distribution message
//     (SKDM) the instance encrypted to it pairwise, then decrypts the
//     shared skmsg with that sender key, and only then delivers it on
//     Contact.Messages. The first send to a group also sets up a pairwise
//     Signal session with every phone; the second finds them and still
//     sends every phone the SKDM (whatsmeow does on every group send).
//   - Memory: the server's resident memory and live Go heap (after a GC)
//     once the
//     first group is warm, and again after one text into each of the other
//     groups (a sender key each), divided by those groups; likewise what
//     a group's membership costs (whatsmeow caches its member list when
//     the instance is added) and the one-off Signal sessions with the
//     phones. whatsmeow keeps sender keys and sessions in the database,
//     not in memory: the bench reads their size there too.
type groupConfig struct {
	size   int // phones per group besides the instance
	groups int // groups for the memory figure
}

const (
	groupWarmSends = 5                // texts to the warm group, for a median
	groupWait      = 5 * time.Minute  // bound on one phase
	groupSettle    = 10 * time.Second // before a memory sample: queues drained
)

// groupPhone is the i-th phone of the groups; 1559… is no other
// scenario's range.
func groupPhone(i int) string { return fmt.Sprintf("+1559%07d", 1_000_000+i) }

// groupSendFigures time one text to one group.
type groupSendFigures struct {
	accepted, sent, decrypted time.Duration
	phones                    int // how many decrypted it
}

func (f groupSendFigures) String() string {
	return fmt.Sprintf("accepted %s, sent %s, all %d phones decrypted %s",
		ms(f.accepted), ms(f.sent), f.phones, ms(f.decrypted))
}

// groupBench is the running scenario: the server process, its instance and
// the phones' inboxes.
type groupBench struct {
	cfg     groupConfig
	p       *testserver.Process
	g       *gateway
	inst    linked
	phones  []string
	inboxes []<-chan wasim.Received
	data    string // the server's data directory
	pprof   string // the server's pprof listener, to collect garbage before a sample
}

// measureGroups builds wagate, starts it with a simulator and measures.
func measureGroups(cfg groupConfig) error {
	if cfg.size < 2 || cfg.groups < 2 {
		return fmt.Errorf("want at least 2 phones and 2 groups, got %d and %d", cfg.size, cfg.groups)
	}
	dir, bin, sim, done, err := scratchSandbox("wagate-bench-groups-")
	if err != nil {
		return err
	}
	defer done()
	b := &groupBench{cfg: cfg, data: filepath.Join(dir, "data")}
	if b.pprof, err = freePort(); err != nil {
		return err
	}
	b.p, err = startSandboxBinary(bin, b.data, sim.Addr(), map[string]string{"WAGATE_SEND_DELAY": "0", "WAGATE_PPROF_ADDR": b.pprof})
	if err != nil {
		return err
	}
	defer func() { _ = b.p.Stop() }()
	b.g = &gateway{c: newClient(b.p.URL, 8)}
	if err := b.g.signUp(); err != nil {
		return err
	}
	if b.inst, err = b.g.link("bench-groups"); err != nil {
		return err
	}
	fmt.Printf("\ngroups (real binary, SQLite, one instance in %d groups of %d phones + the instance; load average %s)\n",
		cfg.groups, cfg.size, loadAverage())
	for i := range cfg.size {
		b.phones = append(b.phones, groupPhone(i))
		b.inboxes = append(b.inboxes, sim.Contact(groupPhone(i)).Messages())
	}
	linkedOnly, err := b.memory()
	if err != nil {
		return err
	}
	fmt.Printf("  %-32s %s\n", "linked, in no group:", linkedOnly)
	t0 := time.Now()
	groups, err := b.create(sim)
	if err != nil {
		return err
	}
	fmt.Printf("  %d groups set up in %s\n", len(groups), time.Since(t0).Round(100*time.Millisecond))
	joined, err := b.memory()
	if err != nil {
		return err
	}
	fmt.Printf("  %-32s %s\n", fmt.Sprintf("in %d groups, nothing sent:", len(groups)), joined)

	cold, err := b.send(groups[0], "cold")
	if err != nil {
		return fmt.Errorf("first send: %w", err)
	}
	fmt.Printf("  first text to a group (Signal sessions with the phones set up): %s\n", cold)
	var warm []groupSendFigures
	for i := range groupWarmSends {
		f, err := b.send(groups[0], "warm "+strconv.Itoa(i))
		if err != nil {
			return fmt.Errorf("warm send: %w", err)
		}
		warm = append(warm, f)
	}
	fmt.Printf("  later texts to the same group, median of %d: %s (load average %s)\n", groupWarmSends, median(warm), loadAverage())

	one, err := b.memory()
	if err != nil {
		return err
	}
	fmt.Printf("  %-32s %s\n", "one group's sender key in use:", one)
	rest := groups[1:]
	t1 := time.Now()
	if err := b.sendEach(rest); err != nil {
		return err
	}
	took := time.Since(t1)
	fmt.Printf("  one text into each of the other %d groups: all sent and decrypted by all %d phones in %s (%.0f ms a group; load average %s)\n",
		len(rest), cfg.size, took.Round(100*time.Millisecond), float64(took.Milliseconds())/float64(len(rest)), loadAverage())
	all, err := b.memory()
	if err != nil {
		return err
	}
	fmt.Printf("  %-32s %s\n", fmt.Sprintf("%d groups' sender keys in use:", len(groups)), all)
	membership := delta(joined, linkedOnly, len(groups))
	keys := delta(all, one, len(rest))
	fmt.Printf("  per group of %d, its membership (whatsmeow's member cache, wagate's records): %s\n", cfg.size, membership)
	fmt.Printf("  per group of %d, its sender-key state (own key made, SKDM sent to every phone): %s\n", cfg.size, keys)
	fmt.Printf("  once, the Signal sessions with %d phones: %s\n", cfg.size, delta(one, joined, 1))
	fmt.Printf("  so the sender-key state of 100 groups of %d: %s\n", cfg.size, keys.times(100))
	return nil
}

// median is the send with the median decryption time.
func median(fs []groupSendFigures) groupSendFigures {
	s := slices.Clone(fs)
	slices.SortFunc(s, func(a, b groupSendFigures) int { return int(a.decrypted - b.decrypted) })
	return s[len(s)/2]
}

// memoryDelta is a difference of footprints per unit, in KiB.
type memoryDelta struct{ rss, anon, heap, db float64 }

// delta is (after-before)/n in KiB; db counts the sender keys and
// sessions whatsmeow keeps in the database.
func delta(after, before groupMemory, n int) memoryDelta {
	k := float64(n)
	db := after.keyBytes + after.session - before.keyBytes - before.session
	return memoryDelta{
		rss: float64(after.rss-before.rss) / k, anon: float64(after.anon-before.anon) / k,
		heap: float64(after.heap-before.heap) / 1024 / k, db: float64(db) / 1024 / k,
	}
}

func (d memoryDelta) times(n float64) memoryDelta {
	return memoryDelta{rss: d.rss * n, anon: d.anon * n, heap: d.heap * n, db: d.db * n}
}

func (d memoryDelta) String() string {
	f := func(kib float64) string {
		if kib >= 1024 || kib <= -1024 {
			return fmt.Sprintf("%+.1f MiB", kib/1024)
		}
		return fmt.Sprintf("%+.1f KiB", kib)
	}
	return fmt.Sprintf("live heap %s, RSS %s (anonymous %s); in the database (sender keys, sessions) %s", f(d.heap), f(d.rss), f(d.anon), f(d.db))
}

// create makes the first phone create the groups with the others and the
// instance, and waits until the instance lists them all.
func (b *groupBench) create(sim *wasim.Server) ([]types.JID, error) {
	members := append(slices.Clone(b.phones[1:]), b.inst.phone)
	var groups []types.JID
	for i := range b.cfg.groups {
		jid, err := sim.GroupCreate(b.phones[0], fmt.Sprintf("bench %d", i), members)
		if err != nil {
			return nil, fmt.Errorf("create group %d: %w", i, err)
		}
		groups = append(groups, jid)
	}
	deadline := time.Now().Add(groupWait)
	for {
		var list struct{ Data []struct{ JID string } }
		if err := b.g.c.do("GET", "/api/v1/groups", b.inst.key, nil, http.StatusOK, &list); err != nil {
			return nil, err
		}
		if len(list.Data) >= len(groups) {
			return groups, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the instance lists %d of %d groups after %s", len(list.Data), len(groups), groupWait)
		}
		time.Sleep(time.Second)
	}
}

// send posts one text to group and times it until it is sent and every
// phone decrypted it.
func (b *groupBench) send(group types.JID, label string) (groupSendFigures, error) {
	text := "bench " + label + " " + randHex(4)
	var f groupSendFigures
	var decrypted atomic.Int64 // nanoseconds after start, the latest phone's
	var got atomic.Int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	start := time.Now()
	for _, inbox := range b.inboxes {
		wg.Go(func() {
			timeout := time.After(groupWait)
			for {
				select {
				case m := <-inbox:
					if m.Text != text || m.Chat != group.String() {
						continue
					}
					at := int64(time.Since(start))
					for {
						old := decrypted.Load()
						if at <= old || decrypted.CompareAndSwap(old, at) {
							break
						}
					}
					got.Add(1)
					return
				case <-timeout:
					return
				case <-done:
					return
				}
			}
		})
	}
	defer wg.Wait()
	var resp struct{ ID string }
	err := b.g.c.do("POST", "/api/v1/messages/text", b.inst.key, map[string]any{"to": group.String(), "text": text}, http.StatusAccepted, &resp)
	f.accepted = time.Since(start)
	if err != nil {
		close(done)
		return f, err
	}
	deadline := start.Add(groupWait)
	for f.sent == 0 {
		var m struct{ Status string }
		if err := b.g.c.do("GET", "/api/v1/messages/"+resp.ID, b.inst.key, nil, http.StatusOK, &m); err != nil {
			close(done)
			return f, err
		}
		switch m.Status {
		case "sent", "delivered", "read":
			f.sent = time.Since(start)
		case "failed":
			close(done)
			return f, fmt.Errorf("message %s failed", resp.ID)
		}
		if time.Now().After(deadline) {
			close(done)
			return f, fmt.Errorf("message %s still %s after %s", resp.ID, m.Status, groupWait)
		}
		time.Sleep(2 * time.Millisecond)
	}
	wg.Wait()
	f.decrypted, f.phones = time.Duration(decrypted.Load()), int(got.Load())
	if f.phones < len(b.inboxes) {
		return f, fmt.Errorf("%d of %d phones decrypted the text within %s", f.phones, len(b.inboxes), groupWait)
	}
	return f, nil
}

// sendEach posts one text to each group, a few at a time, and waits until
// every phone decrypted every one of them.
func (b *groupBench) sendEach(groups []types.JID) error {
	prefix := "bench each " + randHex(4) + " "
	want := len(groups)
	var wg sync.WaitGroup
	missing := make([]int, len(b.inboxes))
	for i, inbox := range b.inboxes {
		wg.Go(func() {
			seen := 0
			timeout := time.After(groupWait)
			for seen < want {
				select {
				case m := <-inbox:
					if strings.HasPrefix(m.Text, prefix) {
						seen++
					}
				case <-timeout:
					missing[i] = want - seen
					return
				}
			}
		})
	}
	failed := generate(len(groups), 0, 4, func(i int) error {
		body := map[string]any{"to": groups[i].String(), "text": prefix + strconv.Itoa(i)}
		return b.g.c.do("POST", "/api/v1/messages/text", b.inst.key, body, http.StatusAccepted, nil)
	})
	wg.Wait()
	if failed > 0 {
		return fmt.Errorf("%d of %d group texts refused", failed, len(groups))
	}
	lost := 0
	for _, m := range missing {
		lost += m
	}
	if lost > 0 {
		return fmt.Errorf("%d of %d decryptions missing after %s", lost, want*len(b.inboxes), groupWait)
	}
	return nil
}

// groupMemory is the server's footprint: RSS from /proc in KiB, the live
// heap in bytes (HeapAlloc right after a GC the bench asks for through the
// server's pprof listener), and what whatsmeow keeps in the database: its
// sender keys (count and bytes) and Signal sessions (bytes).
type groupMemory struct {
	rss, anon                     int64
	heap                          int64
	senderKeys, keyBytes, session int64
}

func (m groupMemory) String() string {
	return fmt.Sprintf("RSS %.1f MiB (anonymous %.1f), live heap %.1f MiB; in the database %d sender keys of %.1f KiB, sessions %.1f KiB",
		mib(m.rss), mib(m.anon), float64(m.heap)/(1<<20), m.senderKeys, float64(m.keyBytes)/1024, float64(m.session)/1024)
}

// memory settles for groupSettle, has the server collect its garbage
// (twice: the first GC only moves sync.Pool contents aside) and reads the
// heap, then gives the runtime groupSettle again to hand freed pages back
// before it reads RSS and the database.
func (b *groupBench) memory() (groupMemory, error) {
	var m groupMemory
	time.Sleep(groupSettle)
	var err error
	for range 2 {
		if m.heap, err = b.liveHeap(); err != nil {
			return m, err
		}
	}
	time.Sleep(groupSettle)
	s, err := readStatus(b.p.Pid())
	if err != nil {
		return m, err
	}
	m.rss, m.anon = s.rss, s.anon
	db, err := sql.Open("sqlite", "file:"+filepath.Join(b.data, entstore.DeviceFile)+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return m, err
	}
	defer db.Close()
	ctx := context.Background()
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*), COALESCE(SUM(LENGTH(sender_key)), 0) FROM whatsmeow_sender_keys").Scan(&m.senderKeys, &m.keyBytes); err != nil {
		return m, fmt.Errorf("sender keys: %w", err)
	}
	if err := db.QueryRowContext(ctx, "SELECT COALESCE(SUM(LENGTH(session)), 0) FROM whatsmeow_sessions").Scan(&m.session); err != nil {
		return m, fmt.Errorf("sessions: %w", err)
	}
	return m, nil
}

// liveHeap asks the server's pprof listener for a heap profile after a GC
// and reads HeapAlloc from the runtime statistics it ends with.
func (b *groupBench) liveHeap() (int64, error) {
	resp, err := b.g.c.http.Get("http://" + b.pprof + "/debug/pprof/heap?gc=1&debug=1")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "# HeapAlloc = "); ok {
			return strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no HeapAlloc in the heap profile")
}
