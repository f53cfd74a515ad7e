package server

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/relmcrm/relm/tools"
)

// directVersions are the protocol versions whose tools/call directToolCalls answers as the
// SDK would ("" is 2025-03-26, the version a client that sends no header speaks).
// 2026-07-28 changes what a result may carry (multi-round-trip results), so it stays with
// the SDK, as does any version added later until checked by TestDirectToolCallsMatchSDK.
var directVersions = []string{"", "2025-03-26", "2025-06-18", "2025-11-25"}

// directToolCalls answers a plain tools/call (params of only a name and arguments, naming
// a tool of the request's selection, in a protocol version of directVersions) without the
// SDK's per-request session: the stateless transport builds a session for every POST and
// parses the body four times, which made a tool call cost twice its REST request. The call
// runs through the same MCP middleware (metering, outcomes) and the same tool handler, and
// its response is the SDK's byte for byte (TestDirectToolCallsMatchSDK). Everything else
// goes to the SDK.
type directToolCalls struct {
	reg        *tools.Registry
	middleware []mcp.Middleware // outermost first
	sdk        http.Handler
}

func (d *directToolCalls) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	msg, ok := mcpMessageFrom(r.Context())
	if !ok || !msg.Plain || !slices.Contains(directVersions, r.Header.Get("Mcp-Protocol-Version")) {
		d.sdk.ServeHTTP(w, r)
		return
	}
	sel, serr := d.reg.ParseSelection(r)
	e, known := d.reg.LookupTool(sel, msg.Tool)
	if serr != nil || !known {
		d.sdk.ServeHTTP(w, r) // its own error: a bad selection, an unknown tool
		return
	}
	handler := func(ctx context.Context, _ string, req mcp.Request) (mcp.Result, error) {
		return e.HandleMCP(ctx, req.(*mcp.CallToolRequest))
	}
	for _, m := range slices.Backward(d.middleware) {
		handler = m(handler)
	}
	res, err := handler(tools.WithSelection(r.Context(), sel), "tools/call", &mcp.CallToolRequest{
		Params: &mcp.CallToolParamsRaw{Name: msg.Tool, Arguments: msg.Arguments}, Extra: &mcp.RequestExtra{Header: r.Header}})
	reply := struct {
		JSONRPC string         `json:"jsonrpc"`
		ID      any            `json:"id"`
		Result  mcp.Result     `json:"result,omitempty"`
		Error   *jsonrpc.Error `json:"error,omitempty"`
	}{JSONRPC: "2.0", ID: msg.ID.Raw()}
	if err != nil {
		reply.Error = asRPCError(err)
	} else {
		if call, ok := res.(*mcp.CallToolResult); ok && call.Content == nil {
			call.Content = []mcp.Content{} // as the SDK: never null
		}
		reply.Result = res
	}
	var buf bytes.Buffer
	buf.WriteString("event: message\ndata: ")
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // as the SDK's encoder
	if call, isCall := res.(*mcp.CallToolResult); isCall && err == nil {
		if result, ok := tools.EncodeToolResult(call); ok { // the common case, without reflection
			buf.WriteString(`{"jsonrpc":"2.0","id":`)
			_ = enc.Encode(reply.ID)
			buf.Truncate(buf.Len() - 1) // Encode's newline
			buf.WriteString(`,"result":`)
			buf.Write(result)
			buf.WriteString("}\n\n")
			writeEvent(w, buf.Bytes())
			return
		}
	}
	if err := enc.Encode(reply); err != nil {
		buf.Truncate(len("event: message\ndata: "))
		reply.Result, reply.Error = nil, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: err.Error()}
		_ = enc.Encode(reply)
	}
	buf.WriteString("\n") // Encode ended the line; a blank line ends the event
	writeEvent(w, buf.Bytes())
}

// writeEvent sends the response: one SSE event, written whole (net/http sends it when the
// handler returns).
func writeEvent(w http.ResponseWriter, event []byte) {
	h := w.Header()
	h.Set("Cache-Control", "no-cache, no-transform")
	h.Set("Content-Type", "text/event-stream")
	h.Set("Connection", "keep-alive")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(event)
}

// asRPCError is the JSON-RPC error for a middleware's error.
func asRPCError(err error) *jsonrpc.Error {
	if e, ok := err.(*jsonrpc.Error); ok {
		return e
	}
	return &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: err.Error()}
}
