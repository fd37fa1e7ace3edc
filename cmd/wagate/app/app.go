// Package app is wagate's composition root: it reads the configuration,
// chooses the adapters, wires them to the core and runs the subcommands.
// It lives apart from package main so that end-to-end tests can start the
// real server in-process.
package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"go.opentelemetry.io/otel/trace"
)

const usage = `usage: wagate <command> [flags]

commands:
  serve                  run the HTTP server
  migrate [--status]     apply pending database migrations (or list them)
  admin create-user      create a user: --email, --password-env or --password-stdin, --name, --admin
  sim [--addr HOST:PORT] run a simulated WhatsApp network for sandbox-mode servers (WAGATE_SANDBOX_ADDR)
  backup --out FILE      write a consistent snapshot of the SQLite database, also while the server serves
  restore --in FILE [--force]  bring a snapshot back (server stopped); --force replaces an existing database`

// Run runs one subcommand. It returns when the command is done or, for
// serve, when ctx is cancelled and the server has shut down.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	return RunWith(ctx, args, getenv, stdout, Hooks{})
}

// Hooks are what a program embedding wagate (the tests) may hand serve in
// place of what the configuration would choose. The zero value changes
// nothing.
type Hooks struct {
	// TracerProvider receives the spans instead of the exporter of the
	// OTEL_* variables; tests pass one with an in-memory exporter.
	TracerProvider trace.TracerProvider
}

// RunWith is Run with hooks.
func RunWith(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer, hooks Hooks) error {
	if len(args) == 0 {
		printHelp(stdout, usage)
		return errors.New("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return runServe(ctx, rest, getenv, stdout, hooks)
	case "migrate":
		return runMigrate(ctx, rest, getenv, stdout)
	case "admin":
		return runAdmin(ctx, rest, getenv, stdout)
	case "sim":
		return runSim(ctx, rest, getenv, stdout)
	case "backup":
		return runBackup(ctx, rest, getenv, stdout)
	case "restore":
		return runRestore(ctx, rest, getenv, stdout)
	case "help", "-h", "--help":
		printHelp(stdout, usage)
		return nil
	default:
		printHelp(stdout, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

// newFlags returns a flag set whose --help prints the environment table too.
func newFlags(name string, stdout io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() {
		printHelp(stdout, "usage: wagate "+name+" [flags]")
		fmt.Fprintln(stdout, "\nFlags:")
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args; --help is not an error.
func parseFlags(fs *flag.FlagSet, args []string) (help bool, err error) {
	err = fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		return true, nil
	}
	if err == nil && fs.NArg() > 0 {
		err = fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	return false, err
}

func newLogger(w io.Writer, level slog.Level, node string) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})).With("node", node)
}
