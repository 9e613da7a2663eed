//go:build unix

package freezer_test

import (
	"os/exec"
	"syscall"
)

// killGroupOnCancel starts cmd in its own process group and makes its
// context's end kill the whole group (the process and its children) by
// the group's id, which is the process's pid.
func killGroupOnCancel(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}
