package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/wagate/wagate/adapters/wasim"
)

// msgConfig configures the messaging and webhook scenarios (issue 4):
//
//	send      (a) POST /messages/text accepted/s and p50/p99 at the
//	          concurrency, next to the bare INSERT + enqueue baseline
//	kinds     (issue 13) POST /messages/video and /poll accepted/s next
//	          to text on one server, with the ratio (kinds.go)
//	deliver   (b) messages/s sent end to end through the simulator
//	          across many instances with pacing off
//	forward   (issue 18) contact checks/s and p50/p99 on the node
//	          holding the instance and through another node, on
//	          PostgreSQL + Redis only (forward.go)
//	webhooks  (c) webhook deliveries/s to a loopback receiver from a
//	          backlog of events made while the server was stopped, and
//	          the latency from the event to the first attempt at a paced
//	          rate of inbound messages (message.received)
//	drain     (issue 17) 1 and 10 instances × 100 texts to all sent,
//	          pacing off, next to bare whatsmeow clients sending the
//	          same through the same simulator (ceiling.go)
type msgConfig struct {
	conc        int
	dur         time.Duration
	send        bool
	kinds       bool // issue 13: video and poll sends next to text
	deliver     bool
	webhooks    bool
	forward     bool    // issue 18: contact checks through a node that does not hold the instance
	drain       bool    // issue 17: 1 and 10 instances × 100 texts next to bare whatsmeow (ceiling.go)
	instances   int     // (b) and (c)
	messages    int     // (b)
	endpoints   int     // (c) per instance
	pacedEvents float64 // (c) inbound messages/s of the paced phase
	backlog     int     // (c) deliveries of the backlog phase
	// webhookWorkers is the server's delivery concurrency
	// (WAGATE_WEBHOOK_CONCURRENCY), which the ceiling's client matches.
	webhookWorkers int
	// purge (issue 16): the retention purge of purgeMessages old
	// messages while sends go on, PostgreSQL only (purge.go).
	purge         bool
	purgeMessages int
}

// The aims of issue 4, for PostgreSQL + Redis.
const (
	aimSendP99   = 50 * time.Millisecond
	aimSendRate  = 1000.0
	aimBaselineX = 2.0
	// aimAcceptCost is issue 17's: an accept costs at most 1.5 times the
	// bare INSERT + enqueue.
	aimAcceptCost   = 1.5
	aimWebhookRate  = 1000.0
	aimWebhookDelay = 100 * time.Millisecond // issue 11 tightened it from 200 ms
)

