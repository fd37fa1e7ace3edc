package storetest_test

import (
	"testing"

	"github.com/wagate/wagate/core/coretest"
	"github.com/wagate/wagate/test/storetest"
	"github.com/wagate/wagate/test/testdb"
)

func TestSQLiteStats(t *testing.T) {
	storetest.RunStats(t, func(t *testing.T) storetest.StatsBackend {
		return migrated(t, open(t, "", testdb.SQLiteDir(t)))
	})
}

func TestPostgresStats(t *testing.T) {
	storetest.RunStats(t, func(t *testing.T) storetest.StatsBackend {
		return migrated(t, open(t, testdb.Postgres(t), ""))
	})
}

// TestFakeStats holds the core's fake to the same contract.
func TestFakeStats(t *testing.T) {
	storetest.RunStats(t, func(t *testing.T) storetest.StatsBackend { return coretest.NewStore() })
}
