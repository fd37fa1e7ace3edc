// Command takeover measures how long a cluster of `wagate serve` nodes
// takes to move a killed node's WhatsApp instances to the survivors
// (`make bench`, issue 6; SPEC §14 promises 60 s, the aim is 30 s for 100
// instances).
//
// It builds wagate, runs the simulator in this process and -nodes server
// processes on one scratch PostgreSQL database and one Redis prefix, links
// -n instances through the nodes in turn, kills (SIGKILL) the node holding
// the most and prints the time from the kill until the survivors hold all
// its leases, then until every one of its instances is connected again.
//
//	go run ./test/bench/takeover -n 100
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

type config struct {
	n        int           // instances
	nodes    int           // wagate serve processes
	parallel int           // links in flight
	leaseTTL string        // WAGATE_LEASE_TTL of the nodes
	timeout  time.Duration // bound on linking, and on the takeover
	pgURL    string
	redisURL string
}

func main() {
	var cfg config
	flag.IntVar(&cfg.n, "n", 100, "instances to link over the nodes")
	flag.IntVar(&cfg.nodes, "nodes", 3, "wagate serve processes (at least 2)")
	flag.IntVar(&cfg.parallel, "parallel", 8, "instances linked at once")
	flag.StringVar(&cfg.leaseTTL, "lease-ttl", "15s", "WAGATE_LEASE_TTL of the nodes (15s is the server's default)")
	flag.DurationVar(&cfg.timeout, "timeout", 5*time.Minute, "give up when linking, or the takeover, takes longer")
	flag.StringVar(&cfg.pgURL, "pg", os.Getenv("TEST_DATABASE_URL"), "PostgreSQL URL to create a scratch database on")
	flag.StringVar(&cfg.redisURL, "redis", os.Getenv("TEST_REDIS_URL"), "Redis URL (a random key prefix is used and deleted)")
	flag.Parse()
	if cfg.pgURL == "" || cfg.redisURL == "" {
		fmt.Fprintln(os.Stderr, "bench takeover: several nodes need PostgreSQL and Redis; set TEST_DATABASE_URL and TEST_REDIS_URL (or -pg and -redis)")
		os.Exit(2)
	}
	if cfg.nodes < 2 || cfg.n < 1 {
		fmt.Fprintln(os.Stderr, "bench takeover: want -nodes ≥ 2 and -n ≥ 1")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench takeover:", err)
		os.Exit(1)
	}
}
