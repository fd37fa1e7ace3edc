// Package testdb gives integration tests a fresh PostgreSQL database, a
// SQLite directory or a Redis key prefix, and removes them afterwards.
//
// PostgreSQL and Redis come from TEST_DATABASE_URL and TEST_REDIS_URL. When
// one is unset the test is skipped with a message saying so, except under
// CI=true, where a missing service is a failure, never a silent skip.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/lib/pq" // the "postgres" driver
	"github.com/redis/go-redis/v9"
)

// Postgres creates the database wagate_test_<random> on the server of
// TEST_DATABASE_URL and returns its URL. The database is dropped when the
// test ends, even if connections to it are still open.
func Postgres(t testing.TB) string {
	t.Helper()
	base := require(t, "TEST_DATABASE_URL", "PostgreSQL")
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse TEST_DATABASE_URL: %v", err)
	}
	admin, err := sql.Open("postgres", base)
	if err != nil {
		t.Fatalf("open TEST_DATABASE_URL: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	name := "wagate_test_" + randomHex(8)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

// SQLiteDir returns a directory for a SQLite database, removed after the test.
func SQLiteDir(t testing.TB) string {
	t.Helper()
	return t.TempDir()
}

// Redis checks that the server of TEST_REDIS_URL answers and returns its URL
// with a random key prefix ("wagate_test_<random>:"). Keys under the prefix
// are deleted when the test ends.
func Redis(t testing.TB) (redisURL, prefix string) {
	t.Helper()
	redisURL = require(t, "TEST_REDIS_URL", "Redis")
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		t.Fatalf("parse TEST_REDIS_URL: %v", err)
	}
	client := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		client.Close()
		t.Fatalf("ping TEST_REDIS_URL: %v", err)
	}
	prefix = "wagate_test_" + randomHex(8) + ":"
	t.Cleanup(func() {
		defer client.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := deletePrefix(ctx, client, prefix); err != nil {
			t.Errorf("delete redis keys %s*: %v", prefix, err)
		}
		// asynq names its keys asynq:{<queue>}:… and lists its queues
		// in asynq:queues; a server using the prefix (without its
		// trailing colon) names its queues <prefix>:<type>.
		if err := deletePrefix(ctx, client, "asynq:{"+prefix); err != nil {
			t.Errorf("delete asynq keys of %s: %v", prefix, err)
		}
		if err := forgetQueues(ctx, client, prefix); err != nil {
			t.Errorf("forget asynq queues of %s: %v", prefix, err)
		}
	})
	return redisURL, prefix
}

func deletePrefix(ctx context.Context, c *redis.Client, prefix string) error {
	iter := c.Scan(ctx, 0, prefix+"*", 500).Iterator()
	var batch []string
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 500 {
			if err := c.Del(ctx, batch...).Err(); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if err := iter.Err(); err != nil {
		return err
	}
	if len(batch) > 0 {
		return c.Del(ctx, batch...).Err()
	}
	return nil
}

// forgetQueues removes the prefix's queues from asynq's list of queues.
func forgetQueues(ctx context.Context, c *redis.Client, prefix string) error {
	names, err := c.SMembers(ctx, "asynq:queues").Result()
	if err != nil {
		return err
	}
	for _, q := range names {
		if strings.HasPrefix(q, prefix) {
			if err := c.SRem(ctx, "asynq:queues", q).Err(); err != nil {
				return err
			}
		}
	}
	return nil
}

// require returns the environment variable or skips the test; under CI=true
// it fails instead.
func require(t testing.TB, env, service string) string {
	t.Helper()
	v := os.Getenv(env)
	if v != "" {
		return v
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not set: CI needs %s for this test", env, service)
	}
	t.Skipf("%s is not set: skipping this %s test (set it, e.g. via make test, to run it)", env, service)
	return ""
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}
