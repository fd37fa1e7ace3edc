package storetest_test

import (
	"testing"

	"github.com/wagate/wagate/core/coretest"
	"github.com/wagate/wagate/test/storetest"
	"github.com/wagate/wagate/test/testdb"
)

func TestSQLiteMedia(t *testing.T) {
	storetest.RunMedia(t, func(t *testing.T) storetest.Backend {
		return migrated(t, open(t, "", testdb.SQLiteDir(t)))
	})
}

func TestPostgresMedia(t *testing.T) {
	storetest.RunMedia(t, func(t *testing.T) storetest.Backend {
		return migrated(t, open(t, testdb.Postgres(t), ""))
	})
}

// TestFakeMedia holds the core's fake to the same contract.
func TestFakeMedia(t *testing.T) {
	storetest.RunMedia(t, func(t *testing.T) storetest.Backend { return coretest.NewStore() })
}
