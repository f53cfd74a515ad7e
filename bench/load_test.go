package bench

import (
	"testing"
	"time"
)

// millis is durations of ns milliseconds.
func millis(ns ...int) []time.Duration {
	out := make([]time.Duration, len(ns))
	for i, n := range ns {
		out[i] = time.Duration(n) * time.Millisecond
	}
	return out
}

// A cell merged from several runs reads the median run, so one run that background work
// fell on does not move it; latencies and CPU stay over every request.
func TestMergedRunsReadTheMedian(t *testing.T) {
	run := func(n int, lat time.Duration) result {
		times := make([]time.Duration, n)
		for i := range times {
			times[i] = lat
		}
		r := result{requests: n, elapsed: time.Second, times: times, p50: lat, p99: lat}
		r.runs = []runRate{{throughput: r.throughput(), mean: meanOf(times)}}
		return r
	}
	one := run(1000, time.Millisecond)
	if got := one.throughput(); got != 1000 {
		t.Errorf("one run's throughput = %v, want 1000", got)
	}
	m := merge(merge(merge(run(1000, time.Millisecond), run(1100, time.Millisecond)), run(200, 10*time.Millisecond)), run(900, time.Millisecond))
	if got := m.throughput(); got != 950 { // 200, 900, 1000, 1100: the middle two
		t.Errorf("merged throughput = %v, want 950", got)
	}
	if got := m.mean(); got != time.Millisecond {
		t.Errorf("merged mean = %v, want 1ms", got)
	}
	if m.requests != 3200 || len(m.times) != 3200 || m.p99 != 10*time.Millisecond {
		t.Errorf("merged: %d requests, %d latencies, p99 %v; want 3200, 3200, 10ms", m.requests, len(m.times), m.p99)
	}
	three := merge(merge(run(300, time.Millisecond), run(100, time.Millisecond)), run(200, time.Millisecond))
	if got := three.throughput(); got != 200 {
		t.Errorf("median of three = %v, want 200", got)
	}
}
