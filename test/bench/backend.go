package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// backend is one storage choice of the messaging and webhook scenarios:
// the embedded default (SQLite and the queue in it) or PostgreSQL with
// Redis (asynq). fresh gives each server a store of its own, so that one
// scenario's backlog never runs under the next one's figures.
type backend struct {
	name  string
	pgURL string // the server PostgreSQL databases are made on; empty on SQLite
	fresh func() (store, error)
}

// pgURLOf is the PostgreSQL server of the first backend on one.
func pgURLOf(backends []backend) string {
	for _, b := range backends {
		if b.pgURL != "" {
			return b.pgURL
		}
	}
	return ""
}

// store is one fresh database (and Redis prefix): the server's environment
// for it, what the baseline needs to open the same store, and its removal.
type store struct {
	env      map[string]string
	dataDir  string // SQLite (and nothing else on PostgreSQL)
	dbURL    string // PostgreSQL; empty on SQLite
	redisURL string // empty: the embedded queue
	prefix   string // WAGATE_REDIS_PREFIX
	drop     func()
}

// embedded is SQLite with the queue in the database, each store in a new
// directory under dir.
func embedded(dir string) backend {
	n := 0
	return backend{name: "sqlite", fresh: func() (store, error) {
		n++
		d := filepath.Join(dir, fmt.Sprintf("sqlite-%d", n))
		if err := os.MkdirAll(d, 0o700); err != nil {
			return store{}, err
		}
		return store{env: map[string]string{"WAGATE_DATA_DIR": d}, dataDir: d, drop: func() {}}, nil
	}}
}

// pgRedis is a scratch PostgreSQL database and a Redis key prefix per store.
func pgRedis(dir, pgURL, redisURL string) backend {
	n := 0
	return backend{name: "pg+redis", pgURL: pgURL, fresh: func() (store, error) {
		n++
		dsn, drop, err := scratchDatabase(pgURL)
		if err != nil {
			return store{}, fmt.Errorf("postgres: %w", err)
		}
		prefix := "wagate_bench_" + randHex(6)
		dropAll := func() {
			drop()
			if err := deleteRedisPrefix(redisURL, prefix); err != nil {
				fmt.Fprintln(os.Stderr, "bench: clean up redis:", err)
			}
		}
		d := filepath.Join(dir, fmt.Sprintf("pg-%d", n))
		env := map[string]string{
			"WAGATE_DATA_DIR": d, "WAGATE_DATABASE_URL": dsn, "WAGATE_MIGRATE_ON_START": "true",
			"WAGATE_REDIS_URL": redisURL, "WAGATE_REDIS_PREFIX": prefix,
		}
		// The pool size is the one tuning knob worth comparing runs by.
		if conns := os.Getenv("WAGATE_DATABASE_MAX_CONNS"); conns != "" {
			env["WAGATE_DATABASE_MAX_CONNS"] = conns
		}
		return store{
			env:     env,
			dataDir: d, dbURL: dsn, redisURL: redisURL, prefix: prefix, drop: dropAll,
		}, nil
	}}
}

// pingRedis tells early whether the pg+redis backend can run.
func pingRedis(redisURL string) error {
	c, err := redisClient(redisURL)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.Ping(ctx).Err()
}

func redisClient(redisURL string) (*redis.Client, error) {
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		return nil, fmt.Errorf("redis URL: %w", err)
	}
	return redis.NewClient(opt), nil
}

// deleteRedisPrefix removes what a run left under prefix: the rate
// limiter's keys start with it, asynq's hold it inside their hash tag
// ("asynq:{prefix:type}:…"), and asynq lists the queue names in a set.
func deleteRedisPrefix(redisURL, prefix string) error {
	c, err := redisClient(redisURL)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	iter := c.Scan(ctx, 0, "*"+prefix+"*", 1000).Iterator()
	var batch []string
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 1000 {
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
		if err := c.Del(ctx, batch...).Err(); err != nil {
			return err
		}
	}
	queues, err := c.SMembers(ctx, "asynq:queues").Result()
	if err != nil {
		return err
	}
	for _, q := range queues {
		if strings.HasPrefix(q, prefix+":") {
			c.SRem(ctx, "asynq:queues", q)
		}
	}
	return nil
}
