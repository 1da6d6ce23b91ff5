//go:build unix

package bridge

import (
	"os/exec"
	"syscall"
)

// setProcessGroup makes the child the leader of a new process group, so
// that signals reach what it starts (npx starts node).
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// signalGroup sends SIGKILL (kill) or SIGTERM to the child's process
// group. A group that is gone is no error worth reporting.
func signalGroup(pid int, kill bool) {
	sig := syscall.SIGTERM
	if kill {
		sig = syscall.SIGKILL
	}
	_ = syscall.Kill(-pid, sig)
}
