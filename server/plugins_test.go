package server_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/relmcrm/relm/internal/testkit"
	"github.com/relmcrm/relm/server"
	"github.com/relmcrm/relm/tools"
)

// selectionSpy is an MCP plug-in, as the eval recorder is: it notes the tool selection of
// every tool call it sees, and how often the server closed it.
type selectionSpy struct {
	mu     sync.Mutex
	seen   []tools.Selection
	closed int
}

func (s *selectionSpy) plugin(*tools.Registry) (mcp.Middleware, func(context.Context) error, error) {
	mw := func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
			if method == "tools/call" {
				s.mu.Lock()
				s.seen = append(s.seen, tools.SelectionFrom(ctx))
				s.mu.Unlock()
			}
			return next(ctx, method, req)
		}
	}
	return mw, func(context.Context) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.closed++
		return errors.New("closed")
	}, nil
}

// TestMCPPluginsRecordSelectionAndClose: a plug-in's middleware learns the selection of
// each call's URL, on the direct path and the SDK's alike, and Server.Close closes the
// plug-in once, returning its error.
func TestMCPPluginsRecordSelectionAndClose(t *testing.T) {
	t.Parallel()
	spy := &selectionSpy{}
	e := setupWith(t, func(cfg *server.Config) { cfg.MCPPlugins = []server.MCPPlugin{spy.plugin} })
	cs := testkit.DialMCP(t, e.URL+"/mcp?toolsets=deals,contacts&read_only=true", testkit.Bearer{Key: e.Test}, "2025-06-18")
	defer cs.Close()
	tool(t, cs, "list_contacts", map[string]any{}) // answered directly
	if _, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "list_contacts", Meta: mcp.Meta{"trace": "1"}}); err != nil {
		t.Fatal(err) // _meta: answered by the SDK
	}
	want := tools.Selection{Toolsets: []string{"contacts", "deals"}, ReadOnly: true}
	spy.mu.Lock()
	seen := slices.Clone(spy.seen)
	spy.mu.Unlock()
	if len(seen) != 2 {
		t.Fatalf("want 2 calls seen, got %d", len(seen))
	}
	for i, s := range seen {
		if s.ReadOnly != want.ReadOnly || !slices.Equal(s.Toolsets, want.Toolsets) {
			t.Fatalf("call %d: the plug-in saw selection %+v, want %+v", i+1, s, want)
		}
	}
	if err := e.Srv.Close(t.Context()); err == nil || err.Error() != "closed" {
		t.Fatalf("Close should return the plug-in's error, got %v", err)
	}
	_ = e.Srv.Close(t.Context())
	if spy.closed != 1 {
		t.Fatalf("the plug-in should be closed once, was %d times", spy.closed)
	}
}
