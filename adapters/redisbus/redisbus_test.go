package redisbus_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wagate/wagate/adapters/eventjson"
	"github.com/wagate/wagate/adapters/localbus"
	"github.com/wagate/wagate/adapters/redisbus"
	"github.com/wagate/wagate/ports"
	"github.com/wagate/wagate/test/testdb"
)

// newNode returns one node's bus on the shared Redis prefix.
func newNode(t *testing.T, url, prefix string, node ports.NodeID) *redisbus.Bus {
	t.Helper()
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	client := redis.NewClient(opt)
	local := localbus.New(localbus.Options{})
	b, err := redisbus.New(t.Context(), redisbus.Options{
		Redis: client, Prefix: prefix, Node: node, Local: local,
	})
	if err != nil {
		t.Fatalf("new bus %s: %v", node, err)
	}
	t.Cleanup(func() {
		b.Close()
		local.Close()
		client.Close()
	})
	return b
}

func receive(t *testing.T, ch <-chan ports.Event) ports.Event {
	t.Helper()
	select {
	case e, ok := <-ch:
		if !ok {
			t.Fatal("subscription closed, want an event")
		}
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10s")
	}
	return ports.Event{}
}

func TestEventsReachEveryNodeOnce(t *testing.T) {
	url, prefix := testdb.Redis(t)
	a := newNode(t, url, prefix, "node-a")
	b := newNode(t, url, prefix, "node-b")
	ctx := t.Context()
	onA, err := a.Subscribe(ctx, ports.EventFilter{SubscriptionID: "sub-1"})
	if err != nil {
		t.Fatal(err)
	}
	onB, err := b.Subscribe(ctx, ports.EventFilter{SubscriptionID: "sub-1", Types: []ports.EventType{ports.EventInstanceStatus}})
	if err != nil {
		t.Fatal(err)
	}
	other, err := b.Subscribe(ctx, ports.EventFilter{SubscriptionID: "sub-2"})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	sent := ports.Event{
		ID: "evt_1", Type: ports.EventInstanceStatus, SubscriptionID: "sub-1", InstanceID: "inst-1", At: at,
		Data: json.RawMessage(`{"status":"connected","previousStatus":"connecting","reason":null}`), Position: 42,
	}
	if err := a.Publish(ctx, sent); err != nil {
		t.Fatalf("publish: %v", err)
	}
	// The type filter applies on b: this one must not reach onB.
	if err := a.Publish(ctx, ports.Event{ID: "evt_2", Type: ports.EventWebhookTest, SubscriptionID: "sub-1", InstanceID: "inst-1", At: at}); err != nil {
		t.Fatalf("publish: %v", err)
	}
	want, err := eventjson.Encode(sent)
	if err != nil {
		t.Fatal(err)
	}
	gotB := receive(t, onB)
	wire, err := eventjson.Encode(gotB)
	if err != nil {
		t.Fatalf("encode the event received on b: %v", err)
	}
	if !jsonEqual(t, wire, want) {
		t.Errorf("event on node b:\n got %s\nwant %s", wire, want)
	}
	if gotB.SubscriptionID != "sub-1" || gotB.Position != 42 {
		t.Errorf("subscription and position on node b: got %q and %d, want sub-1 and 42 (a replaying stream orders by it)", gotB.SubscriptionID, gotB.Position)
	}
	// a's own subscriber gets each of a's events exactly once (locally, not
	// a second time back from Redis).
	if e := receive(t, onA); e.ID != "evt_1" {
		t.Errorf("first event on a: got %s, want evt_1", e.ID)
	}
	if e := receive(t, onA); e.ID != "evt_2" {
		t.Errorf("second event on a: got %s, want evt_2", e.ID)
	}
	// A marker from b shows that everything before it has been delivered.
	if err := b.Publish(ctx, ports.Event{ID: "evt_3", Type: ports.EventInstanceStatus, SubscriptionID: "sub-1", InstanceID: "inst-2", At: at,
		Data: json.RawMessage(`{"status":"qr"}`)}); err != nil {
		t.Fatal(err)
	}
	if e := receive(t, onA); e.ID != "evt_3" {
		t.Errorf("event from b on a: got %s, want evt_3", e.ID)
	}
	if e := receive(t, onB); e.ID != "evt_3" {
		t.Errorf("b's own event on b: got %s, want evt_3", e.ID)
	}
	for name, ch := range map[string]<-chan ports.Event{"a": onA, "b": onB, "another subscription": other} {
		select {
		case e := <-ch:
			t.Errorf("extra event on %s: %s", name, e.ID)
		default:
		}
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

func TestPublishWithRedisDownStillDeliversLocally(t *testing.T) {
	url, prefix := testdb.Redis(t)
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	client := redis.NewClient(opt)
	local := localbus.New(localbus.Options{})
	defer local.Close()
	b, err := redisbus.New(t.Context(), redisbus.Options{Redis: client, Prefix: prefix, Node: "node-a", Local: local})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ch, err := b.Subscribe(t.Context(), ports.EventFilter{SubscriptionID: "sub-1"})
	if err != nil {
		t.Fatal(err)
	}
	client.Close() // Redis gone for this node
	err = b.Publish(context.Background(), ports.Event{ID: "evt_1", Type: ports.EventWebhookTest, SubscriptionID: "sub-1", InstanceID: "inst-1", At: time.Now()})
	if !ports.IsCode(err, ports.EUnavailable) {
		t.Errorf("publish with Redis closed: got %v, want unavailable", err)
	}
	if e := receive(t, ch); e.ID != "evt_1" {
		t.Errorf("local event: got %s, want evt_1", e.ID)
	}
	if err := b.Publish(context.Background(), ports.Event{Type: ports.EventWebhookTest}); !ports.IsCode(err, ports.EInvalid) {
		t.Errorf("publish without a subscription: got %v, want invalid", err)
	}
}
