package ports_test

import (
	"slices"
	"testing"

	"github.com/wagate/wagate/ports"
)

// The list for store queries and the predicate must never drift apart.
func TestConnectionWantedMatchesWantsConnection(t *testing.T) {
	all := []ports.InstanceStatus{ports.StatusCreated, ports.StatusConnecting, ports.StatusQR,
		ports.StatusConnected, ports.StatusDisconnected, ports.StatusLoggedOut}
	for _, st := range all {
		if got, want := st.WantsConnection(), slices.Contains(ports.ConnectionWanted(), st); got != want {
			t.Errorf("%s: got WantsConnection %v, want %v", st, got, want)
		}
		if st.WantsConnection() && st.Unlinked() {
			t.Errorf("%s: got wanted and unlinked, want at most one", st)
		}
	}
}
