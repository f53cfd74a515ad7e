package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// toolListSizes asks the server for tools/list under the default selection, each toolset
// and all, and reports the tools and tokens (bytes/4 of the result's JSON as sent) of each.
func (b *bench) toolListSizes(ctx context.Context, c *client, toolsets []string) error {
	b.rep.printf("## MCP tool list size\n\nWhat `tools/list` returns to this workspace under each selection, as sent (icons and the workspace's pipeline keys included); tokens are estimated as bytes/4 of the result's JSON. The default is what a client that names no toolsets gets: the core tools, without output schemas.\n\n")
	b.rep.printf("| selection | tools | bytes | tokens |\n| --- | --- | --- | --- |\n")
	for _, sel := range append(append([]string{"", "core"}, toolsets...), "all") {
		n, size, err := c.listTools(ctx, sel)
		if err != nil {
			return err
		}
		name := "`?toolsets=" + sel + "`"
		if sel == "" {
			name = "default (`/mcp`)"
			b.rep.defaultTools, b.rep.defaultTokens = n, size/4
			b.rep.mark("tools")
		}
		b.rep.printf("| %s | %d | %d | %d |\n", name, n, size, size/4)
	}
	b.rep.printf("\n")
	return nil
}

// listTools posts tools/list to /mcp with ?toolsets=sel (none when empty) and returns how
// many tools the result lists and its size in bytes.
func (c *client) listTools(ctx context.Context, sel string) (tools, size int, err error) {
	path := "/mcp"
	if sel != "" {
		path += "?toolsets=" + sel
	}
	status, body, err := c.postMCP(ctx, path, "2025-11-25", []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
	if err != nil {
		return 0, 0, err
	}
	data, ok := bytes.CutPrefix(body, []byte("event: message\ndata: "))
	if status != http.StatusOK || !ok {
		return 0, 0, fmt.Errorf("tools/list at %s: status %d: %.512s", path, status, body)
	}
	var reply struct {
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(data, &reply); err != nil {
		return 0, 0, fmt.Errorf("tools/list at %s: %w", path, err)
	}
	var result struct {
		Tools []json.RawMessage `json:"tools"`
	}
	if err := json.Unmarshal(reply.Result, &result); err != nil {
		return 0, 0, fmt.Errorf("tools/list at %s: %w", path, err)
	}
	return len(result.Tools), len(reply.Result), nil
}