// runMessaging runs the chosen scenarios on each backend against one
// in-process simulator and prints a line per figure as it comes, then all
// of them together. A failed scenario is reported and the others still run.
func runMessaging(backends []backend, cfg msgConfig) error {
	// No automatic receipts: statuses stop at sent, which is what (b)
	// waits for, and the server handles no receipt traffic meanwhile.
	sim := wasim.New(wasim.Options{})
	if err := sim.Start("127.0.0.1:0"); err != nil {
		return fmt.Errorf("start simulator: %w", err)
	}
	defer sim.Close()
	fmt.Printf("\nmessaging and webhooks: concurrency %d, simulator in process, %d instances for delivery and webhooks\n", cfg.conc, cfg.instances)
	var lines []string
	var errs []error
	report := func(line string) {
		fmt.Println(line)
		lines = append(lines, line)
	}
	fail := func(b backend, scenario string, err error) {
		err = fmt.Errorf("%s %s: %w", scenario, b.name, err)
		fmt.Println("  FAILED:", err)
		errs = append(errs, err)
	}
	var ceilings, pgCeilings map[int]ceilingFigures
	if cfg.drain {
		dir, err := os.MkdirTemp("", "wagate-bench-ceiling-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		ceilings = measureCeilings(sim, "SQLite", "1666", func(n int) (deviceStores, func(), error) {
			return sqliteStores(dir, n), func() {}, nil
		}, &errs)
		if pg := pgURLOf(backends); pg != "" {
			// Not the aim's ceiling: whatsmeow's own cost on PostgreSQL,
			// to tell the gateway's share of a gap from the store's.
			pgCeilings = measureCeilings(sim, "PostgreSQL", "1667", func(int) (deviceStores, func(), error) {
				dsn, drop, err := scratchDatabase(pg)
				if err != nil {
					return nil, nil, err
				}
				stores, done, err := postgresStores(dsn)
				if err != nil {
					drop()
					return nil, nil, err
				}
				return stores, func() { done(); drop() }, nil
			}, &errs)
		}
	}
	for _, b := range backends {
		fmt.Printf("  (%s: load average %s before)\n", b.name, loadAverage())
		if cfg.drain {
			if err := benchDrain(b, sim, cfg.conc, ceilings, pgCeilings, report); err != nil {
				fail(b, "drain", err)
			}
		}
		if cfg.send {
			f, err := benchSend(b, sim.Addr(), cfg.conc, cfg.dur)
			if err != nil {
				fail(b, "messages/text", err)
			} else {
				report(sendLine(b.name, f))
			}
		}
		if cfg.kinds {
			f, err := benchKinds(b, sim.Addr(), cfg.conc, cfg.dur)
			if err != nil {
				fail(b, "kinds", err)
			} else {
				report(kindsLine(b.name, f))
			}
		}
		if cfg.forward && b.name == "pg+redis" {
			f, err := benchForward(b, sim.Addr(), cfg.conc, cfg.dur)
			if err != nil {
				fail(b, "forward", err)
			} else {
				report(forwardLine(b.name, f))
			}
		}
		if cfg.purge && b.name != "sqlite" {
			f, err := benchPurge(b, sim.Addr(), cfg.conc, cfg.dur, cfg.purgeMessages)
			if err != nil {
				fail(b, "purge", err)
			} else {
				report(purgeLine(b.name, f))
			}
		}
		if cfg.deliver || cfg.webhooks {
			if err := deliverAndWebhooks(b, sim, cfg, report); err != nil {
				fail(b, "delivery/webhooks", err)
			}
		}
	}
	fmt.Println("\nsummary:")
	for _, l := range lines {
		fmt.Println("  " + l)
	}
	return errors.Join(errs...)
}

// deliverAndWebhooks runs (b) and then (c) on one server with pacing off
// and the SSRF guard lifted for the loopback receiver.
func deliverAndWebhooks(b backend, sim *wasim.Server, cfg msgConfig, report func(string)) error {
	st, err := b.fresh()
	if err != nil {
		return err
	}
	defer st.drop()
	g, err := startGateway(st, sim.Addr(), map[string]string{
		"WAGATE_SEND_DELAY":            "0",
		"WAGATE_WEBHOOK_ALLOW_PRIVATE": "true",
		"WAGATE_WEBHOOK_ALLOW_HTTP":    "true",
		"WAGATE_WEBHOOK_CONCURRENCY":   strconv.Itoa(cfg.webhookWorkers),
	}, cfg.conc)
	if err != nil {
		return err
	}
	defer g.stop()
	t0 := time.Now()
	insts, err := g.linkMany(cfg.instances, 8)
	if err != nil {
		return err
	}
	fmt.Printf("  (%s: linked %d instances in %s)\n", b.name, len(insts), time.Since(t0).Round(100*time.Millisecond))
	if cfg.deliver {
		f, err := benchDeliver(g, sim, insts, cfg.messages, cfg.conc)
		if err != nil {
			return fmt.Errorf("delivery: %w", err)
		}
		report(deliverLine(b.name, f))
	}
	if cfg.webhooks {
		f, err := benchWebhooks(g, sim, insts, cfg)
		if err != nil {
			return fmt.Errorf("webhooks: %w", err)
		}
		report(webhookLine(b.name, f))
	}
	return nil
}

