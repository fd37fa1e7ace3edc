package storetest_test

import (
	"testing"

	"github.com/wagate/wagate/test/storetest"
	"github.com/wagate/wagate/test/testdb"
)

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Backend {
		return migrated(t, open(t, "", testdb.SQLiteDir(t)))
	})
}

func TestSQLiteMigrations(t *testing.T) {
	checkMigrations(t, open(t, "", testdb.SQLiteDir(t)))
}
