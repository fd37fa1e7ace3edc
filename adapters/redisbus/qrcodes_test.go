package redisbus_test

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wagate/wagate/adapters/redisbus"
	"github.com/wagate/wagate/ports"
	"github.com/wagate/wagate/test/testdb"
)

func TestQRCodesAreSharedAndExpire(t *testing.T) {
	url, prefix := testdb.Redis(t)
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	now := time.Now().UTC().Truncate(time.Microsecond)
	clock := ports.ClockFunc(func() time.Time { return now })
	// Two nodes' stores on one Redis.
	a, b := redisbus.NewQRCodes(rdb, prefix, clock), redisbus.NewQRCodes(rdb, prefix, clock)
	ctx := t.Context()

	if _, ok, err := b.GetQR(ctx, "inst-1"); err != nil || ok {
		t.Fatalf("get before put: got ok=%v err=%v, want none", ok, err)
	}
	want := ports.WAQRCode{Code: "2@abc,def", Attempt: 2, ExpiresAt: now.Add(500 * time.Millisecond)}
	if err := a.PutQR(ctx, "inst-1", want); err != nil {
		t.Fatalf("put: %v", err)
	}
	got, ok, err := b.GetQR(ctx, "inst-1")
	if err != nil || !ok || got.Code != want.Code || got.Attempt != want.Attempt || !got.ExpiresAt.Equal(want.ExpiresAt) {
		t.Fatalf("get on the other node: got %+v ok=%v err=%v, want %+v", got, ok, err, want)
	}
	if _, ok, _ := b.GetQR(ctx, "inst-2"); ok {
		t.Fatal("another instance's code: got one, want none")
	}
	if err := b.DeleteQR(ctx, "inst-1"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, ok, _ := a.GetQR(ctx, "inst-1"); ok {
		t.Fatal("after delete: got a code, want none")
	}
	if err := b.DeleteQR(ctx, "inst-1"); err != nil {
		t.Fatalf("delete again: got %v, want nil", err)
	}
	// A code is kept until it expires, not longer.
	if err := a.PutQR(ctx, "inst-1", want); err != nil {
		t.Fatal(err)
	}
	time.Sleep(700 * time.Millisecond)
	if _, ok, _ := b.GetQR(ctx, "inst-1"); ok {
		t.Fatal("after expiry: got a code, want none")
	}
	// An expired code is not kept at all.
	if err := a.PutQR(ctx, "inst-1", ports.WAQRCode{Code: "old", Attempt: 1, ExpiresAt: now.Add(-time.Second)}); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := b.GetQR(ctx, "inst-1"); ok {
		t.Fatal("expired code: got it kept, want none")
	}
}
