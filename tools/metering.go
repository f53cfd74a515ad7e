package tools

import (
	"context"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Outcome is how one call of a capability ended, as the request log records it.
type Outcome struct {
	Tool   string
	Status int  // the status the REST call answers (for an MCP call, the status the same REST call would)
	Code   Code // the error code; "" on success
}

// OutcomeSlot holds the outcome of the one capability call of a request (a REST request,
// or an MCP POST, which carries one message). The metering middleware puts one in the
// request context; whatever answers the call reports into it, the last report winning.
type OutcomeSlot struct {
	mu  sync.Mutex
	out Outcome
	set bool
}

type outcomeKey struct{}

// WithOutcome returns ctx carrying a new, empty OutcomeSlot.
func WithOutcome(ctx context.Context) (context.Context, *OutcomeSlot) {
	o := &OutcomeSlot{}
	return context.WithValue(ctx, outcomeKey{}, o), o
}

// Get returns the reported outcome, if any.
func (o *OutcomeSlot) Get() (Outcome, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.out, o.set
}

// ReportOutcome records how the call of tool ended in ctx's OutcomeSlot: status and, for a
// failure, its error code. Entry.Call reports every call it runs; the surfaces report what
// never reaches it (arguments they refuse, idempotent replays, refusals by the rate limits).
func ReportOutcome(ctx context.Context, tool string, status int, code Code) {
	o, ok := ctx.Value(outcomeKey{}).(*OutcomeSlot)
	if !ok {
		return
	}
	o.mu.Lock()
	o.out, o.set = Outcome{Tool: tool, Status: status, Code: code}, true
	o.mu.Unlock()
}

// reportError reports a failed call of tool.
func reportError(ctx context.Context, tool string, err *Error) {
	ReportOutcome(ctx, tool, err.Status, err.Code)
}

// ReportedOutcome returns the outcome reported in ctx so far.
func ReportedOutcome(ctx context.Context) (Outcome, bool) {
	o, ok := ctx.Value(outcomeKey{}).(*OutcomeSlot)
	if !ok {
		return Outcome{}, false
	}
	return o.Get()
}

// RecordOutcomes is MCP server middleware reporting the calls the SDK rejects before any
// tool runs: an unknown tool is not_found, malformed params bad_request.
func (r *Registry) RecordOutcomes(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		res, err := next(ctx, method, req)
		call, isCall := req.(*mcp.CallToolRequest)
		if !isCall || method != "tools/call" {
			return res, err
		}
		if _, known := r.LookupTool(SelectionFrom(ctx), call.Params.Name); !known {
			ReportOutcome(ctx, call.Params.Name, Codes[CodeNotFound], CodeNotFound)
		} else if _, reported := ReportedOutcome(ctx); !reported && (err != nil || res == nil) {
			ReportOutcome(ctx, call.Params.Name, Codes[CodeBadRequest], CodeBadRequest)
		}
		return res, err
	}
}

// Allowance is what metering counted for the current request: the API key's rate-limit
// window and the workspace's monthly quota. get_usage reports it.
type Allowance struct {
	RateLimit   int       // requests per window for the key
	Remaining   int       // requests left in the current window
	Reset       time.Time // when the current window ends
	Plan        string
	PeriodStart time.Time // the quota period: a calendar month, UTC
	PeriodEnd   time.Time // exclusive
	Used        int64     // live requests this period, this one included; 0 in test mode
	Quota       *int64    // the plan's monthly live quota; nil in test mode (not metered)
	MaxKeys     int       // unrevoked API keys the workspace may hold in the key's mode
}

// DefaultMaxKeys is how many unrevoked API keys a workspace may hold per mode unless the
// server is configured otherwise.
const DefaultMaxKeys = 100

type allowanceKey struct{}

// WithAllowance returns ctx carrying a.
func WithAllowance(ctx context.Context, a Allowance) context.Context {
	return context.WithValue(ctx, allowanceKey{}, a)
}

// AllowanceFrom returns the allowance in ctx.
func AllowanceFrom(ctx context.Context) (Allowance, bool) {
	a, ok := ctx.Value(allowanceKey{}).(Allowance)
	return a, ok
}
