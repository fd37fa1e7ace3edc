package app

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// redisPinger lets /readyz check Redis.
type redisPinger struct{ c *redis.Client }

func (p redisPinger) Ping(ctx context.Context) error { return p.c.Ping(ctx).Err() }
