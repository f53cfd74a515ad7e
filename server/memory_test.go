package server

import (
	"bufio"
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rssMiB is this process's resident memory.
func rssMiB(t *testing.T) float64 {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skip("no /proc:", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

var sink [][]byte

// TestReturnIdleMemory: after a burst leaves garbage and the process goes quiet, the
// memory goes back to the system without waiting for Go's two-minute forced collection.
func TestReturnIdleMemory(t *testing.T) {
	base := rssMiB(t)
	for range 256 {
		b := make([]byte, 1<<20)
		for i := range b {
			b[i] = 1
		}
		sink = append(sink, b)
	}
	sink = nil // garbage now, but nothing allocates to trigger a collection
	peak := rssMiB(t)
	if peak-base < 200 {
		t.Skipf("the burst did not show in RSS (%.0f → %.0f MiB)", base, peak)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go ReturnIdleMemory(ctx, 50*time.Millisecond)
	deadline := time.Now().Add(5 * time.Second)
	for rssMiB(t) > base+64 {
		if time.Now().After(deadline) {
			t.Fatalf("RSS %.0f MiB 5 s after a burst (%.0f before, %.0f at the peak)", rssMiB(t), base, peak)
		}
		time.Sleep(20 * time.Millisecond)
	}
	runtime.KeepAlive(sink)
}
