package storetest_test

import (
	"testing"

	"github.com/wagate/wagate/test/storetest"
	"github.com/wagate/wagate/test/testdb"
)

func TestSQLiteInstanceDirectory(t *testing.T) {
	storetest.RunInstanceDirectory(t, func(t *testing.T) storetest.DirectoryBackend {
		return migrated(t, open(t, "", testdb.SQLiteDir(t)))
	})
}

func TestPostgresInstanceDirectory(t *testing.T) {
	storetest.RunInstanceDirectory(t, func(t *testing.T) storetest.DirectoryBackend {
		return migrated(t, open(t, testdb.Postgres(t), ""))
	})
}
