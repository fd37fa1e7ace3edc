package nodecalls_test

import (
	"context"
	"errors"
	"testing"

	"github.com/wagate/wagate/core/nodecalls"
	"github.com/wagate/wagate/ports"
)

// owns is an Owner of a fixed set of instances.
type owns map[ports.InstanceID]bool

func (o owns) Owns(id ports.InstanceID) bool { return o[id] }

// wire is a ports.NodeCalls that hands every call to the handler of the
// node that owns the instance, in process, as the Redis transport does
// across processes.
type wire struct {
	nodes []ports.CallHandler
	calls int
}

func (w *wire) Serve(h ports.CallHandler) error {
	w.nodes = append(w.nodes, h)
	return nil
}

func (w *wire) Call(ctx context.Context, id ports.InstanceID, name string, req []byte) ([]byte, error) {
	w.calls++
	for _, h := range w.nodes {
		if h.Owns(id) {
			return h.HandleCall(ctx, id, name, req)
		}
	}
	return nil, ports.ErrNotHeld(id)
}

type pair struct{ A, B string }

func TestRouteRunsOnTheHolder(t *testing.T) {
	w := &wire{}
	ran := map[string]int{}
	node := func(name string, held owns) (func(context.Context, ports.InstanceID, pair) (string, error), func(context.Context, ports.InstanceID, struct{}) (struct{}, error)) {
		r := nodecalls.New(held, w)
		join := nodecalls.Route(r, "join", func(_ context.Context, id ports.InstanceID, p pair) (string, error) {
			ran[name]++
			if p.A == "" {
				return "", ports.InvalidFields(ports.FieldError{Field: "a", Message: "required"})
			}
			return name + ":" + string(id) + ":" + p.A + p.B, nil
		})
		here := func(context.Context, ports.InstanceID, struct{}) (struct{}, error) {
			ran[name+"-here"]++
			return struct{}{}, nil
		}
		stop := nodecalls.OrHere(nodecalls.Route(r, "stop", here), here)
		if err := r.Serve(); err != nil {
			t.Fatal(err)
		}
		return join, stop
	}
	joinA, stopA := node("a", owns{"i1": true})
	joinB, _ := node("b", owns{"i2": true})

	if got, err := joinA(t.Context(), "i1", pair{"x", "y"}); err != nil || got != "a:i1:xy" || w.calls != 0 {
		t.Fatalf("call on the holder: got %q, %v after %d crossings; want a:i1:xy run here", got, err, w.calls)
	}
	if got, err := joinB(t.Context(), "i1", pair{"x", "y"}); err != nil || got != "a:i1:xy" || w.calls != 1 {
		t.Fatalf("call on another node: got %q, %v after %d crossings; want a:i1:xy from the holder", got, err, w.calls)
	}
	_, err := joinB(t.Context(), "i1", pair{})
	if pe := ports.AsError(err); pe == nil || pe.Code != ports.EInvalid || len(pe.Fields) != 1 {
		t.Fatalf("holder's error: got %v, want its EInvalid", err)
	}
	if _, err := joinA(t.Context(), "nobody", pair{"x", "y"}); !ports.IsNotHeld(err) || !ports.IsCode(err, ports.EUnavailable) {
		t.Fatalf("instance nobody holds: got %v, want not held (unavailable)", err)
	}
	if _, err := stopA(t.Context(), "nobody", struct{}{}); err != nil || ran["a-here"] != 1 {
		t.Fatalf("OrHere with nobody holding: got %v, ran here %d times; want it run here once", err, ran["a-here"])
	}
	if _, err := stopA(t.Context(), "i2", struct{}{}); err != nil || ran["b-here"] != 1 || ran["a-here"] != 1 {
		t.Fatalf("OrHere with a holder: got %v, ran %v; want it run on b", err, ran)
	}
}

func TestRouterWithoutTransportRunsHere(t *testing.T) {
	for name, r := range map[string]*nodecalls.Router{"nil router": nil, "no transport": nodecalls.New(owns{}, nil)} {
		call := nodecalls.RouteErr(r, "x", func(context.Context, ports.InstanceID, int) error { return errors.New("ran") })
		if err := call(t.Context(), "i", 1); err == nil || err.Error() != "ran" {
			t.Errorf("%s: got %v, want the call run here", name, err)
		}
		if err := r.Serve(); err != nil {
			t.Errorf("%s: serve: %v", name, err)
		}
	}
}

func TestUnknownAndDuplicateCalls(t *testing.T) {
	r := nodecalls.New(owns{"i": true}, &wire{})
	if _, err := r.HandleCall(t.Context(), "i", "missing", nil); !ports.IsCode(err, ports.EInvalid) {
		t.Errorf("unknown call: got %v, want EInvalid", err)
	}
	nodecalls.RouteErr(r, "once", func(context.Context, ports.InstanceID, int) error { return nil })
	if _, err := r.HandleCall(t.Context(), "i", "once", []byte("not json")); !ports.IsCode(err, ports.EInvalid) {
		t.Errorf("undecodable request: got %v, want EInvalid", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("a name registered twice: got no panic, want one")
		}
	}()
	nodecalls.RouteErr(r, "once", func(context.Context, ports.InstanceID, int) error { return nil })
}
