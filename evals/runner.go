package evals

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Target gives each transcript the MCP client session it runs in.
type Target interface {
	// Open connects for t and returns the session and a function that closes it and
	// releases whatever Open set up.
	Open(ctx context.Context, t *Transcript) (*mcp.ClientSession, func(), error)
}

// Result is the outcome of one transcript.
type Result struct {
	Name     string        `json:"name"`
	Path     string        `json:"path,omitempty"`
	Passed   bool          `json:"passed"`
	Calls    int           `json:"calls"` // tool calls that ran and met their expectations
	Duration time.Duration `json:"-"`
	Failure  *Failure      `json:"failure,omitempty"`
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
	Parallel int           // transcripts run at once (default 1)
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

// Run replays every transcript and returns their results in input order. done, if not
// nil, is called as each transcript finishes.
func (r *Runner) Run(ctx context.Context, ts []*Transcript, done func(Result)) []Result {
	results := make([]Result, len(ts))
	work := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range max(1, r.Parallel) {
		wg.Go(func() {
			for i := range work {
				results[i] = r.RunOne(ctx, ts[i])
				if done != nil {
					mu.Lock()
					done(results[i])
					mu.Unlock()
				}
			}
		})
	}
	for i := range ts {
		work <- i
	}
	close(work)
	wg.Wait()
	return results
}

// RunOne replays one transcript: setup, steps, then final_state, stopping at the first
// unmet expectation.
func (r *Runner) RunOne(ctx context.Context, t *Transcript) (res Result) {
	start := time.Now()
	res = Result{Name: t.Name, Path: t.Path}
	defer func() { res.Duration = time.Since(start) }()
	cs, closeSession, err := r.Target.Open(ctx, t)
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
					c.Phase, c.Step, c.Tool = ph.label(), i+1, s.Tool
					r.Trace(t, c)
				}
			}
			var f *Failure
			if ph.name == "final_state" {
				f = checkReadOnly(ctx, cs, &readOnly, s.Tool)
			}
			if f == nil {
				f = r.step(ctx, cs, v, s, trace)
			}
			if f != nil {
				f.Phase, f.Step, f.Tool, f.Note = ph.name, i+1, s.Tool, s.Note
				res.Failure = f
				return res
			}
			res.Calls++
		}
	}
	res.Passed = true
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
	callCtx, cancel := context.WithTimeout(ctx, timeout)
	res, callErr := cs.CallTool(callCtx, &mcp.CallToolParams{Name: s.Tool, Arguments: args})
	cancel()
	exp := s.Expect
	if exp == nil {
		exp = &Expect{}
	}
	if callErr != nil {
		trace(Trace{Arguments: args, Err: callErr})
		if exp.ProtocolError != nil && strings.Contains(callErr.Error(), *exp.ProtocolError) {
			return nil
		}
		return &Failure{Message: "the call failed at the MCP layer: " + callErr.Error()}
	}
	body := resultBody(res)
	trace(Trace{Arguments: args, IsError: res.IsError, Body: body})
	if exp.ProtocolError != nil {
		return &Failure{Message: fmt.Sprintf("expected an MCP protocol error containing %q, got a result", *exp.ProtocolError), Got: raw(body)}
	}
	if f := checkResult(v, exp, res.IsError, body); f != nil {
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

// Remote replays transcripts against a running server with one API key. The key's
// workspace is used as it is: transcripts that assume an empty workspace need a fresh one.
type Remote struct {
	URL        string // the server's base URL (http://127.0.0.1:8080) or its /mcp endpoint
	Key        string
	HTTPClient *http.Client // default http.DefaultClient's transport
}

// Open connects to the server, once it has checked the key's mode suits t.
func (r Remote) Open(ctx context.Context, t *Transcript) (*mcp.ClientSession, func(), error) {
	if mode := keyMode(r.Key); mode != "" && mode != t.KeyMode() {
		return nil, nil, fmt.Errorf("the transcript needs a %s key (mode %q); this is a %s key", t.KeyMode(), t.KeyMode(), mode)
	}
	endpoint := strings.TrimSuffix(r.URL, "/")
	if !strings.HasSuffix(endpoint, "/mcp") {
		endpoint += "/mcp"
	}
	cs, err := Dial(ctx, t.Endpoint(endpoint), r.Key, r.HTTPClient)
	if err != nil {
		return nil, nil, err
	}
	return cs, func() { _ = cs.Close() }, nil
}

func keyMode(key string) string {
	for _, m := range []string{"live", "test"} {
		if strings.HasPrefix(key, "sk_"+m+"_") {
			return m
		}
	}
	return ""
}

// Dial opens an MCP client session over streamable HTTP to endpoint, sending key as a
// bearer token.
func Dial(ctx context.Context, endpoint, key string, client *http.Client) (*mcp.ClientSession, error) {
	base := http.DefaultTransport
	if client != nil && client.Transport != nil {
		base = client.Transport
	}
	transport := &mcp.StreamableClientTransport{
		Endpoint:             endpoint,
		HTTPClient:           &http.Client{Transport: bearer{key: key, next: explainRefusals{base}}},
		DisableStandaloneSSE: true, // Relm's server is stateless: it never calls the client
	}
	c := mcp.NewClient(&mcp.Implementation{Name: "relm-eval", Version: "1"}, nil)
	cs, err := c.Connect(ctx, transport, nil)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", endpoint, err)
	}
	return cs, nil
}

type bearer struct {
	key  string
	next http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.key)
	return b.next.RoundTrip(r)
}

// Summary counts passed and failed results.
func Summary(results []Result) (passed, failed int) {
	for _, r := range results {
		if r.Passed {
			passed++
		} else {
			failed++
		}
	}
	return passed, failed
}

// ErrFailed is returned by callers when some transcript failed.
var ErrFailed = errors.New("evals: some transcripts failed")
