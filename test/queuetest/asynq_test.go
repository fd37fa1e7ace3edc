package queuetest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	asynqueue "github.com/wagate/wagate/adapters/asynq"
	"github.com/wagate/wagate/ports"
	"github.com/wagate/wagate/test/queuetest"
	"github.com/wagate/wagate/test/testdb"
)

func TestAsynq(t *testing.T) {
	queuetest.Run(t, openAsynq)
}

// openAsynq gives each subtest its own queue prefix on the shared Redis.
// asynq's keys all start with "asynq:" whatever the options, so the
// prefix's own queues ("asynq:{<prefix>:<type>}:…") are deleted after the
// test, and nothing else: other tests and other users of the server are
// left alone.
func openAsynq(t *testing.T) queuetest.Adapter {
	t.Helper()
	url, prefix := testdb.Redis(t)
	prefix = strings.TrimSuffix(prefix, ":")
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("parse redis URL: %v", err)
	}
	client := redis.NewClient(opts)
	// Registered first, so that it runs after the runners have stopped.
	t.Cleanup(func() {
		defer client.Close()
		if err := deleteQueues(client, prefix); err != nil {
			t.Errorf("delete asynq queues of %s: %v", prefix, err)
		}
	})
	q, err := asynqueue.New(asynqueue.Options{
		Redis:        client,
		Prefix:       prefix,
		PollInterval: 100 * time.Millisecond,
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

// deleteQueues removes the keys of the queues named prefix:… and their
// entries in asynq's set of queues.
func deleteQueues(c *redis.Client, prefix string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	iter := c.Scan(ctx, 0, "asynq:{"+prefix+":*", 500).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		return err
	}
	if len(keys) > 0 {
		if err := c.Del(ctx, keys...).Err(); err != nil {
			return err
		}
	}
	queues, err := c.SMembers(ctx, "asynq:queues").Result()
	if err != nil {
		return err
	}
	for _, name := range queues {
		if strings.HasPrefix(name, prefix+":") {
			if err := c.SRem(ctx, "asynq:queues", name).Err(); err != nil {
				return err
			}
		}
	}
	return nil
}
