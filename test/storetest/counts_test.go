package storetest_test

import (
	"testing"

	"github.com/wagate/wagate/test/storetest"
	"github.com/wagate/wagate/test/testdb"
)

func TestSQLiteStatusCounts(t *testing.T) {
	storetest.RunStatusCounts(t, func(t *testing.T) storetest.CountsBackend {
		return migrated(t, open(t, "", testdb.SQLiteDir(t)))
	})
}

func TestPostgresStatusCounts(t *testing.T) {
	storetest.RunStatusCounts(t, func(t *testing.T) storetest.CountsBackend {
		return migrated(t, open(t, testdb.Postgres(t), ""))
	})
}
