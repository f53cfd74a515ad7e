package evals

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Target gives each transcript the MCP client session it runs in.
type Target interface {
	// Open connects for t and returns the session and a function that closes it and
	// releases whatever Open set up. It returns a *SkipError to decline a transcript it
	// cannot run; it should then decline every run of that transcript.
	Open(ctx context.Context, t *Transcript) (*mcp.ClientSession, func(), error)
}

// SkipError is what a Target's Open returns (possibly wrapped) for a transcript it cannot
// run, such as one needing a feature its sandbox lacks: the transcript is reported as
// skipped, neither passed nor failed.
type SkipError struct {
	Reason string
}

func (e *SkipError) Error() string { return "skipped: " + e.Reason }

// Result is the outcome of one transcript: of its one run, or of all its runs under
// Runner.Repeat.
type Result struct {
	Name       string        `json:"name"`
	Path       string        `json:"path,omitempty"`
	Passed     bool          `json:"passed"` // every run passed
	Skipped    bool          `json:"skipped"`
	SkipReason string        `json:"skip_reason,omitempty"`
	Runs       int           `json:"runs"`
	Passes     int           `json:"passes"`               // runs that passed
	Calls      int           `json:"calls"`                // calls that met their expectations in one run (FailedRun, if any)
	Duration   time.Duration `json:"-"`                    // all runs' total
	FailedRun  int           `json:"failed_run,omitempty"` // 1-based run that Failure comes from
	Failure    *Failure      `json:"failure,omitempty"`    // the first failing run's first unmet expectation
}

// Failure is the first unmet expectation of a transcript.
type Failure struct {
	Phase    string          `json:"phase"`          // connect, setup, steps or final_state
	Step     int             `json:"step,omitempty"` // 1-based position in its phase
	Tool     string          `json:"tool,omitempty"`
	Note     string          `json:"note,omitempty"`
	Path     string          `json:"path,omitempty"` // JSON Pointer of the mismatch in the result
	Message  string          `json:"message"`
	Expected json.RawMessage `json:"expected,omitempty"`
	Got      json.RawMessage `json:"got,omitempty"`
}

// Runner replays transcripts against a target.
type Runner struct {
	Target   Target
	Parallel int           // runs at once, of the same transcript or others (default 1)
	Repeat   int           // runs of each transcript, each opened afresh (default 1)
	Timeout  time.Duration // per tool call (default 30s)
	// Trace, if set, is told every call made and what came back (body is the result's
	// JSON; nil after a protocol error).
	Trace func(t *Transcript, call Trace)
}

// Trace is one call made by the runner, for Runner.Trace.
type Trace struct {
	Phase     string
	Step      int
	Tool      string
	Arguments map[string]any
	IsError   bool
	Body      any
	Err       error
}

// Run replays every transcript Repeat times and returns their results in input order.
// done, if not nil, is called as each transcript's last run finishes.
func (r *Runner) Run(ctx context.Context, ts []*Transcript, done func(Result)) []Result {
	k := max(1, r.Repeat)
	results := make([]Result, len(ts))
	runs := make([][]Result, len(ts))
	left := make([]int, len(ts)) // runs of each transcript not finished yet
	for i := range ts {
		runs[i], left[i] = make([]Result, k), k
	}
	type job struct{ transcript, run int }
	work := make(chan job)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range max(1, r.Parallel) {
		wg.Go(func() {
			for j := range work {
				res := r.RunOne(ctx, ts[j.transcript])
				mu.Lock()
				runs[j.transcript][j.run] = res
				if left[j.transcript]--; left[j.transcript] == 0 {
					results[j.transcript] = combineRuns(runs[j.transcript])
					if done != nil {
						done(results[j.transcript])
					}
				}
				mu.Unlock()
			}
		})
	}
	for i := range ts {
		for n := range k {
			work <- job{i, n}
		}
	}
	close(work)
	wg.Wait()
	return results
}

// RunOne makes one run of a transcript: setup, steps, then final_state, stopping at the first
// unmet expectation.
func (r *Runner) RunOne(ctx context.Context, t *Transcript) (res Result) {
	start := time.Now()
	res = Result{Name: t.Name, Path: t.Path, Runs: 1}
	defer func() { res.Duration = time.Since(start) }()
	cs, closeSession, err := r.Target.Open(ctx, t)
	if skip := (*SkipError)(nil); errors.As(err, &skip) {
		res.Skipped, res.SkipReason = true, skip.Reason
		return res
	}
	if err != nil {
		res.Failure = &Failure{Phase: "connect", Message: err.Error()}
		return res
	}
	defer closeSession()
	v := vars{}
	var readOnly map[string]bool // the server's read-only tools, listed when final_state starts
	for _, ph := range t.phases() {
		for i, s := range ph.steps {
			trace := func(c Trace) {
				if r.Trace != nil {
					c.Phase, c.Step, c.Tool = ph.label(), i+1, s.Label()
					r.Trace(t, c)
				}
			}
			var f *Failure
			if ph.name == "final_state" {
				if s.Tool != "" { // reads, prompts and completions change nothing
					f = checkReadOnly(ctx, cs, &readOnly, s.Tool)
				}
			}
			if f == nil {
				f = r.step(ctx, cs, v, s, trace)
			}
			if f != nil {
				f.Phase, f.Step, f.Tool, f.Note = ph.name, i+1, s.Label(), s.Note
				res.Failure = f
				return res
			}
			res.Calls++
		}
	}
	res.Passed, res.Passes = true, 1
	return res
}

