package bench

import (
	"bytes"
	"fmt"
	"io"
	"math"

	"github.com/relmcrm/relm/tools"
)

// report is the body of the report as the measurements write it, and the values the
// targets table compares with their targets.
type report struct {
	body bytes.Buffer

	restVsRaw    map[string]ratioAt // operation → lowest REST/raw throughput ratio
	ceilings     map[string]ratioAt // operation → lowest ceiling of × raw on this machine
	mcpVsREST    ratioAt            // highest MCP mean latency / REST's
	mcpVsRESTp50 ratioAt            // highest MCP p50 / REST p50, shown beside it
	rssIdleMiB   float64
	rssPeakMiB   float64
	batchVsCopy  float64
	searchP95    float64 // ms, the slowest search query's p95
	// the default tool set: what tools/list gives a client that names no toolsets
	defaultTools, defaultTokens int
	measured                    map[string]bool
}

// ratioAt is a ratio and where it was found.
type ratioAt struct {
	value float64
	where string
}

func (r *report) printf(format string, args ...any) { fmt.Fprintf(&r.body, format, args...) }

func (r *report) mark(what string) {
	if r.measured == nil {
		r.measured = map[string]bool{}
	}
	r.measured[what] = true
}

// ceilingSpread is how far a ceiling moves between runs (its three inputs each move about
// ±10%): a target is called out of reach only when its ceiling is under it by more.
const ceilingSpread = 0.1

// target is one line of the performance contract.
type target struct {
	name, goal string
	measured   bool
	value      string
	pass       bool
	outOfReach bool // the machine's ceiling is clearly under the goal: no server could pass here
}

// targets compares what was measured with the contract.
func (r *report) targets(contacts int) []target {
	atLeast := func(name, key string, goal float64) target {
		v, ok := r.restVsRaw[key]
		t := target{name: name, goal: fmt.Sprintf("≥ %.1f× raw", goal), measured: ok,
			value: fmt.Sprintf("%.2f× (lowest, %s)", v.value, v.where), pass: v.value >= goal}
		if c, ok := r.ceilings[key]; ok {
			t.value += fmt.Sprintf("; ceiling %.2f× (lowest, %s)", c.value, c.where)
			t.outOfReach = c.value < goal*(1-ceilingSpread)
		}
		return t
	}
	return []target{
		atLeast("REST point read (get contact) throughput", opGet, 0.5),
		atLeast("REST list with filter (by email) throughput", opList, 0.5),
		atLeast("REST create contact throughput", opCreate, 0.5),
		{name: "MCP latency against REST (mean per request, same operation and concurrency)", goal: "≤ 1.3× REST", measured: r.measured["http"],
			value: fmt.Sprintf("%.2f× (highest, %s); p50: %.2f× (highest, %s)", r.mcpVsREST.value, r.mcpVsREST.where, r.mcpVsRESTp50.value, r.mcpVsRESTp50.where),
			pass:  r.mcpVsREST.value <= 1.3},
		{name: "server RSS, idle", goal: "< 100 MiB", measured: r.measured["http"],
			value: fmt.Sprintf("%.0f MiB", r.rssIdleMiB), pass: r.rssIdleMiB < 100},
		{name: "server RSS, peak under load (VmHWM)", goal: "< 300 MiB", measured: r.measured["http"],
			value: fmt.Sprintf("%.0f MiB", r.rssPeakMiB), pass: r.rssPeakMiB < 300},
		{name: "batch import against raw COPY (rows/s)", goal: "≥ 0.5×", measured: r.measured["import"],
			value: fmt.Sprintf("%.2f×", r.batchVsCopy), pass: r.batchVsCopy >= 0.5},
		{name: "MCP default tool set (tools/list without ?toolsets=)", goal: fmt.Sprintf("≤ %d tools, ≤ %d tokens", tools.DefaultToolsBudget, tools.DefaultTokensBudget),
			measured: r.measured["tools"], value: fmt.Sprintf("%d tools, %d tokens", r.defaultTools, r.defaultTokens),
			pass: r.defaultTools <= tools.DefaultToolsBudget && r.defaultTokens <= tools.DefaultTokensBudget},
		{name: searchTarget(contacts), goal: "< 50 ms",
			measured: r.measured["latency"], value: fmt.Sprintf("%.1f ms (slowest search query)", r.searchP95), pass: r.searchP95 < 50},
	}
}

// searchTarget names the search target, which is set at a million contacts.
func searchTarget(contacts int) string {
	if contacts == 1_000_000 {
		return "search p95 at 1,000,000 contacts"
	}
	return fmt.Sprintf("search p95 at %s contacts (the target is set at 1,000,000)", thousands(contacts))
}

// writeTargets writes the targets table: each target, its measured value, pass or miss.
func (r *report) writeTargets(w io.Writer, contacts int) {
	fmt.Fprintf(w, "## Targets\n\n| target | goal | measured | result |\n| --- | --- | --- | --- |\n")
	for _, t := range r.targets(contacts) {
		value, result := t.value, "miss"
		switch {
		case !t.measured:
			value, result = "—", "not measured"
		case t.pass:
			result = "pass"
		case t.outOfReach:
			result = "miss: out of reach on this machine"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", t.name, t.goal, value, result)
	}
	fmt.Fprintln(w)
}

// thousands formats n with comma separators.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// ratio is a/b, or 0 when b is 0 (never NaN or Inf in the report).
func ratio(a, b float64) float64 {
	if b == 0 || math.IsNaN(a) || math.IsNaN(b) {
		return 0
	}
	return a / b
}
