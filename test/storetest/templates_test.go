package storetest_test

import (
	"testing"

	"github.com/wagate/wagate/core/coretest"
	"github.com/wagate/wagate/test/storetest"
	"github.com/wagate/wagate/test/testdb"
)

func TestSQLiteTemplates(t *testing.T) {
	storetest.RunTemplates(t, func(t *testing.T) storetest.Backend {
		return migrated(t, open(t, "", testdb.SQLiteDir(t)))
	})
}

func TestPostgresTemplates(t *testing.T) {
	storetest.RunTemplates(t, func(t *testing.T) storetest.Backend {
		return migrated(t, open(t, testdb.Postgres(t), ""))
	})
}

// TestFakeTemplates holds the core's fake to the same contract.
func TestFakeTemplates(t *testing.T) {
	storetest.RunTemplates(t, func(t *testing.T) storetest.Backend { return coretest.NewStore() })
}
