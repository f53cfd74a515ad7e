package evals_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/relmcrm/relm/evals"
)

func TestPassK(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		n, c, j int
		want    float64
	}{
		{4, 3, 1, 0.75}, {4, 3, 2, 0.5}, {4, 3, 3, 0.25}, {4, 3, 4, 0},
		{4, 4, 4, 1}, {4, 0, 1, 0}, {1, 1, 1, 1}, {1, 0, 1, 0},
		{5, 2, 0, 1},               // no runs need to pass
		{10, 7, 3, 35.0 / 120.0},   // C(7,3) / C(10,3)
		{3, 3, 4, 0}, {2, 1, 3, 0}, // more runs asked for than made
	} {
		if got := evals.PassK(c.n, c.c, c.j); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("PassK(n=%d, c=%d, j=%d) = %v, want %v", c.n, c.c, c.j, got, c.want)
		}
	}
}

// TestSuitePassK averages pass^j over the transcripts that were not skipped.
func TestSuitePassK(t *testing.T) {
	t.Parallel()
	results := []evals.Result{
		{Runs: 4, Passes: 4, Passed: true},
		{Runs: 4, Passes: 3},
		{Runs: 4, Skipped: true},
		{Runs: 4, Passes: 0},
	}
	want := []float64{(1 + 0.75 + 0) / 3, (1 + 0.5) / 3, (1 + 0.25) / 3, 1.0 / 3}
	got := evals.SuitePassK(results)
	if len(got) != len(want) {
		t.Fatalf("SuitePassK = %v, want %v", got, want)
	}
	for j := range want {
		if math.Abs(got[j]-want[j]) > 1e-12 {
			t.Errorf("pass^%d = %v, want %v", j+1, got[j], want[j])
		}
	}
	if got := evals.SuitePassK([]evals.Result{{Runs: 2, Skipped: true}}); got != nil {
		t.Errorf("all skipped: SuitePassK = %v, want nil", got)
	}
}

// TestRunRepeat replays each transcript k times, each run opened afresh, and combines the
// runs: passed only when all passed, the first failing run's failure, skips apart.
func TestRunRepeat(t *testing.T) {
	t.Parallel()
	target := newCoinTarget(map[string][]int{"flaky": {2, 4}, "broken": {1, 2, 3, 4}}, map[string]string{"declined": "needs a team plan"})
	var done []string
	results := (&evals.Runner{Target: target, Repeat: 4}).Run(t.Context(), coinTranscripts(t), func(r evals.Result) {
		done = append(done, r.Name)
	})
	want := []struct {
		name              string
		passed, skipped   bool
		passes, failedRun int
		status            string
	}{
		{"steady", true, false, 4, 0, "PASS"},
		{"flaky", false, false, 2, 2, "FLAKY"},
		{"broken", false, false, 0, 1, "FAIL"},
		{"declined", false, true, 0, 0, "SKIP"},
	}
	for i, w := range want {
		r := results[i]
		if r.Name != w.name || r.Passed != w.passed || r.Skipped != w.skipped || r.Runs != 4 || r.Passes != w.passes || r.FailedRun != w.failedRun || r.Status() != w.status {
			t.Errorf("result %d: %+v, want %+v", i, r, w)
		}
		if failed := w.failedRun > 0; failed != (r.Failure != nil) {
			t.Errorf("%s: failure %+v", r.Name, r.Failure)
		}
		if opened := target.opened(w.name); opened != 4 && !w.skipped {
			t.Errorf("%s: opened %d times, want 4", w.name, opened)
		}
	}
	if r := results[3]; r.SkipReason != "needs a team plan" {
		t.Errorf("skip reason %q", r.SkipReason)
	}
	if slices.Sort(done); !slices.Equal(done, []string{"broken", "declined", "flaky", "steady"}) {
		t.Errorf("done was called for %v, want each transcript once", done)
	}
	totals := evals.Summary(results)
	if totals != (evals.Totals{Passed: 1, Failed: 2, Flaky: 1, Skipped: 1}) {
		t.Errorf("Summary = %+v", totals)
	}
}

