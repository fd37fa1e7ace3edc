//go:build !linux

package testserver

import "os/exec"

// dieWithParent does nothing where the kernel offers no parent-death
// signal: a server may outlive a test process that dies abruptly.
func dieWithParent(*exec.Cmd) {}
