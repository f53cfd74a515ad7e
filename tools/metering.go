package tools

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Outcome is how one MCP tool call ended, as the request log records it.
type Outcome struct {
	Tool   string
	Status int    // the status the same REST call answers
	Code   string // the error code; "" on success
}

// Outcomes collects the outcomes of the tool calls of one MCP request (a JSON-RPC batch
// may carry several, answered concurrently). The metering middleware puts one in the
// request context; RecordOutcomes fills it.
type Outcomes struct {
	mu   sync.Mutex
	list []Outcome
}

type outcomesKey struct{}

// WithOutcomes returns ctx carrying a new, empty Outcomes.
func WithOutcomes(ctx context.Context) (context.Context, *Outcomes) {
	o := &Outcomes{}
	return context.WithValue(ctx, outcomesKey{}, o), o
}

// List returns the outcomes recorded so far, in the order the calls ended.
func (o *Outcomes) List() []Outcome {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]Outcome(nil), o.list...)
}

// RecordOutcomes is MCP server middleware that records, in the context's Outcomes, how
// every tools/call ended: the result the client got, whether the capability ran or an
// idempotent replay answered. A call the SDK rejects (unknown tool, malformed params) is
// not_found or bad_request.
func (r *Registry) RecordOutcomes(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		res, err := next(ctx, method, req)
		o, ok := ctx.Value(outcomesKey{}).(*Outcomes)
		call, isCall := req.(*mcp.CallToolRequest)
		if !ok || !isCall || method != "tools/call" {
			return res, err
		}
		out := Outcome{Tool: call.Params.Name}
		result, _ := res.(*mcp.CallToolResult)
		e, known := r.Lookup(out.Tool)
		switch {
		case !known:
			out.Status, out.Code = Codes[CodeNotFound], CodeNotFound
		case err != nil || result == nil:
			out.Status, out.Code = Codes[CodeBadRequest], CodeBadRequest
		case result.IsError:
			out.Code = resultErrorCode(result)
			out.Status = Codes[out.Code]
		case e.REST != nil:
			out.Status = e.REST.Status
		default:
			out.Status = 200
		}
		o.mu.Lock()
		o.list = append(o.list, out)
		o.mu.Unlock()
		return res, err
	}
}

// resultErrorCode reads error.code from the text of a failed tool result.
func resultErrorCode(res *mcp.CallToolResult) string {
	for _, c := range res.Content {
		if t, ok := c.(*mcp.TextContent); ok {
			var body struct {
				Error struct {
					Code string `json:"code"`
				} `json:"error"`
			}
			if json.Unmarshal([]byte(t.Text), &body) == nil {
				if _, known := Codes[body.Error.Code]; known {
					return body.Error.Code
				}
			}
		}
	}
	return CodeInternal
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
