package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/email"
	"github.com/relmcrm/relm/internal/testkit"
	"github.com/relmcrm/relm/secrets"
	"github.com/relmcrm/relm/server"
	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/store/pgtest"
	"github.com/relmcrm/relm/tools"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// env is a running server on its own database with keys for two workspaces.
type env struct {
	t     testing.TB
	URL   string
	Store *store.Store
	Admin *store.Admin // the owner's connection, for workspaces and keys
	Live  string       // workspace A, live mode
	Test  string       // workspace A, test mode
	Other string       // workspace B, live mode
	Srv   *server.Server
	DB    string // the database's URL, for tests that reach under the API
	// Secret is the server's secret key, for further servers that must accept its cursors.
	Secret []byte
}

func setup(t *testing.T) *env {
	t.Helper()
	return setupWith(t, nil)
}

// setupWith is setup with a server configuration adjusted by configure (which may be nil).
func setupWith(t testing.TB, configure func(*server.Config)) *env {
	t.Helper()
	s, admin, dbURL := pgtest.Open(t)
	cfg := server.Config{Store: s, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), SecretKey: server.NewSecretKey()}
	box, err := secrets.NewBox(cfg.SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	// No test reaches the real Resend: where no fake is configured, a closed port refuses at once.
	cfg.Email = &tools.EmailServices{Box: box, Resend: email.NewClient("http://127.0.0.1:1", "relm-test", nil)}
	if configure != nil {
		configure(&cfg)
	}
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close(context.Background()) }) // after the HTTP server closes, before the store does
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	e := &env{t: t, URL: hs.URL, Store: s, Admin: admin, Srv: srv, DB: dbURL, Secret: cfg.SecretKey}
	e.Live = e.key("acme", auth.Live)
	e.Test = e.key("acme", auth.Test)
	e.Other = e.key("globex", auth.Live)
	return e
}

// with returns a copy of e bound to t, for use inside a subtest: its helpers then report
// to (and stop) the subtest, never the parent from the subtest's goroutine.
func (e *env) with(t testing.TB) *env {
	c := *e
	c.t = t
	return &c
}

// flush writes what the server holds in memory (rate-limit counts, request logs), so a
// test can read them from the database.
func (e *env) flush() {
	e.t.Helper()
	if err := e.Srv.Flush(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

// peekWindow is the shared rate window of key, after the server has written its counts.
func (e *env) peekWindow(key string) (store.RateWindow, error) {
	e.flush()
	return e.Store.PeekRateWindow(context.Background(), e.keyCaller(key))
}

func (e *env) key(workspace string, mode auth.Mode) string {
	ctx := context.Background()
	ws, _, err := e.Admin.EnsureWorkspace(ctx, workspace)
	if err != nil {
		e.t.Fatal(err)
	}
	_, secret, err := e.Admin.CreateAPIKey(ctx, ws.ID, mode)
	if err != nil {
		e.t.Fatal(err)
	}
	return secret
}

// workspaceID returns the id of a workspace made by setup.
func (e *env) workspaceID(name string) string {
	e.t.Helper()
	ws, err := e.Admin.WorkspaceByName(context.Background(), name)
	if err != nil {
		e.t.Fatal(err)
	}
	return ws.ID
}

// resp is a decoded HTTP response.
type resp struct {
	Status int
	Header http.Header
	Raw    []byte
	Body   map[string]any
}

// errCode returns error.code of an error body.
func (r resp) errCode() string {
	e, _ := r.Body["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

// do sends a REST request with key (none when empty) and a raw body.
func (e *env) do(method, path, key string, body []byte, header ...string) resp {
	e.t.Helper()
	req, err := http.NewRequest(method, e.URL+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	r := resp{Status: res.StatusCode, Header: res.Header, Raw: raw}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") { // an MCP response: its last message
		for line := range strings.SplitSeq(string(raw), "\n") {
			if data, ok := strings.CutPrefix(line, "data: "); ok {
				raw = []byte(data)
			}
		}
	}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &r.Body); err != nil {
			e.t.Fatalf("%s %s: body is not a JSON object: %s", method, path, raw)
		}
	}
	return r
}

// call sends a JSON-encoded value.
func (e *env) call(method, path, key string, v any) resp {
	e.t.Helper()
	var body []byte
	if v != nil {
		var err error
		if body, err = json.Marshal(v); err != nil {
			e.t.Fatal(err)
		}
	}
	return e.do(method, path, key, body)
}

// must asserts the status and returns the response.
func (r resp) must(t testing.TB, status int) resp {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Raw)
	}
	return r
}

// mcpSession opens a real MCP client session over streamable HTTP with key.
func (e *env) mcpSession(key, protocol string) *mcp.ClientSession {
	e.t.Helper()
	return testkit.DialMCP(e.t, e.URL+"/mcp?toolsets=all", testkit.Bearer{Key: key}, protocol)
}

// entrySessions dials, once each, the MCP sessions that serve the registry's capabilities
// to one key: ?toolsets=all for most, and each opt-in toolset (chatgpt) alone.
type entrySessions struct {
	e             *env
	key, protocol string
	byToolset     map[string]*mcp.ClientSession
}

func (e *env) entrySessions(key, protocol string) *entrySessions {
	return &entrySessions{e: e, key: key, protocol: protocol, byToolset: map[string]*mcp.ClientSession{}}
}

// of is a session serving entry and the name it calls entry by.
func (s *entrySessions) of(entry *tools.Entry) (*mcp.ClientSession, string) {
	set := tools.AllToolsets
	if slices.Contains(tools.OptInToolsets, entry.Toolset) {
		set = entry.Toolset
	}
	cs, ok := s.byToolset[set]
	if !ok {
		cs = testkit.DialMCP(s.e.t, s.e.URL+"/mcp?toolsets="+set, testkit.Bearer{Key: s.key}, s.protocol)
		s.byToolset[set] = cs
	}
	return cs, entry.ToolName()
}

// tool calls an MCP tool and returns the result.
func tool(t testing.TB, cs *mcp.ClientSession, name string, args any) *mcp.CallToolResult {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("call %s: %v", name, err)
	}
	return res
}

// text returns the text content of a tool result.
func text(t testing.TB, res *mcp.CallToolResult) string {
	t.Helper()
	if len(res.Content) != 1 {
		t.Fatalf("want one content item, got %d", len(res.Content))
	}
	tc, ok := res.Content[0].(*mcp.TextContent)
	if !ok {
		t.Fatalf("content is %T, want text", res.Content[0])
	}
	return tc.Text
}

// decode parses JSON text into a map.
func decode(t testing.TB, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("not JSON: %s", s)
	}
	return m
}
