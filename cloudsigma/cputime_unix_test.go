//go:build unix

package cloudsigma_test

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time (user and system) the process has used, so a
// benchmark can report its cost on a machine other work shares.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
