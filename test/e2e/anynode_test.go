package e2e

import "testing"

// TestSandboxFlowWithRedis runs the sandbox flow on PostgreSQL and Redis,
// where the QR codes live in Redis and the calls on a live connection go
// through the node-call registry (issue 18), as on a cluster of one.
func TestSandboxFlowWithRedis(t *testing.T) {
	t.Parallel()
	sandboxFlow(t, postgresRedis, startSim(t))
}
