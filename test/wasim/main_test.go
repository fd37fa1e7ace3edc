// Package wasim_test drives unmodified whatsmeow clients against the
// simulator in adapters/wasim.
package wasim_test

import (
	"os"
	"testing"
	"time"

	"go.mau.fi/whatsmeow"

	"github.com/wagate/wagate/adapters/wasim"
)

// TestMain sets the process-global whatsmeow knobs once, before any test
// runs: the simulator's root certificate and short keepalive timings (so a
// stopped ping is noticed within two seconds).
func TestMain(m *testing.M) {
	wasim.InstallCert()
	whatsmeow.KeepAliveIntervalMin = time.Second
	whatsmeow.KeepAliveIntervalMax = 1500 * time.Millisecond
	whatsmeow.KeepAliveResponseDeadline = 500 * time.Millisecond
	os.Exit(m.Run())
}
