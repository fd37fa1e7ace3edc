package main

import (
	"context"
	"fmt"
	"maps"
	"os"
	"strings"

	"github.com/wagate/wagate/adapters/wasim"
	"github.com/wagate/wagate/test/testserver"
)

// buildScratch builds the wagate binary into a new scratch directory,
// which the caller removes.
func buildScratch(prefix string) (dir, bin string, err error) {
	dir, err = os.MkdirTemp("", prefix)
	if err != nil {
		return "", "", err
	}
	bin, err = testserver.Build(context.Background(), dir, false)
	if err != nil {
		os.RemoveAll(dir)
		return "", "", err
	}
	return dir, bin, nil
}

// scratchSandbox builds the binary into a scratch directory and starts a
// simulator in this process; done stops the simulator and removes the
// directory.
func scratchSandbox(prefix string) (dir, bin string, sim *wasim.Server, done func(), err error) {
	dir, bin, err = buildScratch(prefix)
	if err != nil {
		return "", "", nil, nil, err
	}
	sim = wasim.New(wasim.Options{})
	if err := sim.Start("127.0.0.1:0"); err != nil {
		os.RemoveAll(dir)
		return "", "", nil, nil, fmt.Errorf("start simulator: %w", err)
	}
	return dir, bin, sim, func() { sim.Close(); os.RemoveAll(dir) }, nil
}

// startSandboxBinary runs the real binary on the embedded default with its
// data in data, in sandbox mode against the simulator at simAddr, without
// rate limits worth the name, plus extra.
func startSandboxBinary(bin, data, simAddr string, extra map[string]string) (*testserver.Process, error) {
	env := map[string]string{
		"HOME": data, "WAGATE_DATA_DIR": data, "WAGATE_LOG_LEVEL": "error",
		"WAGATE_AUTH_RATE_PER_MIN": "100000000", "WAGATE_TIERS": "basic=100:100000000,pro=100:100000000,max=100:100000000",
		"WAGATE_JWT_SECRET": strings.Repeat("b", 32), "WAGATE_ACCESS_TOKEN_TTL": "2h",
		"WAGATE_WHATSAPP": "sandbox", "WAGATE_SANDBOX_ADDR": simAddr,
	}
	maps.Copy(env, extra)
	return testserver.StartProcess(context.Background(), bin, env)
}
