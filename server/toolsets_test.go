package server_test

import (
	"slices"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/relmcrm/relm/internal/testkit"
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
