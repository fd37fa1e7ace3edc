package storetest_test

import (
	"testing"

	"github.com/wagate/wagate/test/storetest"
	"github.com/wagate/wagate/test/testdb"
)

func TestSQLiteChats(t *testing.T) {
	storetest.RunChats(t, func(t *testing.T) storetest.ChatsBackend {
		return migrated(t, open(t, "", testdb.SQLiteDir(t)))
	})
}

func TestPostgresChats(t *testing.T) {
	storetest.RunChats(t, func(t *testing.T) storetest.ChatsBackend {
		return migrated(t, open(t, testdb.Postgres(t), ""))
	})
}
