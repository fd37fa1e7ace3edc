package storetest_test

import (
	"testing"

	"github.com/wagate/wagate/core/coretest"
	"github.com/wagate/wagate/ports"
	"github.com/wagate/wagate/test/storetest"
	"github.com/wagate/wagate/test/testdb"
)

func TestSQLiteLeases(t *testing.T) {
	storetest.RunLeases(t, func(t *testing.T) ports.LeaseStore {
		return migrated(t, open(t, "", testdb.SQLiteDir(t))).Leases()
	})
}

func TestPostgresLeases(t *testing.T) {
	storetest.RunLeases(t, func(t *testing.T) ports.LeaseStore {
		return migrated(t, open(t, testdb.Postgres(t), "")).Leases()
	})
}

// TestFakeLeases holds the core's fake to the same contract.
func TestFakeLeases(t *testing.T) {
	storetest.RunLeases(t, func(t *testing.T) ports.LeaseStore { return coretest.NewLeases() })
}
