package storetest_test

import (
	"testing"

	"github.com/wagate/wagate/core/coretest"
	"github.com/wagate/wagate/ports"
	"github.com/wagate/wagate/test/storetest"
	"github.com/wagate/wagate/test/testdb"
)

func TestSQLiteIdempotency(t *testing.T) {
	storetest.RunIdempotency(t, func(t *testing.T) ports.IdempotencyStore {
		return migrated(t, open(t, "", testdb.SQLiteDir(t))).Idempotency()
	})
}

func TestPostgresIdempotency(t *testing.T) {
	storetest.RunIdempotency(t, func(t *testing.T) ports.IdempotencyStore {
		return migrated(t, open(t, testdb.Postgres(t), "")).Idempotency()
	})
}

// TestFakeIdempotency holds the core's fake to the same contract.
func TestFakeIdempotency(t *testing.T) {
	storetest.RunIdempotency(t, func(t *testing.T) ports.IdempotencyStore { return coretest.NewIdempotency() })
}
