package testserver

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Proxy is a TCP relay between a server and the simulator that can slow
// down or hold what the simulator sends back. Slowed, a message the server
// sends reaches its recipient long before WhatsApp's ack, which the send
// waits for, reaches the server; held from then on, the ack never does. A
// kill then falls between the send and its record: the case where only
// the WhatsApp id chosen before the send keeps a resend from being a
// second message.
type Proxy struct {
	ln     net.Listener
	target string
	lag    atomic.Int64 // nanoseconds each chunk from the simulator waits

	mu    sync.Mutex
	held  bool
	cond  *sync.Cond
	conns map[net.Conn]struct{}
}

// StartProxy relays to target from a free loopback port until the test
// ends.
func StartProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy: %v", err)
	}
	p := &Proxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.cond = sync.NewCond(&p.mu)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

// Addr is where the server should dial the simulator.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Hold stops (true) or resumes (false) the simulator-to-server direction
// of every connection, present and future.
func (p *Proxy) Hold(held bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.held = held
	p.cond.Broadcast()
}

func (p *Proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.relay(c)
	}
}

func (p *Proxy) relay(client net.Conn) {
	upstream, err := net.Dial("tcp", p.target)
	if err != nil {
		client.Close()
		return
	}
	if !p.track(client, upstream) {
		return
	}
	defer p.untrack(client, upstream)
	done := make(chan struct{}, 2)
	go func() {
		_, _ = io.Copy(upstream, client)
		done <- struct{}{}
	}()
	go func() {
		p.copyBack(client, upstream)
		done <- struct{}{}
	}()
	<-done // either side gone: close both
}

// Slow makes every chunk the simulator sends from now on wait d before it
// is passed on, in order; 0 passes them on at once.
func (p *Proxy) Slow(d time.Duration) { p.lag.Store(int64(d)) }

// chunk is bytes from the simulator and when they may go on.
type chunk struct {
	data []byte
	due  time.Time
}

// copyBack copies the simulator's bytes to the server, each chunk after
// its lag and only while not held.
func (p *Proxy) copyBack(dst, src net.Conn) {
	chunks := make(chan chunk, 1024)
	quit := make(chan struct{})
	defer close(quit)
	go func() {
		defer close(chunks)
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				select {
				case chunks <- chunk{data: buf[:n], due: time.Now().Add(time.Duration(p.lag.Load()))}:
				case <-quit:
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range chunks {
		time.Sleep(time.Until(c.due))
		if !p.waitReleased() {
			return
		}
		if _, err := dst.Write(c.data); err != nil {
			return
		}
	}
}

// waitReleased blocks while the proxy holds; false once it is closed.
func (p *Proxy) waitReleased() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.held && p.conns != nil {
		p.cond.Wait()
	}
	return p.conns != nil
}

func (p *Proxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns == nil {
		for _, c := range cs {
			c.Close()
		}
		return false
	}
	for _, c := range cs {
		p.conns[c] = struct{}{}
	}
	return true
}

func (p *Proxy) untrack(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		c.Close()
		delete(p.conns, c)
	}
}

func (p *Proxy) close() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
	p.conns = nil
	p.cond.Broadcast()
}
