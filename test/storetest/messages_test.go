package storetest_test

import (
	"testing"

	"github.com/wagate/wagate/core/coretest"
	"github.com/wagate/wagate/test/storetest"
	"github.com/wagate/wagate/test/testdb"
)

func TestSQLiteMessages(t *testing.T) {
	storetest.RunMessages(t, func(t *testing.T) storetest.OutboxBackend {
		return migrated(t, open(t, "", testdb.SQLiteDir(t)))
	})
}

func TestPostgresMessages(t *testing.T) {
	storetest.RunMessages(t, func(t *testing.T) storetest.OutboxBackend {
		return migrated(t, open(t, testdb.Postgres(t), ""))
	})
}

// TestFakeMessages holds the core's fake to the same contract.
func TestFakeMessages(t *testing.T) {
	storetest.RunMessages(t, func(t *testing.T) storetest.OutboxBackend { return coretest.NewStore() })
}
