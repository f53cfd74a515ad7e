//go:build !linux

package localpg

import (
	"errors"
	"syscall"
)

// setDeathSignal does nothing: only Linux can kill a child when its parent dies.
func setDeathSignal(attr *syscall.SysProcAttr) {}

// isPostgres reports whether pid is a live process; without /proc we cannot tell what it runs.
func isPostgres(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
