package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cpuUse is the CPU time (user + system) the three parties of a measurement have used so
// far: the load generator (this process), the server under test and PostgreSQL (its
// postmaster and every process it started). A party that cannot be read is negative.
type cpuUse struct {
	gen, server, pg time.Duration
}

// sub is the CPU time used between an earlier reading and u.
func (u cpuUse) sub(earlier cpuUse) cpuUse {
	d := func(a, b time.Duration) time.Duration {
		if a < 0 || b < 0 {
			return -1
		}
		return a - b
	}
	return cpuUse{gen: d(u.gen, earlier.gen), server: d(u.server, earlier.server), pg: d(u.pg, earlier.pg)}
}

// readCPU reads what this process, the process serverPID (0: none) and the PostgreSQL
// cluster whose postmaster is pgPID (0: not on this machine) have used.
func readCPU(serverPID, pgPID int) cpuUse {
	u := cpuUse{gen: -1, server: -1, pg: -1}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		u.gen = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if serverPID > 0 {
		if t, _, err := procCPU(serverPID); err == nil {
			u.server = t
		}
	}
	if pgPID > 0 {
		u.pg = clusterCPU(pgPID)
	}
	return u
}

// clockTick is the unit of /proc/PID/stat's times: USER_HZ, 100 on every Linux ABI.
const clockTick = 10 * time.Millisecond

// procCPU is the user + system time of process pid, and its parent's pid.
func procCPU(pid int) (time.Duration, int, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	// The command name, field 2, is in parentheses and may hold spaces: fields count from
	// after its closing one. Then: 3 state, 4 ppid, …, 14 utime, 15 stime.
	s := string(raw)
	end := strings.LastIndexByte(s, ')')
	if end < 0 {
		return 0, 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(s[end+1:])
	if len(f) < 13 {
		return 0, 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	ppid, err1 := strconv.Atoi(f[1])
	utime, err2 := strconv.ParseInt(f[11], 10, 64)
	stime, err3 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return 0, 0, fmt.Errorf("/proc/%d/stat: unreadable", pid)
	}
	return time.Duration(utime+stime) * clockTick, ppid, nil
}

// clusterCPU is the CPU time of the postmaster pid and its children (backends and
// background workers) that are alive now: a backend's time is lost when it exits, so a
// reading must come before the connections it measures close.
func clusterCPU(pid int) time.Duration {
	total, _, err := procCPU(pid)
	if err != nil {
		return -1
	}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		child, err := strconv.Atoi(filepath.Base(d))
		if err != nil || child == pid {
			continue
		}
		if t, ppid, err := procCPU(child); err == nil && ppid == pid {
			total += t
		}
	}
	return total
}