func sendLine(name string, f sendFigures) string {
	r, base := f.real, f.baseline
	// The cost of an accept next to the baseline's (issue 17): the
	// baseline's rate over wagate's at the same concurrency.
	cost := 0.0
	if r.rps > 0 {
		cost = base.rps / r.rps
	}
	line := fmt.Sprintf("messages/text %s: %.0f req/s p50 %s p99 %s (baseline %.0f req/s p50 %s p99 %s; %.2f× the baseline's cost)",
		name, r.rps, ms(r.p50), ms(r.p99), base.rps, ms(base.p50), ms(base.p99), cost)
	if r.errors > 0 || base.errors > 0 {
		line += fmt.Sprintf(" errors %d/%d", r.errors, base.errors)
	}
	return line + aims(
		aim{fmt.Sprintf("p99≤%s", ms(aimSendP99)), r.p99 <= aimSendP99},
		aim{fmt.Sprintf("≥%.0f/s", aimSendRate), r.rps >= aimSendRate},
		aim{"within 2× baseline", r.rps*aimBaselineX >= base.rps && r.p99 <= time.Duration(aimBaselineX*float64(base.p99))},
		aim{fmt.Sprintf("≤%.1f× the baseline's cost", aimAcceptCost), r.rps > 0 && cost <= aimAcceptCost},
	)
}

func deliverLine(name string, f deliverFigures) string {
	line := fmt.Sprintf("delivered %s: %.0f msgs/s (%d messages over %d instances, all sent after %s, accepted after %s; recipients decrypted %d",
		name, f.rate(), f.messages, f.instances, f.done.Round(10*time.Millisecond), f.accepted.Round(10*time.Millisecond), f.atContacts)
	if f.failed > 0 || f.refused > 0 {
		line += fmt.Sprintf("; %d failed, %d refused", f.failed, f.refused)
	}
	if f.sent+f.failed < f.messages-int(f.refused) {
		line += fmt.Sprintf("; only %d sent when the bench gave up", f.sent)
	}
	return line + ")"
}

func webhookLine(name string, f webhookFigures) string {
	b, p := f.backlog, f.paced
	p50, ok50 := p.quantile(0.50)
	p99, ok99 := p.quantile(0.99)
	return fmt.Sprintf("webhooks %s (%d workers): %s; paced %.0f/s offered → %.0f/s%s, event→first attempt p50 %s p99 %s%s; %d endpoints",
		name, f.workers, backlogLine(b, f.ceiling), f.offeredPerSec, p.rate(), arrived(p), late(p50, ok50), late(p99, ok99), repeated(p), f.endpoints) +
		aims(
			aim{fmt.Sprintf("≥%.0f/s", aimWebhookRate), b.got >= b.want && b.rate() >= aimWebhookRate},
			aim{fmt.Sprintf("p99≤%s at %.0f/s", ms(aimWebhookDelay), f.offeredPerSec), ok99 && p99 <= aimWebhookDelay},
			aim{"exactly once", b.got == b.want && b.dups == 0 && p.dups == 0},
		)
}

// repeated notes deliveries that arrived more than once.
func repeated(p phaseFigures) string {
	if p.dups == 0 {
		return ""
	}
	return fmt.Sprintf(", %d REPEATED", p.dups)
}

// late formats a latency quantile, or says that too few deliveries
// arrived to have one.
func late(d time.Duration, ok bool) string {
	if !ok {
		return fmt.Sprintf(">%s", webhookGrace)
	}
	return ms(d)
}

// arrived notes a phase whose deliveries did not all arrive in time.
func arrived(p phaseFigures) string {
	if p.got >= p.want {
		return ""
	}
	return fmt.Sprintf(" (%d of %d arrived within %s)", p.got, p.want, p.elapsed.Round(100*time.Millisecond))
}

// aim is one target of issue 4 and whether the figure meets it.
type aim struct {
	name string
	met  bool
}

func aims(as ...aim) string {
	parts := make([]string, len(as))
	for i, a := range as {
		mark := "ok"
		if !a.met {
			mark = "MISSED"
		}
		parts[i] = a.name + " " + mark
	}
	return " [aims: " + strings.Join(parts, ", ") + "]"
}

// loadAverage is the machine's 1-minute load average: figures taken on a
// busy machine are worth less, and the output says so.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Fields(string(b) + " ?")[0]
}

// ms formats a latency: to 0.1 ms below 10 ms, to 1 ms above.
func ms(d time.Duration) string {
	if d < 10*time.Millisecond {
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.0fms", float64(d)/float64(time.Millisecond))
}
