package server_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/relmcrm/relm/internal/testkit"
	"github.com/relmcrm/relm/tools"
)

func TestToolsetsAndReadOnly(t *testing.T) {
	t.Parallel()
	e := setup(t)
	cs := testkit.DialMCP(t, e.URL+"/mcp?toolsets=contacts,deals&read_only=true", testkit.Bearer{Key: e.Live}, "")
	res, err := cs.ListTools(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tl := range res.Tools {
		names = append(names, tl.Name)
		if !tl.Annotations.ReadOnlyHint {
			t.Errorf("%s is not read-only", tl.Name)
		}
	}
	slices.Sort(names)
	if want := []string{"get_contact", "get_deal", "list_contacts", "list_deals"}; !slices.Equal(names, want) {
		t.Fatalf("tools %v, want %v", names, want)
	}
	if _, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "create_contact", Arguments: map[string]any{"email": "x@y.com"}}); err == nil {
		t.Fatal("a tool outside the selection was callable")
	}
	if n := countContacts(e, e.Live); n != 0 {
		t.Fatalf("%d contacts written", n)
	}

	r := e.do("POST", "/mcp?toolsets=contcts", e.Live, []byte(initBody), "Accept", "application/json, text/event-stream")
	eb := expectError(t, r, 400, "bad_request", "toolsets")
	if eb["suggestion"] != "contacts" || !contains(strs(eb["valid_options"]), "deals") {
		t.Fatalf("unknown toolset: %s", r.Raw)
	}
	expectError(t, e.do("POST", "/mcp?read_only=maybe", e.Live, []byte(initBody), "Accept", "application/json, text/event-stream"), 400, "bad_request", "read_only")
}

// listedTool is what a test reads of a tool tools/list gives.
type listedTool struct {
	Name         string          `json:"name"`
	OutputSchema json.RawMessage `json:"outputSchema"`
}

