package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// call is one request of an operation on a surface; r is the calling worker's own source
// of randomness.
type call func(ctx context.Context, r *rand.Rand) error

// result is what one closed-loop run measured.
type result struct {
	requests int
	elapsed  time.Duration
	p50, p99 time.Duration
	cpu      cpuUse          // over the measured time
	times    []time.Duration // every request's latency, sorted
}

// merge is the results of two runs of the same cell as one.
func merge(a, b result) result {
	times := slices.Concat(a.times, b.times)
	slices.Sort(times)
	return result{requests: a.requests + b.requests, elapsed: a.elapsed + b.elapsed, p50: pct(times, 50), p99: pct(times, 99),
		cpu: a.cpu.add(b.cpu), times: times}
}

// cpuPerRequest is what the measured time used of party's CPU per request, in µs, or "?"
// when it could not be read.
func (r result) cpuPerRequest(party time.Duration) string {
	if party < 0 || r.requests == 0 {
		return "?"
	}
	return fmt.Sprintf("%.0f", float64(party.Microseconds())/float64(r.requests))
}

// mean is the mean latency of the requests (0 when there were none). In a closed loop it is
// the connections divided by the throughput, which is how the 1.7× for MCP against
// REST was measured.
func (r result) mean() time.Duration {
	if len(r.times) == 0 {
		return 0
	}
	var sum time.Duration
	for _, t := range r.times {
		sum += t
	}
	return sum / time.Duration(len(r.times))
}

func (r result) throughput() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.requests) / r.elapsed.Seconds()
}

// warmup is how long each cell runs unmeasured first: a fifth of the measured time, at most
// a second.
func warmup(d time.Duration) time.Duration { return min(d/5, time.Second) }

// closedLoop runs conns workers, each sending its next request as soon as the last one is
// answered: first for the warm-up, unmeasured, then for d, reading the CPU time used
// (probe) before and after. The first failing request stops the run and is its error.
func closedLoop(ctx context.Context, conns int, d time.Duration, seed uint64, fn call, probe func() cpuUse) (result, error) {
	if _, err := loop(ctx, conns, warmup(d), seed, fn); err != nil {
		return result{}, err
	}
	cpu0, start := probe(), time.Now()
	times, err := loop(ctx, conns, d, seed+1, fn)
	if err != nil {
		return result{}, err
	}
	elapsed, cpu := time.Since(start), probe().sub(cpu0)
	slices.Sort(times)
	return result{requests: len(times), elapsed: elapsed, p50: pct(times, 50), p99: pct(times, 99), cpu: cpu, times: times}, nil
}

// loop runs the workers for d and returns every request's latency.
func loop(ctx context.Context, conns int, d time.Duration, seed uint64, fn call) ([]time.Duration, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	deadline := time.Now().Add(d)
	var (
		mu    sync.Mutex
		all   []time.Duration
		first error
		wg    sync.WaitGroup
	)
	for w := range conns {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(seed, uint64(w)))
			var mine []time.Duration
			for time.Now().Before(deadline) && ctx.Err() == nil {
				start := time.Now()
				if err := fn(ctx, r); err != nil {
					mu.Lock()
					if first == nil && ctx.Err() == nil {
						first = err
					}
					mu.Unlock()
					cancel()
					return
				}
				mine = append(mine, time.Since(start))
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	if first != nil {
		return nil, first
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("interrupted: %w", err)
	}
	return all, nil
}
