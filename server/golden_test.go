package server_test

import (
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/relmcrm/relm/internal/testkit"
	"github.com/relmcrm/relm/prompts"
	"github.com/relmcrm/relm/resources"
	"github.com/relmcrm/relm/server"
	"github.com/relmcrm/relm/tools"
)

var update = flag.Bool("update", false, "rewrite the golden files (testdata/, docs/tools.md)")

const updateHint = "If the change is intended, run `go test ./server -run Golden -update` and review the diff."

// golden compares got with the file at path, or rewrites it under -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	testkit.Golden(t, path, got, *update, updateHint)
}

// docServer is the server as `relm openapi` builds it: no store, so the contract tests
// need no database.
func docServer(t *testing.T) *server.Server {
	t.Helper()
	srv, err := server.New(server.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// docSession is an in-memory MCP client session with the tools, resources and prompts that /mcp
// serves srv's registry with when no toolset is selected.
func docSession(t *testing.T, srv *server.Server, protocol string) *mcp.ClientSession {
	t.Helper()
	return docSessionOf(t, srv, tools.Selection{}, protocol)
}

// docSessionOf is docSession serving the tools of sel.
func docSessionOf(t *testing.T, srv *server.Server, sel tools.Selection, protocol string) *mcp.ClientSession {
	t.Helper()
	s := tools.NewMCPServer(srv.Registry, sel, tools.MCPOptions{Version: "dev"})
	if err := resources.Register(s, srv.Registry); err != nil {
		t.Fatal(err)
	}
	prompts.Register(s)
	ct, st := mcp.NewInMemoryTransports()
	if _, err := s.Connect(t.Context(), st, nil); err != nil {
		t.Fatal(err)
	}
	var opts *mcp.ClientSessionOptions
	if protocol != "" {
		opts = &mcp.ClientSessionOptions{ProtocolVersion: protocol}
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "relm-golden", Version: "1"}, nil).Connect(t.Context(), ct, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// TestGoldenTools pins each tool as tools/list gives it to a client, one snapshot per tool
// in testdata/tools/<name>.json, so a contract change shows as a small diff. A tool without
// a snapshot, or a snapshot without a tool, fails; -update rewrites them and deletes stale ones.
// The tools of opt-in toolsets are listed as a client of that toolset sees them, and named by
// their registry name (chatgpt_search.json lists the tool search).
func TestGoldenTools(t *testing.T) {
	t.Parallel()
	srv := docServer(t)
	listed := map[string]*mcp.Tool{}
	for _, sel := range append([]tools.Selection{{}}, optInSelections()...) {
		res, err := docSessionOf(t, srv, sel, "2025-06-18").ListTools(t.Context(), nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, tl := range res.Tools {
			e, ok := srv.Registry.LookupTool(sel, tl.Name)
			if !ok {
				t.Fatalf("%s is listed but not found", tl.Name)
			}
			listed[e.Name] = tl
		}
	}
	dir := filepath.Join("testdata", "tools")
	if *update {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	names := map[string]bool{}
	for name, tl := range listed {
		names[name+".json"] = true
		out, err := json.MarshalIndent(tl, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		golden(t, filepath.Join(dir, name+".json"), append(out, '\n'))
	}
	files, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if names[f.Name()] {
			continue
		}
		path := filepath.Join(dir, f.Name())
		if *update {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			continue
		}
		t.Errorf("%s is the snapshot of no tool. %s", path, updateHint)
	}
}

// TestGoldenOpenAPI pins the served OpenAPI document.
func TestGoldenOpenAPI(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	docServer(t).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/openapi.yaml", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /openapi.yaml: %d %s", rec.Code, rec.Body)
	}
	golden(t, filepath.Join("testdata", "openapi.golden.yaml"), rec.Body.Bytes())
}

// optInSelections are the selections of each opt-in toolset alone.
func optInSelections() []tools.Selection {
	var sels []tools.Selection
	for _, set := range tools.OptInToolsets {
		sels = append(sels, tools.Selection{Toolsets: []string{set}})
	}
	return sels
}
