package redisbus_test

import (
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wagate/wagate/adapters/redisbus"
	"github.com/wagate/wagate/ports"
	"github.com/wagate/wagate/test/testdb"
)

// target records what a node was told to drop.
type target struct {
	drops   chan ports.Revocation
	flushes chan struct{}
}

func newTarget() *target {
	return &target{drops: make(chan ports.Revocation, 16), flushes: make(chan struct{}, 16)}
}

func (t *target) Drop(r ports.Revocation) { t.drops <- r }
func (t *target) Flush()                  { t.flushes <- struct{}{} }

// revocationNode returns one node's revocation bus, listening into tg.
func revocationNode(t *testing.T, url, prefix string, node ports.NodeID, tg *target) (*redisbus.Revocations, *redis.Client) {
	t.Helper()
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	opt.ClientName = string(node) + "-" + prefix // to find its connection in CLIENT LIST
	client := redis.NewClient(opt)
	rv, err := redisbus.NewRevocations(redisbus.RevocationOptions{Redis: client, Prefix: prefix, Node: node})
	if err != nil {
		t.Fatal(err)
	}
	if err := rv.Listen(t.Context(), tg); err != nil {
		t.Fatalf("listen %s: %v", node, err)
	}
	t.Cleanup(func() {
		rv.Close()
		client.Close()
	})
	return rv, client
}

func TestRevocationsReachTheOtherNodes(t *testing.T) {
	url, prefix := testdb.Redis(t)
	ta, tb := newTarget(), newTarget()
	a, _ := revocationNode(t, url, prefix, "node-a", ta)
	revocationNode(t, url, prefix, "node-b", tb)
	want := ports.Revocation{SubscriptionID: "sub-1", UserID: "user-1", TokenFamily: "fam", TokenID: "tok",
		APIKeyID: "key-1", InstanceID: "inst-1"}
	if err := a.PublishRevocation(t.Context(), want); err != nil {
		t.Fatalf("publish: %v", err)
	}
	select {
	case got := <-tb.drops:
		if got != want {
			t.Errorf("node b got %+v, want %+v", got, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("node b got no revocation within 5s")
	}
	// The sender dropped its own entries before publishing.
	select {
	case got := <-ta.drops:
		t.Errorf("node a got its own revocation back: %+v", got)
	case <-time.After(200 * time.Millisecond):
	}
}

func TestRevocationsFlushAfterAReconnect(t *testing.T) {
	url, prefix := testdb.Redis(t)
	tg := newTarget()
	_, client := revocationNode(t, url, prefix, "node-a", tg)
	// Kill the subscriber's connection (only this test's: Redis is
	// shared): go-redis reconnects and subscribes again, and whatever was
	// published in between is lost.
	list, err := client.ClientList(t.Context()).Result()
	if err != nil {
		t.Fatal(err)
	}
	killed := 0
	for _, line := range strings.Split(list, "\n") {
		if !strings.Contains(line, " name=node-a-"+prefix+" ") || !strings.Contains(line, " sub=1 ") {
			continue
		}
		id, _, _ := strings.Cut(strings.TrimPrefix(line, "id="), " ")
		if err := client.Do(t.Context(), "CLIENT", "KILL", "ID", id).Err(); err != nil {
			t.Fatalf("client kill %s: %v", id, err)
		}
		killed++
	}
	if killed != 1 {
		t.Fatalf("got %d subscriber connections to kill, want 1:\n%s", killed, list)
	}
	select {
	case <-tg.flushes:
	case <-time.After(10 * time.Second):
		t.Fatal("no flush within 10s of a lost connection")
	}
}

func TestRevocationsNeedRedisAndNode(t *testing.T) {
	if _, err := redisbus.NewRevocations(redisbus.RevocationOptions{Node: "a"}); err == nil {
		t.Error("got a bus without Redis, want an error")
	}
}