// step makes one call and checks its expectations, then captures; with WithinMS, it repeats
// the call until they hold or the time is up.
func (r *Runner) step(ctx context.Context, cs *mcp.ClientSession, v vars, s Step, trace func(Trace)) *Failure {
	deadline := time.Now().Add(time.Duration(s.WithinMS) * time.Millisecond)
	for {
		f := r.call(ctx, cs, v, s, trace)
		if f == nil || time.Now().After(deadline) || ctx.Err() != nil {
			return f
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// call makes one call and checks its expectations, then captures.
func (r *Runner) call(ctx context.Context, cs *mcp.ClientSession, v vars, s Step, trace func(Trace)) *Failure {
	args, err := v.arguments(s.Arguments)
	if err != nil {
		return &Failure{Message: "arguments: " + err.Error()}
	}
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	exp := s.Expect
	if exp == nil {
		exp = &Expect{}
	}
	isError, body, callErr := r.send(ctx, timeout, cs, v, s, args, exp)
	if callErr != nil {
		trace(Trace{Arguments: args, Err: callErr})
		if exp.ProtocolError != nil && strings.Contains(callErr.Error(), *exp.ProtocolError) {
			return nil
		}
		if bad, ok := callErr.(badStep); ok {
			return &Failure{Message: string(bad)}
		}
		return &Failure{Message: "the call failed at the MCP layer: " + callErr.Error()}
	}
	trace(Trace{Arguments: args, IsError: isError, Body: body})
	if exp.ProtocolError != nil {
		return &Failure{Message: fmt.Sprintf("expected an MCP protocol error containing %q, got a result", *exp.ProtocolError), Got: raw(body)}
	}
	if f := checkResult(v, exp, isError, body); f != nil {
		return f
	}
	for _, name := range slices.Sorted(maps.Keys(s.Capture)) {
		p, err := v.interpolateString(s.Capture[name])
		if err == nil {
			var val any
			if val, err = resolvePath(body, p); err == nil {
				v[name] = val
				continue
			}
		}
		return &Failure{Message: fmt.Sprintf("capture %s: %v", name, err), Got: raw(body)}
	}
	return nil
}

// checkResult compares a call's outcome with exp.
func checkResult(v vars, exp *Expect, isError bool, body any) *Failure {
	if exp.Error != nil {
		pat := exp.Error
		if code, ok := pat.(string); ok {
			pat = map[string]any{"code": code}
		}
		if !isError {
			return &Failure{Message: "expected an error, got a successful result", Expected: raw(map[string]any{"error": pat}), Got: raw(body)}
		}
		obj, _ := body.(map[string]any)
		return compare(v, map[string]any{"error": pat}, obj)
	}
	if isError {
		return &Failure{Message: "expected success, got an error: " + errorSummary(body), Got: raw(body)}
	}
	if exp.Result == nil {
		return nil
	}
	return compare(v, exp.Result, body)
}

func compare(v vars, pattern, got any) *Failure {
	pat, err := v.compilePattern(pattern)
	if err != nil {
		return &Failure{Message: "expect: " + err.Error()}
	}
	mm := match(pat, got, "")
	if mm == nil {
		return nil
	}
	f := &Failure{Path: mm.Path, Message: mm.Message, Expected: raw(mm.Expected)}
	if f.Message == "" {
		f.Message = "the value differs"
	}
	if !mm.Missing {
		f.Got = raw(mm.Got)
	}
	return f
}

// resultBody is the JSON a tool result carries: structuredContent, or else its text
// (which holds the error body of an isError result).
func resultBody(res *mcp.CallToolResult) any {
	if res.StructuredContent != nil && !res.IsError {
		b, err := json.Marshal(res.StructuredContent)
		if err == nil {
			if v, err := decodeJSON(b); err == nil {
				return v
			}
		}
	}
	for _, c := range res.Content {
		if t, ok := c.(*mcp.TextContent); ok {
			if v, err := decodeJSON([]byte(t.Text)); err == nil {
				return v
			}
			return t.Text
		}
	}
	return nil
}

// errorSummary is "code: message" of an error body.
func errorSummary(body any) string {
	obj, _ := body.(map[string]any)
	e, _ := obj["error"].(map[string]any)
	code, _ := e["code"].(string)
	msg, _ := e["message"].(string)
	if code == "" {
		return text(body)
	}
	return code + ": " + msg
}

// checkReadOnly fails unless the server lists tool as read-only: final-state checks must
// not change what they check. The tool list is fetched once per session, into *tools.
func checkReadOnly(ctx context.Context, cs *mcp.ClientSession, tools *map[string]bool, tool string) *Failure {
	if *tools == nil {
		*tools = map[string]bool{}
		for t, err := range cs.Tools(ctx, nil) {
			if err != nil {
				*tools = nil
				return &Failure{Message: "list tools: " + err.Error()}
			}
			(*tools)[t.Name] = t.Annotations != nil && t.Annotations.ReadOnlyHint
		}
	}
	readOnly, known := (*tools)[tool]
	switch {
	case !known:
		return &Failure{Message: "the session has no tool " + tool + " (a transcript's toolsets and read_only hide tools)"}
	case !readOnly:
		return &Failure{Message: "final_state may only call read-only tools; " + tool + " is not annotated readOnlyHint"}
	}
	return nil
}

func raw(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage(fmt.Sprintf("%q", fmt.Sprint(v)))
	}
	return b
}

// ErrFailed is returned by callers when some transcript failed.
var ErrFailed = errors.New("evals: some transcripts failed")
