package ratelimit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wagate/wagate/ports"
)

// suite runs the same behaviour checks against every store.
func suite(t *testing.T, newLimiter func(t *testing.T) *Limiter) {
	t.Run("TakeCountsDown", func(t *testing.T) {
		l := newLimiter(t)
		ctx := context.Background()
		lim := ports.Limit{Count: 3, Period: time.Minute}
		for i, want := range []int{2, 1, 0} {
			r, err := l.Take(ctx, "k", lim)
			if err != nil {
				t.Fatalf("take %d: %v", i, err)
			}
			if r.Reached || r.Remaining != want || r.Limit != 3 {
				t.Fatalf("take %d: got %+v, want remaining %d, limit 3, not reached", i, r, want)
			}
		}
		r, err := l.Take(ctx, "k", lim)
		if err != nil {
			t.Fatal(err)
		}
		if !r.Reached || r.Remaining != 0 {
			t.Fatalf("fourth take: got %+v, want reached with 0 remaining", r)
		}
		if until := time.Until(r.Reset); until <= 0 || until > time.Minute+time.Second {
			t.Fatalf("got reset in %s, want within the minute", until)
		}
	})

	t.Run("KeysAreIndependent", func(t *testing.T) {
		l := newLimiter(t)
		ctx := context.Background()
		lim := ports.Limit{Count: 1, Period: time.Minute}
		if _, err := l.Take(ctx, "a", lim); err != nil {
			t.Fatal(err)
		}
		r, err := l.Take(ctx, "b", lim)
		if err != nil {
			t.Fatal(err)
		}
		if r.Reached {
			t.Fatalf("got key b reached after a hit on a, want independent counters")
		}
	})

	t.Run("PeekDoesNotCount", func(t *testing.T) {
		l := newLimiter(t)
		ctx := context.Background()
		lim := ports.Limit{Count: 2, Period: time.Minute}
		r, err := l.Peek(ctx, "k", lim)
		if err != nil {
			t.Fatal(err)
		}
		if r.Remaining != 2 || r.Reached {
			t.Fatalf("peek on a fresh key: got %+v, want 2 remaining", r)
		}
		if _, err := l.Take(ctx, "k", lim); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			r, err = l.Peek(ctx, "k", lim)
			if err != nil {
				t.Fatal(err)
			}
			if r.Remaining != 1 {
				t.Fatalf("peek after one take: got remaining %d, want 1", r.Remaining)
			}
		}
	})

	t.Run("ResetClears", func(t *testing.T) {
		l := newLimiter(t)
		ctx := context.Background()
		lim := ports.Limit{Count: 1, Period: time.Minute}
		for range 2 {
			if _, err := l.Take(ctx, "k", lim); err != nil {
				t.Fatal(err)
			}
		}
		if err := l.Reset(ctx, "k", lim); err != nil {
			t.Fatal(err)
		}
		r, err := l.Take(ctx, "k", lim)
		if err != nil {
			t.Fatal(err)
		}
		if r.Reached || r.Remaining != 0 {
			t.Fatalf("take after reset: got %+v, want the first hit of a new window", r)
		}
	})

	t.Run("WindowResets", func(t *testing.T) {
		l := newLimiter(t)
		ctx := context.Background()
		lim := ports.Limit{Count: 1, Period: 300 * time.Millisecond}
		for range 2 {
			if _, err := l.Take(ctx, "k", lim); err != nil {
				t.Fatal(err)
			}
		}
		// Wait for the window to pass; polling keeps the test independent
		// of the exact expiry granularity of each store.
		deadline := time.Now().Add(5 * time.Second)
		for {
			r, err := l.Peek(ctx, "k", lim)
			if err != nil {
				t.Fatal(err)
			}
			if r.Remaining == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("got %+v long after the window, want a fresh counter", r)
			}
			time.Sleep(50 * time.Millisecond)
		}
		r, err := l.Take(ctx, "k", lim)
		if err != nil {
			t.Fatal(err)
		}
		if r.Reached {
			t.Fatalf("got reached in a new window, want the hit allowed")
		}
	})

	t.Run("ConcurrentTakesCountExactly", func(t *testing.T) {
		l := newLimiter(t)
		ctx := context.Background()
		lim := ports.Limit{Count: 50, Period: time.Minute}
		var wg sync.WaitGroup
		var mu sync.Mutex
		allowed := 0
		for range 80 {
			wg.Go(func() {
				r, err := l.Take(ctx, "k", lim)
				if err != nil {
					t.Error(err)
					return
				}
				if !r.Reached {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if allowed != 50 {
			t.Fatalf("got %d hits allowed, want 50", allowed)
		}
	})

	t.Run("RejectsUnusableLimit", func(t *testing.T) {
		l := newLimiter(t)
		_, err := l.Take(context.Background(), "k", ports.Limit{Count: 0, Period: time.Minute})
		if got := ports.ErrorCodeOf(err); got != ports.EInternal {
			t.Fatalf("got code %q, want %q", got, ports.EInternal)
		}
	})
}

func TestMemory(t *testing.T) {
	suite(t, func(*testing.T) *Limiter { return NewMemory() })
}

func TestRedis(t *testing.T) {
	client := redisClient(t)
	suite(t, func(t *testing.T) *Limiter {
		prefix := "wagate-test-" + randomHex(t)
		l, err := NewRedis(client, prefix)
		if err != nil {
			t.Fatalf("new redis limiter: %v", err)
		}
		t.Cleanup(func() { dropPrefix(t, client, prefix) })
		return l
	})
}

func TestRedisDownIsUnavailable(t *testing.T) {
	client := redisClient(t)
	l, err := NewRedis(client, "wagate-test-"+randomHex(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = l.Take(ctx, "k", ports.Limit{Count: 1, Period: time.Minute})
	if got := ports.ErrorCodeOf(err); got != ports.EUnavailable {
		t.Fatalf("got code %q (%v), want %q", got, err, ports.EUnavailable)
	}
}

// redisClient connects to TEST_REDIS_URL; without it the test is skipped,
// except in CI where a missing service is a failure.
func redisClient(t *testing.T) *redis.Client {
	t.Helper()
	url := os.Getenv("TEST_REDIS_URL")
	if url == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("TEST_REDIS_URL is not set; CI needs Redis")
		}
		t.Skip("TEST_REDIS_URL is not set; skipping the Redis store tests")
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("parse TEST_REDIS_URL: %v", err)
	}
	client := redis.NewClient(opt)
	t.Cleanup(func() { _ = client.Close() })
	if err := client.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("ping redis: %v", err)
	}
	return client
}

func dropPrefix(t *testing.T, client *redis.Client, prefix string) {
	ctx := context.Background()
	iter := client.Scan(ctx, 0, prefix+":*", 100).Iterator()
	for iter.Next(ctx) {
		if err := client.Del(ctx, iter.Val()).Err(); err != nil {
			t.Errorf("drop %s: %v", iter.Val(), err)
		}
	}
	if err := iter.Err(); err != nil {
		t.Errorf("scan %s: %v", prefix, err)
	}
}

func randomHex(t *testing.T) string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
