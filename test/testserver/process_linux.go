package testserver

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the kernel kill the server when the test process
// dies (a panic, a timeout, a Ctrl-C), so that no server outlives its
// test holding a port and a database. (Strictly, when the OS thread that
// started it exits: Go ends a thread only when a goroutine locked to it
// exits locked, which is rare in a test process.)
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
