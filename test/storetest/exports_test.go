package storetest_test

import (
	"testing"

	"github.com/wagate/wagate/test/storetest"
	"github.com/wagate/wagate/test/testdb"
)

// The export ports have no in-memory fake in core/coretest: core/exports
// tests with its own small ones, so the suite runs on the databases.

func TestSQLiteExports(t *testing.T) {
	storetest.RunExports(t, func(t *testing.T) storetest.ExportBackend {
		return migrated(t, open(t, "", testdb.SQLiteDir(t)))
	})
}

func TestPostgresExports(t *testing.T) {
	storetest.RunExports(t, func(t *testing.T) storetest.ExportBackend {
		return migrated(t, open(t, testdb.Postgres(t), ""))
	})
}