// listedTools posts tools/list to path and returns the result's tools and the size of the
// whole result as the server sent it.
func listedTools(e *env, path string) (list []listedTool, size int) {
	e.t.Helper()
	r := e.do("POST", path, e.Live, []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`),
		"Accept", "application/json, text/event-stream", "Mcp-Protocol-Version", "2025-11-25")
	data, ok := strings.CutPrefix(string(r.Raw), "event: message\ndata: ")
	if r.Status != 200 || !ok {
		e.t.Fatalf("tools/list at %s: %d %s", path, r.Status, r.Raw)
	}
	var reply struct {
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal([]byte(data), &reply); err != nil {
		e.t.Fatal(err)
	}
	var result struct {
		Tools []listedTool `json:"tools"`
	}
	if err := json.Unmarshal(reply.Result, &result); err != nil {
		e.t.Fatal(err)
	}
	return result.Tools, len(reply.Result)
}

// TestDefaultToolBudget: what /mcp lists to a client that names no toolsets stays within
// the budget (tools.DefaultToolsBudget, tools.DefaultTokensBudget), measured on the exact
// tools/list result the server sends (icons included) to a workspace without custom fields.
func TestDefaultToolBudget(t *testing.T) {
	t.Parallel()
	e := setup(t)
	listed, size := listedTools(e, "/mcp")
	var names []string
	for _, tool := range listed {
		names = append(names, tool.Name)
		if tool.OutputSchema != nil {
			t.Errorf("%s lists an output schema in the default set", tool.Name)
		}
	}
	t.Logf("default: %d tools, %d bytes, about %d tokens: %v", len(listed), size, size/4, names)
	if !slices.Equal(slices.Sorted(slices.Values(names)), slices.Sorted(slices.Values(tools.CoreTools))) {
		t.Errorf("the default lists %v, want the core tools %v", names, tools.CoreTools)
	}
	if len(listed) > tools.DefaultToolsBudget {
		t.Errorf("the default set has %d tools, over the budget of %d", len(listed), tools.DefaultToolsBudget)
	}
	if size/4 > tools.DefaultTokensBudget {
		t.Errorf("the default set's tools/list is %d bytes, about %d tokens, over the budget of %d", size, size/4, tools.DefaultTokensBudget)
	}
}

// TestToolSelections: the default is the core tools without output schemas; core and all
// name selections of their own, combined with toolsets; the instructions name the toolsets a
// selection leaves out.
func TestToolSelections(t *testing.T) {
	t.Parallel()
	e := setup(t)
	names := func(path string) (names []string, withOutput int) {
		listed, _ := listedTools(e, path)
		for _, tool := range listed {
			names = append(names, tool.Name)
			if tool.OutputSchema != nil {
				withOutput++
			}
		}
		return slices.Sorted(slices.Values(names)), withOutput
	}
	core := slices.Sorted(slices.Values(tools.CoreTools))
	if got, out := names("/mcp"); !slices.Equal(got, core) || out != 0 {
		t.Errorf("/mcp lists %v, %d with output schemas; want the core tools without", got, out)
	}
	if got, out := names("/mcp?toolsets=core"); !slices.Equal(got, core) || out != len(core) {
		t.Errorf("?toolsets=core lists %v, %d with output schemas; want the core tools with", got, out)
	}
	withHooks, _ := names("/mcp?toolsets=webhooks,core")
	if len(withHooks) != len(core)+9 || !slices.Contains(withHooks, "create_webhook") || !slices.Contains(withHooks, "get_contact") {
		t.Errorf("?toolsets=webhooks,core lists %v", withHooks)
	}
	all, _ := names("/mcp?toolsets=all")
	every := 0 // every tool but those of the opt-in toolsets (chatgpt)
	for _, entry := range e.Srv.Registry.Entries() {
		if !slices.Contains(tools.OptInToolsets, entry.Toolset) {
			every++
		}
	}
	if len(all) != every || slices.Contains(all, "fetch") {
		t.Errorf("?toolsets=all lists %d tools, want %d", len(all), every)
	}
	if got, _ := names("/mcp?toolsets=all,webhooks"); !slices.Equal(got, all) {
		t.Errorf("all with another toolset lists %d tools, want every one", len(got))
	}
	if got, _ := names("/mcp?read_only=true"); slices.Contains(got, "create_contact") || !slices.Contains(got, "get_contact") {
		t.Errorf("read-only default lists %v", got)
	}

	instructions := func(path string) string {
		cs := testkit.DialMCP(t, e.URL+path, testkit.Bearer{Key: e.Live}, "")
		return cs.InitializeResult().Instructions
	}
	def := instructions("/mcp")
	for _, ts := range e.Srv.Registry.Toolsets() {
		// An opt-in toolset is for a client of its own (ChatGPT's connector), not one to add.
		optIn, offered := slices.Contains(tools.OptInToolsets, ts), strings.Contains(def, ts+" (")
		if optIn && offered {
			t.Errorf("the default's instructions offer the opt-in %s toolset: %s", ts, def)
		} else if !optIn && !offered {
			t.Errorf("the default's instructions do not offer the %s toolset: %s", ts, def)
		}
	}
	if got := instructions("/mcp?toolsets=chatgpt"); !strings.Contains(got, "fetch reads") || strings.Contains(got, "create_") {
		t.Errorf("?toolsets=chatgpt's instructions: %s", got)
	}
	if !strings.Contains(def, "?toolsets=") || !strings.Contains(def, "all") {
		t.Errorf("the instructions do not say how to ask for toolsets: %s", def)
	}
	if got := instructions("/mcp?toolsets=all"); strings.Contains(got, "?toolsets=") {
		t.Errorf("?toolsets=all's instructions offer more toolsets: %s", got)
	}
	if got := instructions("/mcp?toolsets=core,webhooks"); strings.Contains(got, "webhooks (") || !strings.Contains(got, "email (") {
		t.Errorf("?toolsets=core,webhooks's instructions: %s", got)
	}
}
