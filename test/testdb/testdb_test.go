package testdb_test

import (
	"context"
	"database/sql"
	"net/url"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/wagate/wagate/test/testdb"
)

func TestPostgresIsFreshAndDropped(t *testing.T) {
	var dsn string
	t.Run("create", func(t *testing.T) {
		dsn = testdb.Postgres(t)
		db, err := sql.Open("postgres", dsn)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		defer db.Close()
		var tables int
		err = db.QueryRow("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'").Scan(&tables)
		if err != nil {
			t.Fatalf("count tables: %v", err)
		}
		if tables != 0 {
			t.Errorf("got %d tables in a fresh database, want 0", tables)
		}
	})
	if dsn == "" {
		t.Skip("no database was created")
	}
	u, _ := url.Parse(dsn)
	name := strings.TrimPrefix(u.Path, "/")
	u.Path = "/postgres"
	db, err := sql.Open("postgres", u.String())
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n); err != nil {
		t.Fatalf("look up database: %v", err)
	}
	if n != 0 {
		t.Errorf("got database %s still present after cleanup, want it dropped", name)
	}
}

func TestRedisPrefixIsCleaned(t *testing.T) {
	var (
		client *redis.Client
		key    string
	)
	ctx := context.Background()
	t.Run("use", func(t *testing.T) {
		u, prefix := testdb.Redis(t)
		if !strings.HasPrefix(prefix, "wagate_test_") {
			t.Errorf("got prefix %q, want wagate_test_…", prefix)
		}
		opts, err := redis.ParseURL(u)
		if err != nil {
			t.Fatalf("parse: %v", err)
		}
		client = redis.NewClient(opts)
		key = prefix + "k"
		if err := client.Set(ctx, key, "v", 0).Err(); err != nil {
			t.Fatalf("set: %v", err)
		}
	})
	if client == nil {
		t.Skip("no Redis prefix was handed out")
	}
	defer client.Close()
	n, err := client.Exists(ctx, key).Result()
	if err != nil {
		t.Fatalf("exists: %v", err)
	}
	if n != 0 {
		t.Errorf("got key %s still present after cleanup, want it deleted", key)
	}
}

func TestSQLiteDirIsUsable(t *testing.T) {
	if dir := testdb.SQLiteDir(t); dir == "" {
		t.Error("got empty directory, want a temporary one")
	}
}
