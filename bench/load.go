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
	runs     []runRate       // each run's throughput and mean latency, when merged from several
}

// runRate is what one run of a cell measured: its throughput and its mean latency.
type runRate struct {
	throughput float64
	mean       time.Duration
}

// merge is the results of two runs of the same cell as one.
func merge(a, b result) result {
	times := slices.Concat(a.times, b.times)
	slices.Sort(times)
	return result{requests: a.requests + b.requests, elapsed: a.elapsed + b.elapsed, p50: pct(times, 50), p99: pct(times, 99),
		cpu: a.cpu.add(b.cpu), times: times, runs: slices.Concat(a.runs, b.runs)}
}

// cpuPerRequest is what the measured time used of party's CPU per request, in µs, or "?"
// when it could not be read.
func (r result) cpuPerRequest(party time.Duration) string {
	if party < 0 || r.requests == 0 {
		return "?"
	}
	return fmt.Sprintf("%.0f", float64(party.Microseconds())/float64(r.requests))
}

// mean is the mean latency of the requests (0 when there were none): the median of its
// runs' means when the result was merged from several runs. In a closed loop it is the
// connections divided by the throughput, which is how the 1.7× for MCP against REST
// was measured.
func (r result) mean() time.Duration {
	if len(r.runs) > 1 {
		return time.Duration(median(r.runs, func(x runRate) float64 { return float64(x.mean) }))
	}
	return meanOf(r.times)
}

// throughput is requests per second: the median of its runs' when the result was merged
// from several runs, so that one run that background work (a checkpoint, autovacuum) fell
// on does not decide the cell.
func (r result) throughput() float64 {
	if len(r.runs) > 1 {
		return median(r.runs, func(x runRate) float64 { return x.throughput })
	}
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.requests) / r.elapsed.Seconds()
}

func meanOf(times []time.Duration) time.Duration {
	if len(times) == 0 {
		return 0
	}
	var sum time.Duration
	for _, t := range times {
		sum += t
	}
	return sum / time.Duration(len(times))
}

// median is the median of f over xs (the mean of the middle two of an even count).
func median[T any](xs []T, f func(T) float64) float64 {
	v := make([]float64, len(xs))
	for i, x := range xs {
		v[i] = f(x)
	}
	slices.Sort(v)
	n := len(v)
	switch {
	case n == 0:
		return 0
	case n%2 == 1:
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// warmup is how long each cell runs unmeasured first: a fifth of the measured time, at most
// a second.
func warmup(d time.Duration) time.Duration { return min(d/5, time.Second) }

// closedLoop runs conns workers, each sending its next request as soon as the last one is
// answered: first for warm, unmeasured, then for d, reading the CPU time used
// (probe) before and after. The first failing request stops the run and is its error.
func closedLoop(ctx context.Context, conns int, warm, d time.Duration, seed uint64, fn call, probe func() cpuUse) (result, error) {
	if _, err := loop(ctx, conns, warm, seed, fn); err != nil {
		return result{}, err
	}
	cpu0, start := probe(), time.Now()
	times, err := loop(ctx, conns, d, seed+1, fn)
	if err != nil {
		return result{}, err
	}
	elapsed, cpu := time.Since(start), probe().sub(cpu0)
	slices.Sort(times)
	r := result{requests: len(times), elapsed: elapsed, p50: pct(times, 50), p99: pct(times, 99), cpu: cpu, times: times}
	r.runs = []runRate{{throughput: r.throughput(), mean: meanOf(times)}}
	return r, nil
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