// TestRunRepeatParallel runs the runs of one transcript at once: the pool counts runs.
func TestRunRepeatParallel(t *testing.T) {
	t.Parallel()
	target := newCoinTarget(map[string][]int{"flaky": {3}}, nil)
	target.gate = make(chan struct{})
	ts := coinTranscripts(t)[1:2]
	go func() { // opens block until 3 runs of the one transcript are open together
		target.waitOpen(3)
		close(target.gate)
	}()
	results := (&evals.Runner{Target: target, Repeat: 3, Parallel: 3}).Run(t.Context(), ts, nil)
	if r := results[0]; r.Runs != 3 || r.Passes != 2 || r.Passed || r.FailedRun < 1 {
		t.Errorf("result %+v", r)
	}
}

// coinTranscripts are four transcripts of one step each: call coin and expect heads.
func coinTranscripts(t *testing.T) []*evals.Transcript {
	t.Helper()
	var ts []*evals.Transcript
	for _, name := range []string{"steady", "flaky", "broken", "declined"} {
		tr, err := evals.Parse("coin/"+name+".json", fmt.Appendf(nil, `{"name":%q,"description":"d","steps":[
			{"tool":"coin","note":"toss","expect":{"result":{"side":"heads"}}}]}`, name))
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, tr)
	}
	return ts
}

// coinTarget serves, in memory, one tool, coin, that answers {"side": "heads"}, or "tails"
// on the runs of a transcript listed in tails (1-based, in the order Open is called); it
// declines the transcripts listed in skip.
type coinTarget struct {
	tails map[string][]int
	skip  map[string]string
	gate  chan struct{} // if set, Open waits for it to close, or fails after 10s

	mu    sync.Mutex
	opens map[string]int
	cond  *sync.Cond
}

func newCoinTarget(tails map[string][]int, skip map[string]string) *coinTarget {
	c := &coinTarget{tails: tails, skip: skip, opens: map[string]int{}}
	c.cond = sync.NewCond(&c.mu)
	return c
}

type coin struct {
	Side string `json:"side"`
}

func (c *coinTarget) Open(ctx context.Context, t *evals.Transcript) (*mcp.ClientSession, func(), error) {
	if reason, ok := c.skip[t.Name]; ok {
		return nil, nil, fmt.Errorf("sandbox: %w", &evals.SkipError{Reason: reason})
	}
	c.mu.Lock()
	c.opens[t.Name]++
	run := c.opens[t.Name]
	c.cond.Broadcast()
	c.mu.Unlock()
	if c.gate != nil {
		select {
		case <-c.gate:
		case <-time.After(10 * time.Second):
			return nil, nil, errors.New("the runs were not opened together")
		}
	}
	side := "heads"
	if slices.Contains(c.tails[t.Name], run) {
		side = "tails"
	}
	server := mcp.NewServer(&mcp.Implementation{Name: "coin", Version: "1"}, nil)
	mcp.AddTool(server, &mcp.Tool{Name: "coin"}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, coin, error) {
		return nil, coin{Side: side}, nil
	})
	serverEnd, clientEnd := mcp.NewInMemoryTransports()
	ss, err := server.Connect(ctx, serverEnd, nil)
	if err != nil {
		return nil, nil, err
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil).Connect(ctx, clientEnd, nil)
	if err != nil {
		_ = ss.Close()
		return nil, nil, err
	}
	return cs, func() { _ = cs.Close(); _ = ss.Close() }, nil
}

// opened is how many times Open was called for the transcript name, skips aside.
func (c *coinTarget) opened(name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.opens[name]
}

// waitOpen waits until Open has been called n times in all.
func (c *coinTarget) waitOpen(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for total(c.opens) < n {
		c.cond.Wait()
	}
}

func total(m map[string]int) (n int) {
	for _, v := range m {
		n += v
	}
	return n
}
