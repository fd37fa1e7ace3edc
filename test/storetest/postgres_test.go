package storetest_test

import (
	"sync"
	"testing"

	"github.com/wagate/wagate/adapters/entstore"
	"github.com/wagate/wagate/test/storetest"
	"github.com/wagate/wagate/test/testdb"
)

func TestPostgres(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Backend {
		return migrated(t, open(t, testdb.Postgres(t), ""))
	})
}

func TestPostgresMigrations(t *testing.T) {
	checkMigrations(t, open(t, testdb.Postgres(t), ""))
}

// TestPostgresConcurrentMigrate starts two nodes at once on an empty
// database: the advisory lock lets one apply the files while the other
// waits and then finds nothing to do.
func TestPostgresConcurrentMigrate(t *testing.T) {
	dsn := testdb.Postgres(t)
	a, b := open(t, dsn, ""), open(t, dsn, "")
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, st := range []*entstore.Store{a, b} {
		wg.Go(func() { errs[i] = st.Migrate(t.Context()) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("migrate on node %d: got %v, want nil", i, err)
		}
	}
	pending, err := a.Pending(t.Context())
	if err != nil || len(pending) != 0 {
		t.Errorf("pending after concurrent migrate: got %v, %v; want none", pending, err)
	}
}
