package asynqueue

import (
	"net/http"

	"github.com/hibiken/asynqmon"
	"github.com/redis/go-redis/v9"
)

// NewMonitor returns asynq's web UI (asynqmon) over rc, read-only, to be
// served at rootPath. It shows every asynq queue on that Redis, so the
// queues of this deployment appear as "<prefix>:<type>".
//
// The monitor borrows rc: the handler is never closed (closing it would
// close rc), and rc's owner closes it at shutdown as usual.
func NewMonitor(rc redis.UniversalClient, rootPath string) http.Handler {
	return asynqmon.New(asynqmon.Options{
		RootPath:     rootPath,
		RedisConnOpt: sharedRedis{rc},
		ReadOnly:     true,
	})
}

// sharedRedis hands an existing client to asynqmon, which otherwise opens
// its own connection pool from an address.
type sharedRedis struct{ c redis.UniversalClient }

// MakeRedisClient implements asynq.RedisConnOpt.
func (s sharedRedis) MakeRedisClient() any { return s.c }
