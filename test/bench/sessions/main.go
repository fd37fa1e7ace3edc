// Command sessions measures what connected WhatsApp instances cost a wagate
// process (`make bench`, issue 3): heap in use, RSS and goroutines at N
// connected simulated instances, in total and per instance over a baseline
// taken before connecting, and how long a new adapter on the same database
// takes to log all N back in with their stored credentials, as a server
// restart does.
//
// The simulator runs in a child process (this binary re-executed with
// -simulator-only), so that the figures are the gateway's alone. Each
// database gets a fresh store: SQLite in a temporary directory always, and
// PostgreSQL on a scratch database when TEST_DATABASE_URL is set.
//
//	go run ./test/bench/sessions -n 200
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/wagate/wagate/adapters/wasim"
)

type config struct {
	n        int           // instances
	parallel int           // connects (and scans) in flight
	settle   time.Duration // wait after the last connect before measuring
	timeout  time.Duration // bound on pairing or restoring all instances
	sqlite   bool
	pgURL    string
}

func main() {
	var cfg config
	flag.IntVar(&cfg.n, "n", 200, "connected instances to measure")
	flag.IntVar(&cfg.parallel, "parallel", 16, "pairings and restore connects in flight (the server's restore uses 16)")
	flag.DurationVar(&cfg.settle, "settle", 2*time.Second, "wait after the last instance connected before measuring, for post-login work to finish")
	flag.DurationVar(&cfg.timeout, "timeout", 5*time.Minute, "give up when pairing or restoring takes longer")
	flag.BoolVar(&cfg.sqlite, "sqlite", true, "run on SQLite")
	flag.StringVar(&cfg.pgURL, "pg", os.Getenv("TEST_DATABASE_URL"), "PostgreSQL URL to create a scratch database on; empty skips PostgreSQL")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the gateway side (not the simulator) to this file")
	simAddr := flag.String(simulatorFlag, "", "internal: run only the simulator on this address (the child process)")
	flag.Usage = usage
	flag.Parse()

	if *simAddr != "" {
		if err := runSimulator(*simAddr); err != nil {
			fmt.Fprintln(os.Stderr, "simulator:", err)
			os.Exit(1)
		}
		return
	}
	if err := benchmark(cfg, *profile); err != nil {
		fmt.Fprintln(os.Stderr, "bench sessions:", err)
		os.Exit(1)
	}
}

// benchmark runs the benchmark, under the CPU profiler when profile names
// a file.
func benchmark(cfg config, profile string) error {
	if profile != "" {
		stop, err := startProfile(profile)
		if err != nil {
			return err
		}
		defer stop()
	}
	return run(cfg)
}

// usage lists the flags but the internal one.
func usage() {
	out := flag.CommandLine.Output()
	fmt.Fprintf(out, "Usage: %s [flags]\n", os.Args[0])
	flag.VisitAll(func(f *flag.Flag) {
		if f.Name == simulatorFlag {
			return
		}
		fmt.Fprintf(out, "  -%s\t%s (default %q)\n", f.Name, f.Usage, f.DefValue)
	})
}

func startProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

func run(cfg config) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sim, err := startSimulator(ctx)
	if err != nil {
		return err
	}
	defer sim.stop()
	wasim.InstallCert()

	fmt.Printf("%d simulated instances, simulator in process %d, %d connects in flight\n", cfg.n, sim.pid(), cfg.parallel)
	fmt.Printf("paired: QR-link N new devices; restored: a new adapter logs them in again (a restart)\n")
	fmt.Printf("time: until all N are connected; base: before connecting; per inst: (at N - base) / N\n\n")
	printHeader()
	if cfg.sqlite {
		dir, err := os.MkdirTemp("", "wagate-bench-sessions-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		if err := benchBackend(ctx, cfg, sim.addr, "sqlite", dbConfig{dataDir: dir}); err != nil {
			return fmt.Errorf("sqlite: %w", err)
		}
	}
	if cfg.pgURL == "" {
		return nil
	}
	dsn, drop, err := scratchDatabase(ctx, cfg.pgURL)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	defer drop()
	if err := benchBackend(ctx, cfg, sim.addr, "postgres", dbConfig{url: dsn}); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	return nil
}
