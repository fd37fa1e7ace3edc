package queuetest_test

import (
	"context"
	"testing"
	"time"

	"github.com/wagate/wagate/adapters/entstore"
	"github.com/wagate/wagate/adapters/localqueue"
	"github.com/wagate/wagate/ports"
	"github.com/wagate/wagate/test/queuetest"
	"github.com/wagate/wagate/test/testdb"
)

func TestLocalQueueSQLite(t *testing.T) {
	queuetest.Run(t, func(t *testing.T) queuetest.Adapter {
		return openLocal(t, "", testdb.SQLiteDir(t))
	})
}

func TestLocalQueuePostgres(t *testing.T) {
	queuetest.Run(t, func(t *testing.T) queuetest.Adapter {
		return openLocal(t, testdb.Postgres(t), "")
	})
}

// openLocal opens a migrated store and an embedded queue on it, with the
// short intervals the suite wants.
func openLocal(t *testing.T, url, dir string) queuetest.Adapter {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := entstore.Open(ctx, entstore.Options{URL: url, DataDir: dir})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	q, err := localqueue.New(st.DB(), st.Dialect(), localqueue.Options{
		PollInterval: 100 * time.Millisecond,
		Lease:        2 * time.Second,
		DrainTimeout: 500 * time.Millisecond,
	})
	if err != nil {
		t.Fatalf("new queue: %v", err)
	}
	return queuetest.Adapter{
		Queue:     q,
		NewRunner: func() ports.Runner { return q.NewRunner() },
	}
}
