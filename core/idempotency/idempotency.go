// Package idempotency carries out the Idempotency-Key rules of SPEC §6 for
// any request a transport hands it as a key, a hash of the request and,
// later, the answer: the first request with a key claims it and runs; the
// same key and request again replays the stored answer; the same key with
// another request is refused (idempotency_key_reused); while the first
// runs, the key is busy (idempotency_in_progress). Keys belong to a
// subscription and live 24 hours.
//
// Answers are opaque here: the transport renders them and decides which
// are kept for replay and which release the key (Finish or Abandon). A
// command that creates something records its answer in its own
// transaction instead, through a ports.IdempotencyClaim.
package idempotency

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/wagate/wagate/ports"
)

// HeaderName is the request header the key travels in; invalid values are
// reported on this field.
const HeaderName = "Idempotency-Key"

// MaxKeyLen is the longest key.
const MaxKeyLen = 255

// Defaults of Config.
const (
	DefaultTTL        = 24 * time.Hour
	DefaultStaleAfter = time.Minute
)

// Config tunes the service. Zero values get the defaults.
type Config struct {
	// TTL is how long a key is remembered; default 24 h.
	TTL time.Duration
	// StaleAfter is how long a claim may stay in progress before it is
	// taken to belong to a request that died with its process; a new
	// request with the key then takes it over. Default 1 min, far above
	// the few milliseconds a send takes.
	StaleAfter time.Duration
}

func (c Config) withDefaults() Config {
	if c.TTL <= 0 {
		c.TTL = DefaultTTL
	}
	if c.StaleAfter <= 0 {
		c.StaleAfter = DefaultStaleAfter
	}
	return c
}

// Deps are the ports the service uses.
type Deps struct {
	Store ports.IdempotencyStore
	Clock ports.Clock
	IDs   ports.IDGen
	Log   *slog.Logger
}

// Service is the idempotency module.
type Service struct {
	d   Deps
	cfg Config
}

// New returns a Service.
func New(d Deps, cfg Config) *Service {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	return &Service{d: d, cfg: cfg.withDefaults()}
}

// Claim is a request's hold on a key: call Finish with its answer, or
// Abandon if it ended without one or with one not to keep. Exactly one of
// them, once, unless the answer was recorded in the creating transaction.
type Claim struct {
	s   *Service
	sub ports.SubscriptionID
	key string
	id  string
}

// CheckKey checks a key: 1 to 255 printable ASCII characters.
func CheckKey(key string) error {
	ok := len(key) >= 1 && len(key) <= MaxKeyLen
	for i := 0; ok && i < len(key); i++ {
		ok = key[i] >= 0x20 && key[i] <= 0x7e
	}
	if !ok {
		return ports.InvalidFields(ports.FieldError{Field: HeaderName, Message: fmt.Sprintf("must be 1 to %d printable ASCII characters", MaxKeyLen)})
	}
	return nil
}

// beginTries bounds how often Begin retries after clearing an expired or
// stale claim; each retry follows a change another request made.
const beginTries = 3

// Begin claims key for the request whose hash is requestHash. It returns
// either a claim (run the request, then Finish) or the stored answer to
// replay. EInvalid for a bad key, or with reason idempotency_key_reused
// when the key came with another request; EConflict with reason
// idempotency_in_progress while the first request runs.
func (s *Service) Begin(ctx context.Context, p ports.Principal, key, requestHash string) (*Claim, *ports.IdempotencyAnswer, error) {
	if err := CheckKey(key); err != nil {
		return nil, nil, err
	}
	for range beginTries {
		now := s.d.Clock.Now()
		rec := ports.IdempotencyRecord{
			ID: s.d.IDs.NewID(), Key: key, RequestHash: requestHash, CreatedAt: now, ExpiresAt: now.Add(s.cfg.TTL),
		}
		got, err := s.d.Store.BeginIdempotency(ctx, p.SubscriptionID, rec)
		switch {
		case err == nil:
			return &Claim{s: s, sub: p.SubscriptionID, key: key, id: rec.ID}, nil, nil
		case !ports.IsCode(err, ports.EConflict):
			return nil, nil, fmt.Errorf("begin idempotency key: %w", err)
		case got.ID == "":
			continue // released in between: claim it again
		}
		resp, clear, err := s.judge(got, requestHash, now)
		if !clear {
			return nil, resp, err
		}
		if err := s.d.Store.ReleaseIdempotency(ctx, p.SubscriptionID, key, got.ID); err != nil {
			return nil, nil, fmt.Errorf("release idempotency key: %w", err)
		}
	}
	return nil, nil, errInProgress()
}

// judge decides what a request meets when the key is held: the answer to
// replay, an error, or clear=true when the holder is to be removed (its
// key expired, or its request died in progress).
func (s *Service) judge(got ports.IdempotencyRecord, requestHash string, now time.Time) (*ports.IdempotencyAnswer, bool, error) {
	switch {
	case !now.Before(got.ExpiresAt):
		return nil, true, nil
	case got.RequestHash != requestHash:
		return nil, false, ports.ReasonError(ports.EInvalid, "idempotency_key_reused",
			"this Idempotency-Key was used with another request; use a new key for a new request")
	case got.State == ports.IdempotencyDone:
		return &ports.IdempotencyAnswer{Status: got.Status, ContentType: got.ContentType, Body: got.Body}, false, nil
	case now.Sub(got.CreatedAt) >= s.cfg.StaleAfter:
		return nil, true, nil
	}
	return nil, false, errInProgress()
}

func errInProgress() error {
	return ports.ReasonError(ports.EConflict, "idempotency_in_progress",
		"a request with this Idempotency-Key is still being processed; retry shortly")
}

// Key returns the claimed key.
func (c *Claim) Key() string { return c.key }

// ID returns the claim's id, which a ports.IdempotencyClaim names.
func (c *Claim) ID() string { return c.id }

// Finish stores the answer for replay. The answer was given whatever
// happens here, so the work is done even if the request's context has
// ended.
func (c *Claim) Finish(ctx context.Context, resp ports.IdempotencyAnswer) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err := c.s.d.Store.CompleteIdempotency(ctx, c.sub, c.key, c.id, resp.Status, resp.ContentType, resp.Body)
	if ports.IsCode(err, ports.ENotFound) {
		// Taken over as stale meanwhile: the new claim's answer counts.
		c.s.d.Log.Warn("idempotency claim taken over before it finished", "key_id", c.id)
		return nil
	}
	if err != nil {
		return fmt.Errorf("complete idempotency key: %w", err)
	}
	return nil
}

// Abandon releases the key, so that a retry runs the request again.
func (c *Claim) Abandon(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := c.s.d.Store.ReleaseIdempotency(ctx, c.sub, c.key, c.id); err != nil {
		return fmt.Errorf("release idempotency key: %w", err)
	}
	return nil
}

// PurgeOnce deletes the keys that have expired and returns how many went.
// Begin ignores expired keys anyway; the composition root calls this
// periodically only to keep the table small.
func (s *Service) PurgeOnce(ctx context.Context) (int, error) {
	n, err := s.d.Store.PurgeIdempotency(ctx, s.d.Clock.Now())
	if err != nil {
		return 0, fmt.Errorf("purge idempotency keys: %w", err)
	}
	return n, nil
}
