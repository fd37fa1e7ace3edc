package storetest_test

import (
	"testing"

	"github.com/wagate/wagate/core/coretest"
	"github.com/wagate/wagate/test/storetest"
	"github.com/wagate/wagate/test/testdb"
)

func TestSQLiteEvents(t *testing.T) {
	storetest.RunEvents(t, func(t *testing.T) storetest.EventBackend {
		return migrated(t, open(t, "", testdb.SQLiteDir(t)))
	})
}

func TestPostgresEvents(t *testing.T) {
	storetest.RunEvents(t, func(t *testing.T) storetest.EventBackend {
		return migrated(t, open(t, testdb.Postgres(t), ""))
	})
}

// TestFakeEvents holds the core's fake to the same contract.
func TestFakeEvents(t *testing.T) {
	storetest.RunEvents(t, func(t *testing.T) storetest.EventBackend { return coretest.NewStore() })
}
