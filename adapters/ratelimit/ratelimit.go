// Package ratelimit implements ports.RateLimiter on github.com/ulule/limiter/v3:
// an in-memory store for the embedded single-node default and a Redis store
// whose fixed-window counters every node shares.
package ratelimit

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/ulule/limiter/v3"
	"github.com/ulule/limiter/v3/drivers/store/memory"
	redisstore "github.com/ulule/limiter/v3/drivers/store/redis"

	"github.com/wagate/wagate/ports"
)

var _ ports.RateLimiter = (*Limiter)(nil)

// Limiter counts hits in a ulule store. One limiter.Limiter is kept per
// distinct ports.Limit: callers use a handful of limits (auth per IP, tiers,
// failed logins), so the cache stays small.
type Limiter struct {
	store    limiter.Store
	limiters sync.Map // ports.Limit -> *limiter.Limiter
}

// NewMemory returns a Limiter whose counters live in this process.
func NewMemory() *Limiter {
	return &Limiter{store: memory.NewStore()}
}

// NewRedis returns a Limiter whose counters live in Redis under prefix, so
// that every node sees the same counts. It loads the store's Lua scripts,
// so Redis must answer.
func NewRedis(client *redis.Client, prefix string) (*Limiter, error) {
	store, err := redisstore.NewStoreWithOptions(client, limiter.StoreOptions{Prefix: prefix})
	if err != nil {
		return nil, fmt.Errorf("redis rate limit store: %w", err)
	}
	return &Limiter{store: store}, nil
}

// Take counts one hit against key.
func (l *Limiter) Take(ctx context.Context, key string, lim ports.Limit) (ports.RateResult, error) {
	lm, err := l.limiter(lim)
	if err != nil {
		return ports.RateResult{}, err
	}
	c, err := lm.Get(ctx, key)
	if err != nil {
		return ports.RateResult{}, unavailable("take", err)
	}
	return result(c), nil
}

// Peek reports the counter of key without counting.
func (l *Limiter) Peek(ctx context.Context, key string, lim ports.Limit) (ports.RateResult, error) {
	lm, err := l.limiter(lim)
	if err != nil {
		return ports.RateResult{}, err
	}
	c, err := lm.Peek(ctx, key)
	if err != nil {
		return ports.RateResult{}, unavailable("peek", err)
	}
	return result(c), nil
}

// Reset clears the counter of key.
func (l *Limiter) Reset(ctx context.Context, key string, lim ports.Limit) error {
	lm, err := l.limiter(lim)
	if err != nil {
		return err
	}
	if _, err := lm.Reset(ctx, key); err != nil {
		return unavailable("reset", err)
	}
	return nil
}

// limiter returns the cached limiter.Limiter for lim, creating it once.
func (l *Limiter) limiter(lim ports.Limit) (*limiter.Limiter, error) {
	if lim.Count < 1 || lim.Period <= 0 {
		return nil, ports.Errorf(ports.EInternal, "rate limit %d per %s is not a usable limit", lim.Count, lim.Period)
	}
	if v, ok := l.limiters.Load(lim); ok {
		return v.(*limiter.Limiter), nil
	}
	rate := limiter.Rate{Limit: int64(lim.Count), Period: lim.Period}
	v, _ := l.limiters.LoadOrStore(lim, limiter.New(l.store, rate))
	return v.(*limiter.Limiter), nil
}

// result maps ulule's context; its Reset is a Unix time in seconds.
func result(c limiter.Context) ports.RateResult {
	return ports.RateResult{
		Limit:     int(c.Limit),
		Remaining: int(c.Remaining),
		Reset:     time.Unix(c.Reset, 0),
		Reached:   c.Reached,
	}
}

// unavailable marks a store failure (Redis down) as EUnavailable, keeping
// the cause in the chain for the log.
func unavailable(op string, err error) error {
	return fmt.Errorf("rate limit %s: %w: %w", op, ports.Errorf(ports.EUnavailable, "the rate limiter is unavailable"), err)
}
