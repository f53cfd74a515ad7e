package bench

import (
	"math"
	"strings"
	"testing"
	"time"
)

// at is a result of n requests in one second.
func at(n int) result { return result{requests: n, elapsed: time.Second} }

func TestCeiling(t *testing.T) {
	// raw SQL 1 ms a request; /readyz 0.5 ms, of which the empty statement 0.25 ms: a
	// request over HTTP costs at least 0.25 ms more than raw SQL, so at most 1/1.25 of it.
	if got := ceiling(at(1000), at(2000), at(4000)); math.Abs(got-0.8) > 1e-9 {
		t.Errorf("ceiling = %v, want 0.8", got)
	}
	// An empty statement slower than /readyz (noise) leaves no HTTP cost, not a negative one.
	if got := ceiling(at(1000), at(2000), at(1500)); got != 1 {
		t.Errorf("ceiling with a slower empty statement = %v, want 1", got)
	}
	if got := ceiling(result{}, at(2000), at(4000)); got != 0 {
		t.Errorf("ceiling without raw SQL = %v, want 0", got)
	}
}

func TestTargetOutOfReach(t *testing.T) {
	r := report{
		restVsRaw: map[string]ratioAt{opGet: {0.35, "16 conns"}, opList: {0.3, "16 conns"}, opCreate: {0.55, "1 conns"}},
		ceilings:  map[string]ratioAt{opGet: {0.48, "1 conns"}, opList: {0.42, "1 conns"}, opCreate: {0.4, "64 conns"}},
		measured:  map[string]bool{"http": true},
	}
	var b strings.Builder
	r.writeTargets(&b, 1_000_000)
	got := b.String()
	for _, want := range []string{
		"| REST point read (get contact) throughput | ≥ 0.5× raw | 0.35× (lowest, 16 conns); ceiling 0.48× (lowest, 1 conns) | miss |", // within the spread
		"| REST list with filter (by email) throughput | ≥ 0.5× raw | 0.30× (lowest, 16 conns); ceiling 0.42× (lowest, 1 conns) | miss: out of reach on this machine |",
		"| REST create contact throughput | ≥ 0.5× raw | 0.55× (lowest, 1 conns); ceiling 0.40× (lowest, 64 conns) | pass |",
	} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("targets lack\n%s\nin\n%s", want, got)
		}
	}
}

func TestMCPTargetIsTheMeanLatency(t *testing.T) {
	if got := (result{times: millis(1, 2, 3, 10)}).mean(); got != 4*time.Millisecond {
		t.Errorf("mean = %v, want 4ms", got)
	}
	if got := (result{}).mean(); got != 0 {
		t.Errorf("mean of nothing = %v, want 0", got)
	}
	r := report{
		mcpVsREST:    ratioAt{1.2, "list contacts, 16 conns"},
		mcpVsRESTp50: ratioAt{1.35, "list contacts, 16 conns"},
		measured:     map[string]bool{"http": true},
	}
	var b strings.Builder
	r.writeTargets(&b, 1_000_000)
	want := "| MCP latency against REST (mean per request, same operation and concurrency) | ≤ 1.3× REST | " +
		"1.20× (highest, list contacts, 16 conns); p50: 1.35× (highest, list contacts, 16 conns) | pass |"
	if !strings.Contains(b.String(), want+"\n") {
		t.Errorf("targets lack\n%s\nin\n%s", want, b.String())
	}
	r.mcpVsREST.value = 1.31
	b.Reset()
	r.writeTargets(&b, 1_000_000)
	if !strings.Contains(b.String(), "| MCP latency against REST (mean per request, same operation and concurrency) | ≤ 1.3× REST | 1.31×") ||
		!strings.Contains(b.String(), "16 conns) | miss |") {
		t.Errorf("a mean over 1.3× passed:\n%s", b.String())
	}
}
