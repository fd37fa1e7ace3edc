package coretest

import "github.com/wagate/wagate/ports"

// GatedHasher is a Hasher whose Verify waits at a gate, so that a test can
// hold parallel logins in flight together at the password check — the
// moment when a limit checked before the attempts are counted would let
// every one of them through.
type GatedHasher struct {
	*Hasher
	entered chan struct{}
	gate    chan struct{}
}

// NewGatedHasher returns a closed-gate hasher for up to n parallel calls.
func NewGatedHasher(n int) *GatedHasher {
	return &GatedHasher{Hasher: &Hasher{}, entered: make(chan struct{}, n), gate: make(chan struct{})}
}

// Verify waits for the gate, then verifies like Hasher.
func (h *GatedHasher) Verify(hash, password string) (bool, error) {
	h.entered <- struct{}{}
	<-h.gate
	return h.Hasher.Verify(hash, password)
}

// RunAtGate makes n calls at once and opens the gate when each of them is
// either waiting at it or has returned without reaching it. It returns the
// calls' errors in the order they finished.
func (h *GatedHasher) RunAtGate(n int, call func() error) []error {
	results := make(chan error, n)
	for range n {
		go func() { results <- call() }()
	}
	var errs []error
	for waiting := 0; waiting+len(errs) < n; {
		select {
		case <-h.entered:
			waiting++
		case err := <-results:
			errs = append(errs, err)
		}
	}
	close(h.gate)
	for len(errs) < n {
		errs = append(errs, <-results)
	}
	return errs
}

// Reasons counts errs by their ports.Error reason: "" for nil, the text
// of any other error.
func Reasons(errs []error) map[string]int {
	counts := map[string]int{}
	for _, err := range errs {
		switch e := ports.AsError(err); {
		case e != nil:
			counts[e.Reason]++
		case err != nil:
			counts[err.Error()]++
		default:
			counts[""]++
		}
	}
	return counts
}
