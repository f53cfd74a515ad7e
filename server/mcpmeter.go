package server

import (
	"context"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/metering"
	"github.com/relmcrm/relm/tools"
)

// CodeRateLimitedRPC is the JSON-RPC error code of an MCP request other than a tool call
// refused by the rate limits (a tool call gets a tool error result instead).
const CodeRateLimitedRPC = -32029

// meterMCP is MCP server middleware counting each request where the SDK has parsed it:
// every request toward the key's and the workspace's rate limits, tool calls also toward
// the monthly quota; notifications count nothing. A refused tools/call is answered with a
// tool error result a model can read (rate_limited or quota_exceeded, with retry_after),
// not an HTTP 429, which most MCP clients turn into a transport failure that hides the
// message; any other refused request gets a JSON-RPC error saying when to retry.
func (m *meterHTTP) meterMCP(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		c, ok := auth.CallerFrom(ctx)
		slot, _ := ctx.Value(decisionKey{}).(*decisionSlot)
		if !ok || slot == nil || strings.HasPrefix(method, "notifications/") {
			return next(ctx, method, req)
		}
		quota := 0
		if method == "tools/call" {
			quota = 1
		}
		d, err := m.meter.Admit(ctx, c, 1, quota)
		if err != nil {
			m.log.ErrorContext(ctx, "meter request", "request_id", tools.RequestID(ctx), "err", err)
			return nil, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "Could not check the rate limit right now. Retry shortly."}
		}
		slot.put(d)
		if d.Refusal != metering.Allowed {
			e := m.refusal(c.Mode, d)
			if call, isCall := req.(*mcp.CallToolRequest); isCall {
				name := call.Params.Name
				if entry, ok := m.reg.LookupTool(tools.SelectionFrom(ctx), name); ok {
					name = entry.Name // the request log names tools as the registry does
				}
				tools.ReportOutcome(ctx, name, e.Status, e.Code)
				return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: string(tools.Encode(e.Body(ctx)))}}}, nil
			}
			return nil, &jsonrpc.Error{Code: CodeRateLimitedRPC, Message: e.Message}
		}
		return next(tools.WithAllowance(ctx, m.allowance(c, d)), method, req)
	}
}
