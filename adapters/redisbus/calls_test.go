package redisbus_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wagate/wagate/adapters/redisbus"
	"github.com/wagate/wagate/core/nodecalls"
	"github.com/wagate/wagate/ports"
	"github.com/wagate/wagate/test/testdb"
)

// holding is an Owner of a fixed set of instances.
type holding map[ports.InstanceID]bool

func (h holding) Owns(id ports.InstanceID) bool { return h[id] }

// callNode is one node's transport and router.
func callNode(t *testing.T, url, prefix string, node ports.NodeID, owns holding) (*redisbus.Calls, *nodecalls.Router, *redis.Client) {
	t.Helper()
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	calls, err := redisbus.NewCalls(t.Context(), redisbus.CallOptions{
		Redis: rdb, Prefix: prefix, Node: node, AckTimeout: 300 * time.Millisecond, Silence: 600 * time.Millisecond, Beat: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		calls.Close()
		rdb.Close()
	})
	return calls, nodecalls.New(owns, calls), rdb
}

func TestCallsReachTheHolder(t *testing.T) {
	url, prefix := testdb.Redis(t)
	_, a, _ := callNode(t, url, prefix, "node-a", holding{})
	_, b, _ := callNode(t, url, prefix, "node-b", holding{"held": true})
	var ranOn atomic.Value
	register := func(r *nodecalls.Router, node string) func(context.Context, ports.InstanceID, []string) ([]ports.NumberCheck, error) {
		return nodecalls.Route(r, "check", func(ctx context.Context, id ports.InstanceID, phones []string) ([]ports.NumberCheck, error) {
			ranOn.Store(node)
			switch phones[0] {
			case "invalid":
				return nil, ports.InvalidFields(ports.FieldError{Field: "phones", Message: "bad"})
			case "slow":
				time.Sleep(time.Second) // beats keep the caller waiting
			case "plain":
				return nil, errors.New("driver failure")
			}
			return []ports.NumberCheck{{PhoneNumber: phones[0], Exists: true, JID: phones[0] + "@s.whatsapp.net"}}, nil
		})
	}
	checkA, checkB := register(a, "node-a"), register(b, "node-b")
	if err := a.Serve(); err != nil {
		t.Fatal(err)
	}
	if err := b.Serve(); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()

	got, err := checkA(ctx, "held", []string{"4915"})
	if err != nil || len(got) != 1 || !got[0].Exists || got[0].JID != "4915@s.whatsapp.net" || ranOn.Load() != "node-b" {
		t.Fatalf("forwarded call: got %+v, %v on %v; want the answer from node-b", got, err, ranOn.Load())
	}
	if _, err := checkB(ctx, "held", []string{"1"}); err != nil || ranOn.Load() != "node-b" {
		t.Fatalf("call on the holder: got %v on %v, want it run there", err, ranOn.Load())
	}
	// The holder's error comes back as it was.
	_, err = checkA(ctx, "held", []string{"invalid"})
	if pe := ports.AsError(err); pe == nil || pe.Code != ports.EInvalid || len(pe.Fields) != 1 || pe.Fields[0].Field != "phones" {
		t.Fatalf("holder's invalid: got %v, want EInvalid with the field", err)
	}
	_, err = checkA(ctx, "held", []string{"plain"})
	if err == nil || ports.AsError(err) != nil || !strings.Contains(err.Error(), "driver failure") {
		t.Fatalf("holder's plain error: got %v, want it back, internal", err)
	}
	// A call longer than the silence limit is kept alive by beats.
	if _, err := checkA(ctx, "held", []string{"slow"}); err != nil {
		t.Fatalf("slow call: got %v, want its answer", err)
	}
	// Nobody holds it: a prompt 503 that says so.
	start := time.Now()
	_, err = checkA(ctx, "nobody", []string{"1"})
	if !ports.IsNotHeld(err) || !ports.IsCode(err, ports.EUnavailable) || ports.AsError(err).RetryAfter <= 0 {
		t.Fatalf("instance nobody holds: got %v, want not held, unavailable with Retry-After", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("instance nobody holds: answered after %v", d)
	}
	// The caller's deadline bounds the wait.
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, err = checkA(short, "held", []string{"slow"})
	if !ports.IsCode(err, ports.EUnavailable) || time.Since(start) > 900*time.Millisecond {
		t.Fatalf("past the caller's deadline: got %v after %v, want unavailable at the deadline", err, time.Since(start))
	}
}

// A holder that acknowledges a call and dies gives a 503, not a hang.
func TestCallsToADeadHolderFail(t *testing.T) {
	url, prefix := testdb.Redis(t)
	calls, _, rdb := callNode(t, url, prefix, "node-a", holding{})
	// The "holder" is this test: it acknowledges the call, then says no
	// more, as a node killed mid-call would.
	ps := rdb.Subscribe(t.Context(), prefix+":calls")
	defer ps.Close()
	if _, err := ps.Receive(t.Context()); err != nil {
		t.Fatal(err)
	}
	go func() {
		m, err := ps.ReceiveMessage(t.Context())
		if err != nil {
			return
		}
		var call struct{ ID, Reply string }
		if json.Unmarshal([]byte(m.Payload), &call) != nil {
			return
		}
		ack, _ := json.Marshal(map[string]string{"id": call.ID, "kind": "ack"})
		rdb.Publish(t.Context(), call.Reply, ack)
	}()
	start := time.Now()
	_, err := calls.Call(t.Context(), "held", "check", []byte(`["1"]`))
	pe := ports.AsError(err)
	if pe == nil || pe.Code != ports.EUnavailable || pe.RetryAfter <= 0 || ports.IsNotHeld(err) {
		t.Fatalf("dead holder: got %v, want unavailable with Retry-After", err)
	}
	if d := time.Since(start); d < 500*time.Millisecond || d > 3*time.Second {
		t.Errorf("dead holder: answered after %v, want about the silence limit", d)
	}
}
