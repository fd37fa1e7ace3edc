package app

import (
	"context"
	"io"

	"github.com/wagate/wagate/adapters/wasim"
)

// defaultSimAddr is where `wagate sim` listens unless told otherwise:
// loopback only, as the simulator has no authentication.
const defaultSimAddr = "127.0.0.1:7070"

// runSim runs the simulated WhatsApp network as a standalone process that
// any number of sandbox-mode servers share (WAGATE_SANDBOX_ADDR), until ctx
// ends.
func runSim(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := newFlags("sim", stdout)
	addr := fs.String("addr", defaultSimAddr, "address the simulator listens on (protocol, media and control API)")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	log := newLogger(stdout, cfg.LogLevel, cfg.NodeID)
	return wasim.Serve(ctx, *addr, log.With("component", "wasim"))
}
