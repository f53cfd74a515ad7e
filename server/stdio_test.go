package server_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/relmcrm/relm/server"
	"github.com/relmcrm/relm/tools"
)

// stdioSession serves MCP over an in-memory transport as `relm mcp` serves it over stdio,
// as the caller of key, and connects a client to it.
func (e *env) stdioSession(key string) *mcp.ClientSession {
	e.t.Helper()
	serverSide, clientSide := mcp.NewInMemoryTransports()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Srv.ServeMCP(ctx, key, tools.Selection{}, serverSide) }()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "stdio-test", Version: "1"}, nil).Connect(ctx, clientSide, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() {
		_ = cs.Close()
		cancel()
		<-done
	})
	return cs
}

// TestMCPOverStdio: the same tools as /mcp, writes visible over REST, metered and logged
// like /mcp, and a revoked key stops working at the next request.
func TestMCPOverStdio(t *testing.T) {
	t.Parallel()
	e := setupWith(t, limits(server.Limits{RateLimit: 8, RateWindow: longWindow}))
	if err := e.Srv.ServeMCP(t.Context(), "sk_test_"+strings.Repeat("x", 32), tools.DefaultSelection, nil); !errors.Is(err, server.ErrKeyRefused) {
		t.Fatalf("an unknown key: %v", err)
	}
	key, reader := e.key("acme", "test"), e.key("acme", "test")
	cs := e.stdioSession(key)                     // initialize: 1 request
	listed, err := cs.ListTools(t.Context(), nil) // 2
	if err != nil {
		t.Fatal(err)
	}
	all := 0 // every tool but the opt-in toolsets'
	for _, entry := range e.Srv.Registry.Entries() {
		if (tools.Selection{}).Includes(entry) {
			all++
		}
	}
	if len(listed.Tools) != all {
		t.Fatalf("%d tools over stdio, %d in all", len(listed.Tools), all)
	}
	id := decode(t, text(t, tool(t, cs, "create_contact", map[string]any{"email": "stdio@example.com"})))["id"].(string) // 3
	e.call("GET", "/v1/contacts/"+id, key, nil).must(t, 200)                                                             // 4: the same key's window
	if res := tool(t, cs, "create_contact", map[string]any{"email": "not an email"}); !res.IsError {                     // 5
		t.Fatal("invalid input accepted over stdio")
	}
	for i := 6; i <= 9; i++ {
		res := tool(t, cs, "get_contact", map[string]any{"id": id})
		if refused := res.IsError && strings.Contains(text(t, res), "rate_limited"); refused != (i == 9) {
			t.Fatalf("request %d of a key limited to 8: %s", i, text(t, res))
		}
	}
	logs := e.waitLogs(reader, "surface=mcp", 6)
	if logs[0]["tool"] != "get_contact" || logs[0]["error_code"] != "rate_limited" || logs[1]["status"] != 200.0 ||
		logs[4]["error_code"] != "validation_failed" || logs[5]["tool"] != "create_contact" || logs[5]["status"] != 201.0 ||
		!strings.HasPrefix(logs[5]["request_id"].(string), "req_") || logs[5]["key_id"] != e.keyID(key) {
		t.Fatalf("logs: %v", logs)
	}

	other := e.key("acme", "test")
	revoked := e.stdioSession(other)
	tool(t, revoked, "list_contacts", map[string]any{})
	e.call("DELETE", "/v1/api_keys/"+e.keyID(other), reader, nil).must(t, 200)
	if _, err := revoked.CallTool(t.Context(), &mcp.CallToolParams{Name: "list_contacts", Arguments: map[string]any{}}); err == nil ||
		!strings.Contains(err.Error(), "revoked") {
		t.Fatalf("a revoked key's call: %v", err)
	}
}
