package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TestClusterCPU: a process tree's CPU time counts the children it has reaped (where an
// exited backend's time goes); a process that is not there reads as unknown.
func TestClusterCPU(t *testing.T) {
	// A parent that waits for a child counting to 200,000, then sleeps.
	cmd := exec.Command("sh", "-c", `sh -c 'i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done'; sleep 10`)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // so that the sleep goes with it
	if err := cmd.Start(); err != nil {
		t.Skipf("no sh: %v", err)
	}
	defer func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); _ = cmd.Wait() }()
	pid := cmd.Process.Pid
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the counting child did not finish in 20 s")
		}
		if childNamed(pid, "sleep") { // the counting child has exited
			break
		}
	}
	self, reaped, _, err := procCPU(pid)
	if err != nil || reaped < 20*time.Millisecond {
		t.Fatalf("the parent reaped %v of its child's time (itself %v, %v)", reaped, self, err)
	}
	if got := clusterCPU(pid); got < self+reaped {
		t.Errorf("the tree used %v, less than the parent's %v and what it reaped, %v", got, self, reaped)
	}
	u := readCPU(0, 0)
	if u.gen <= 0 || u.server != -1 || u.pg != -1 {
		t.Errorf("readCPU(0, 0) = %+v, want this process's time and the others unknown", u)
	}
	if clusterCPU(1<<30) != -1 {
		t.Error("a missing process reads as known")
	}
	if d := (cpuUse{gen: 5, server: -1, pg: 3}).sub(cpuUse{gen: 2, server: 1, pg: 1}); d != (cpuUse{gen: 3, server: -1, pg: 2}) {
		t.Errorf("sub: %+v", d)
	}
}

// childNamed reports whether pid has a child running the command name.
func childNamed(pid int, name string) bool {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		child, _ := strconv.Atoi(filepath.Base(d))
		if _, _, ppid, err := procCPU(child); err == nil && ppid == pid {
			if comm, _ := os.ReadFile(d + "/comm"); string(comm) == name+"\n" {
				return true
			}
		}
	}
	return false
}
