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
func (u cpuUse) sub(earlier cpuUse) cpuUse { return u.each(earlier, -1) }

// add is the CPU time of u and v together, as of two runs of one cell.
func (u cpuUse) add(v cpuUse) cpuUse { return u.each(v, 1) }

// each is u plus sign times v, party by party; a party unreadable in either stays so.
func (u cpuUse) each(v cpuUse, sign time.Duration) cpuUse {
	f := func(a, b time.Duration) time.Duration {
		if a < 0 || b < 0 {
			return -1
		}
		return a + sign*b
	}
	return cpuUse{gen: f(u.gen, v.gen), server: f(u.server, v.server), pg: f(u.pg, v.pg)}
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
		if t, _, _, err := procCPU(serverPID); err == nil {
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

// procCPU is the user + system time of process pid, that of its children it has waited
// for (which is where an exited backend's time goes), and its parent's pid.
func procCPU(pid int) (self, reaped time.Duration, ppid int, err error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, 0, err
	}
	// The command name, field 2, is in parentheses and may hold spaces: fields count from
	// after its closing one. Then: 3 state, 4 ppid, …, 14 utime, 15 stime, 16 cutime,
	// 17 cstime.
	s := string(raw)
	end := strings.LastIndexByte(s, ')')
	if end < 0 {
		return 0, 0, 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(s[end+1:])
	if len(f) < 15 {
		return 0, 0, 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	var n [5]int64
	for i, field := range []string{f[1], f[11], f[12], f[13], f[14]} {
		if n[i], err = strconv.ParseInt(field, 10, 64); err != nil {
			return 0, 0, 0, fmt.Errorf("/proc/%d/stat: unreadable", pid)
		}
	}
	return time.Duration(n[1]+n[2]) * clockTick, time.Duration(n[3]+n[4]) * clockTick, int(n[0]), nil
}

// clusterCPU is the CPU time of the postmaster pid and its children (backends and
// background workers): those alive now, and those that exited, which the postmaster has
// reaped.
func clusterCPU(pid int) time.Duration {
	self, reaped, _, err := procCPU(pid)
	if err != nil {
		return -1
	}
	total := self + reaped
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		child, err := strconv.Atoi(filepath.Base(d))
		if err != nil || child == pid {
			continue
		}
		if t, _, ppid, err := procCPU(child); err == nil && ppid == pid {
			total += t
		}
	}
	return total
}
