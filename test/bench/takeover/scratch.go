package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	_ "github.com/lib/pq" // the "postgres" driver, for the scratch database
	"github.com/redis/go-redis/v9"
)

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// scratchDatabase creates a database for one run on the server of base and
// returns its URL and a function that drops it.
func scratchDatabase(ctx context.Context, base string) (string, func(), error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, errors.New("parse the database URL")
	}
	admin, err := sql.Open("postgres", base)
	if err != nil {
		return "", nil, err
	}
	name := "wagate_takeover_" + randomHex(6)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("create database: %w", err)
	}
	u.Path = "/" + name
	drop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		admin.Close()
	}
	return u.String(), drop, nil
}

// redisPrefix checks that Redis answers and returns a fresh key prefix
// (without its trailing colon) and a function that deletes its keys, the
// asynq queues named after it included.
func redisPrefix(ctx context.Context, redisURL string) (string, func(), error) {
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		return "", nil, errors.New("parse the Redis URL")
	}
	client := redis.NewClient(opts)
	if err := client.Ping(ctx).Err(); err != nil {
		client.Close()
		return "", nil, fmt.Errorf("ping Redis: %w", err)
	}
	prefix := "wagate_takeover_" + randomHex(8)
	clean := func() {
		defer client.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, p := range []string{prefix + ":", "asynq:{" + prefix + ":"} {
			iter := client.Scan(ctx, 0, p+"*", 500).Iterator()
			for iter.Next(ctx) {
				client.Del(ctx, iter.Val())
			}
		}
		names, _ := client.SMembers(ctx, "asynq:queues").Result()
		for _, q := range names {
			if strings.HasPrefix(q, prefix+":") {
				client.SRem(ctx, "asynq:queues", q)
			}
		}
	}
	return prefix, clean, nil
}
