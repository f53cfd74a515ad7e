package server

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// ReturnIdleMemory gives memory back to the system when the process has gone quiet after
// a burst: the garbage collector runs only as memory is allocated, so a server that stops
// receiving requests would keep a burst's garbage, and the pages under it, until Go's
// two-minute forced collection. Every interval in which no collection ran, it collects and
// returns the free pages (debug.FreeOSMemory), which on a small idle heap takes well under
// a millisecond. It returns when ctx ends.
func ReturnIdleMemory(ctx context.Context, interval time.Duration) {
	sample := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	cycles := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	last := cycles()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if now := cycles(); now != last {
			last = now
			continue
		}
		debug.FreeOSMemory()
		last = cycles()
	}
}
