package storetest_test

import (
	"testing"

	"github.com/wagate/wagate/core/coretest"
	"github.com/wagate/wagate/test/storetest"
	"github.com/wagate/wagate/test/testdb"
)

func TestSQLiteBulks(t *testing.T) {
	storetest.RunBulks(t, func(t *testing.T) storetest.BulkBackend {
		return migrated(t, open(t, "", testdb.SQLiteDir(t)))
	})
}

func TestPostgresBulks(t *testing.T) {
	storetest.RunBulks(t, func(t *testing.T) storetest.BulkBackend {
		return migrated(t, open(t, testdb.Postgres(t), ""))
	})
}

// TestFakeBulks holds the core's fake to the same contract.
func TestFakeBulks(t *testing.T) {
	storetest.RunBulks(t, func(t *testing.T) storetest.BulkBackend { return coretest.NewStore() })
}
