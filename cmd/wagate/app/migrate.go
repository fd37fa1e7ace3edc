package app

import (
	"context"
	"fmt"
	"io"

	"github.com/wagate/wagate/adapters/entstore"
)

func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := newFlags("migrate", stdout)
	status := fs.Bool("status", false, "list pending migrations without applying them")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	log := newLogger(stdout, cfg.LogLevel, cfg.NodeID)
	if *status {
		return printPending(ctx, cfg, stdout)
	}
	st, err := openStore(ctx, cfg, log, true)
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Fprintln(stdout, "database is up to date")
	return nil
}

func printPending(ctx context.Context, cfg Config, stdout io.Writer) error {
	st, err := entstore.Open(ctx, entstore.Options{URL: cfg.DatabaseURL, DataDir: cfg.DataDir})
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer st.Close()
	pending, err := st.Pending(ctx)
	if err != nil {
		return fmt.Errorf("check migrations: %w", err)
	}
	if len(pending) == 0 {
		fmt.Fprintln(stdout, "no pending migrations")
	}
	for _, v := range pending {
		fmt.Fprintln(stdout, "pending:", v)
	}
	return nil
}
