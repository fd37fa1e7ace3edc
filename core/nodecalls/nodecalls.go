// Package nodecalls sends the calls that need an instance's live WhatsApp
// connection to the node holding it (SPEC §14), so that any request can
// land on any node: a registry of named calls, each a typed function that
// runs here when this node holds the instance and otherwise crosses to the
// holder through ports.NodeCalls (Redis), its request and answer in JSON.
//
// Forwarding a new call takes one line where the function is wired:
//
//	createGroup := nodecalls.Route(r, "groups.create", wa.CreateGroup)
//
// for any func(ctx, ports.InstanceID, Req) (Resp, error) whose Req and
// Resp survive encoding/json (RouteErr for one that returns only an
// error). Calls then go through createGroup instead of wa.CreateGroup.
// Names are unique; every node must register the same ones.
package nodecalls

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/wagate/wagate/ports"
)

// Owner tells whether this node holds an instance (core/ownership).
type Owner interface {
	Owns(id ports.InstanceID) bool
}

// handler runs a call on this node, from its encoded request.
type handler func(ctx context.Context, id ports.InstanceID, req []byte) ([]byte, error)

// Router is the registry of calls and the ports.CallHandler of this node.
// A nil *Router, or one without a transport or owner, runs every call
// here: one node holds every instance.
type Router struct {
	owner     Owner
	transport ports.NodeCalls

	mu       sync.RWMutex
	handlers map[string]handler
}

var _ ports.CallHandler = (*Router)(nil)

// New returns a router; transport nil (no Redis: a single node) runs every
// call on this node. Call Serve once the calls are registered.
func New(owner Owner, transport ports.NodeCalls) *Router {
	return &Router{owner: owner, transport: transport, handlers: map[string]handler{}}
}

// Serve starts taking up the other nodes' calls of the instances this node
// holds.
func (r *Router) Serve() error {
	if r == nil || r.transport == nil {
		return nil
	}
	return r.transport.Serve(r)
}

// Owns is the owner's answer; true without an owner.
func (r *Router) Owns(id ports.InstanceID) bool {
	return r == nil || r.owner == nil || r.owner.Owns(id)
}

// local reports whether calls of id run here.
func (r *Router) local(id ports.InstanceID) bool {
	return r == nil || r.transport == nil || r.Owns(id)
}

// HandleCall runs a call another node forwarded. EInvalid for a name
// this node does not know (a node of another version).
func (r *Router) HandleCall(ctx context.Context, id ports.InstanceID, name string, req []byte) ([]byte, error) {
	r.mu.RLock()
	h, ok := r.handlers[name]
	r.mu.RUnlock()
	if !ok {
		return nil, ports.Errorf(ports.EInvalid, "this node does not know the call %q", name)
	}
	return h(ctx, id, req)
}

func (r *Router) register(name string, h handler) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.handlers[name]; dup {
		panic(fmt.Sprintf("nodecalls: call %q registered twice", name))
	}
	r.handlers[name] = h
}

// Route registers fn as the call name and returns the function to call
// instead of fn: it runs fn here when this node holds the instance, and
// otherwise on the node that does. Errors are those of fn, and those of
// ports.NodeCalls.Call (EUnavailable) when the call could not cross.
func Route[Req, Resp any](r *Router, name string, fn func(context.Context, ports.InstanceID, Req) (Resp, error)) func(context.Context, ports.InstanceID, Req) (Resp, error) {
	r.register(name, func(ctx context.Context, id ports.InstanceID, raw []byte) ([]byte, error) {
		var req Req
		if err := json.Unmarshal(raw, &req); err != nil {
			return nil, ports.Errorf(ports.EInvalid, "decode call %s: %v", name, err)
		}
		resp, err := fn(ctx, id, req)
		if err != nil {
			return nil, err
		}
		return json.Marshal(resp)
	})
	return func(ctx context.Context, id ports.InstanceID, req Req) (Resp, error) {
		if r.local(id) {
			return fn(ctx, id, req)
		}
		var resp Resp
		raw, err := json.Marshal(req)
		if err != nil {
			return resp, fmt.Errorf("encode call %s: %w", name, err)
		}
		out, err := r.transport.Call(ctx, id, name, raw)
		if err != nil {
			return resp, err
		}
		if err := json.Unmarshal(out, &resp); err != nil {
			return resp, fmt.Errorf("decode the answer to %s: %w", name, err)
		}
		return resp, nil
	}
}

// RouteErr is Route for a call that answers only an error.
func RouteErr[Req any](r *Router, name string, fn func(context.Context, ports.InstanceID, Req) error) func(context.Context, ports.InstanceID, Req) error {
	call := Route(r, name, func(ctx context.Context, id ports.InstanceID, req Req) (struct{}, error) {
		return struct{}{}, fn(ctx, id, req)
	})
	return func(ctx context.Context, id ports.InstanceID, req Req) error {
		_, err := call(ctx, id, req)
		return err
	}
}

// OrHere makes a routed call run on this node when no node holds the
// instance (ports.IsNotHeld), for calls that work without a live
// connection too: a disconnect (nothing to close) or removing a device by
// its stored credentials.
func OrHere[Req, Resp any](routed, here func(context.Context, ports.InstanceID, Req) (Resp, error)) func(context.Context, ports.InstanceID, Req) (Resp, error) {
	return func(ctx context.Context, id ports.InstanceID, req Req) (Resp, error) {
		resp, err := routed(ctx, id, req)
		if ports.IsNotHeld(err) {
			return here(ctx, id, req)
		}
		return resp, err
	}
}
