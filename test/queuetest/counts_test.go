package queuetest_test

import (
	"testing"

	"github.com/wagate/wagate/test/queuetest"
	"github.com/wagate/wagate/test/testdb"
)

func TestJobCountsAsynq(t *testing.T) { queuetest.RunJobCounts(t, openAsynq) }

func TestJobCountsLocalQueueSQLite(t *testing.T) {
	queuetest.RunJobCounts(t, func(t *testing.T) queuetest.Adapter {
		return openLocal(t, "", testdb.SQLiteDir(t))
	})
}

func TestJobCountsLocalQueuePostgres(t *testing.T) {
	queuetest.RunJobCounts(t, func(t *testing.T) queuetest.Adapter {
		return openLocal(t, testdb.Postgres(t), "")
	})
}
