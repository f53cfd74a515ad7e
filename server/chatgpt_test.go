package server_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/relmcrm/relm/internal/testkit"
	"github.com/relmcrm/relm/server"
)

// chatgptPublicURL is the public URL of the servers these tests start: the links in
// results are built on it, path prefix included.
const chatgptPublicURL = "https://crm.example.com/relm"

func setupChatGPT(t *testing.T) *env {
	t.Helper()
	return setupWith(t, func(c *server.Config) { c.PublicURL = chatgptPublicURL })
}

// chatgptSession is an MCP session as ChatGPT's connector opens it: /mcp?toolsets=chatgpt.
func chatgptSession(e *env, key string) *mcp.ClientSession {
	e.t.Helper()
	return testkit.DialMCP(e.t, e.URL+"/mcp?toolsets=chatgpt", testkit.Bearer{Key: key}, "")
}

// chatgptCall calls a tool as ChatGPT does and returns the JSON of its one text item, after
// checking the result has that one item and the same JSON as structuredContent.
func chatgptCall(t *testing.T, cs *mcp.ClientSession, name string, args map[string]any) (map[string]any, bool) {
	t.Helper()
	res := tool(t, cs, name, args)
	if len(res.Content) != 1 {
		t.Fatalf("%s: %d content items, want exactly one", name, len(res.Content))
	}
	tc, ok := res.Content[0].(*mcp.TextContent)
	if !ok {
		t.Fatalf("%s: content %T, want text", name, res.Content[0])
	}
	body := decode(t, tc.Text)
	if !res.IsError && toJSON(res.StructuredContent) != toJSON(body) {
		t.Fatalf("%s: structuredContent %s differs from the text %s", name, toJSON(res.StructuredContent), tc.Text)
	}
	return body, res.IsError
}

// TestChatGPTTools: with ?toolsets=chatgpt, tools/list is exactly search and fetch with the
// shapes ChatGPT documents; search finds records of every kind with links to their pages,
// fetch reads each kind as text, and REST answers the same.
func TestChatGPTTools(t *testing.T) {
	t.Parallel()
	e := setupChatGPT(t)
	company := e.create("companies", e.Live, map[string]any{"name": "Analytical Engines", "domain": "analytical-engines.org",
		"metadata": map[string]any{"tier": "gold"}})
	contact := e.create("contacts", e.Live, map[string]any{"first_name": "Ada", "last_name": "Lovelace", "email": "ada@analytical-engines.org",
		"company_id": company})
	deal := e.create("deals", e.Live, map[string]any{"title": "Engines rollout", "value_cents": 120000, "company_id": company})
	activity := e.create("activities", e.Live, map[string]any{"type": "call", "subject": "Engines kickoff", "body": "Talked numbers.", "deal_id": deal})
	cs := chatgptSession(e, e.Live)

	list, err := cs.ListTools(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	schemas := map[string]string{}
	for _, tl := range list.Tools {
		schemas[tl.Name] = toJSON(tl.InputSchema)
		if !tl.Annotations.ReadOnlyHint {
			t.Errorf("%s is not read-only", tl.Name)
		}
	}
	if len(schemas) != 2 || schemas["search"] == "" || schemas["fetch"] == "" {
		t.Fatalf("tools %v, want exactly search and fetch", schemas)
	}
	for name, arg := range map[string]string{"search": "query", "fetch": "id"} {
		var s struct {
			Type       string                    `json:"type"`
			Properties map[string]map[string]any `json:"properties"`
			Required   []string                  `json:"required"`
		}
		if err := json.Unmarshal([]byte(schemas[name]), &s); err != nil {
			t.Fatal(err)
		}
		if s.Type != "object" || len(s.Properties) != 1 || s.Properties[arg]["type"] != "string" || !slices.Equal(s.Required, []string{arg}) {
			t.Errorf("%s takes %s, want {%s: string}", name, schemas[name], arg)
		}
	}

	page := func(kind, id string) string { return chatgptPublicURL + "/" + kind + "/" + id }
	got, isErr := chatgptCall(t, cs, "search", map[string]any{"query": "ada lov"})
	if isErr || toJSON(got) != toJSON(map[string]any{"results": []any{map[string]any{"id": contact, "title": "Ada Lovelace", "url": page("contacts", contact)}}}) {
		t.Fatalf("search ada lov: %v", got)
	}
	got, _ = chatgptCall(t, cs, "search", map[string]any{"query": "engines"})
	want := map[string]string{company: page("companies", company), deal: page("deals", deal), activity: page("activities", activity), contact: page("contacts", contact)}
	results := got["results"].([]any)
	for _, r := range results {
		r := r.(map[string]any)
		if want[r["id"].(string)] != r["url"] || r["title"] == "" || len(r) != 3 {
			t.Errorf("search engines: %v", r)
		}
		delete(want, r["id"].(string))
	}
	if len(want) != 0 {
		t.Errorf("search engines missed %v: %v", want, got)
	}
	rest := e.call("GET", "/v1/chatgpt/search?query=engines", e.Live, nil).must(t, http.StatusOK)
	if toJSON(rest.Body) != toJSON(got) {
		t.Errorf("REST search %s, MCP %s", rest.Raw, toJSON(got))
	}
	if got, _ := chatgptCall(t, cs, "search", map[string]any{"query": "nobody"}); toJSON(got) != `{"results":[]}` {
		t.Errorf("search nobody: %v", got)
	}
	// A question, as deep research asks: no record has every word, so any word that says
	// something matches, best first; a question of nothing but such words finds nothing.
	got, _ = chatgptCall(t, cs, "search", map[string]any{"query": "Who is Ada Lovelace?"})
	if results := got["results"].([]any); len(results) == 0 || results[0].(map[string]any)["id"] != contact {
		t.Errorf("search for a question: %v", got)
	}
	got, _ = chatgptCall(t, cs, "search", map[string]any{"query": "what is the rollout about"})
	if results := got["results"].([]any); len(results) != 1 || results[0].(map[string]any)["id"] != deal {
		t.Errorf("search for a question about the deal: %v", got)
	}
	if got, _ := chatgptCall(t, cs, "search", map[string]any{"query": "who are you?"}); toJSON(got) != `{"results":[]}` {
		t.Errorf("search for a question of no words: %v", got)
	}

	for _, c := range []struct {
		id, kind, page, title string
		lines                 []string
	}{
		{contact, "contact", "contacts", "Ada Lovelace", []string{"Contact: Ada Lovelace", "email: ada@analytical-engines.org", "company_id: " + company}},
		{company, "company", "companies", "Analytical Engines", []string{"Company: Analytical Engines", "domain: analytical-engines.org", "metadata.tier: gold"}},
		{deal, "deal", "deals", "Engines rollout", []string{"Deal: Engines rollout", "value_cents: 120000", "stage: lead"}},
		{activity, "activity", "activities", "Engines kickoff", []string{"Activity: Engines kickoff", "type: call", "body: Talked numbers.", "deal_id: " + deal}},
	} {
		doc, isErr := chatgptCall(t, cs, "fetch", map[string]any{"id": c.id})
		text, _ := doc["text"].(string)
		meta, _ := doc["metadata"].(map[string]any)
		if isErr || doc["id"] != c.id || doc["title"] != c.title || doc["url"] != page(c.page, c.id) || meta["kind"] != c.kind || meta["created_at"] == nil {
			t.Errorf("fetch %s: %v", c.kind, doc)
		}
		for _, line := range c.lines {
			if !slices.Contains(strings.Split(text, "\n"), line) {
				t.Errorf("fetch %s: text lacks %q:\n%s", c.kind, line, text)
			}
		}
		if strings.Contains(text, "null") {
			t.Errorf("fetch %s: text shows null fields:\n%s", c.kind, text)
		}
		rest := e.call("GET", "/v1/chatgpt/fetch/"+c.id, e.Live, nil).must(t, http.StatusOK)
		if toJSON(rest.Body) != toJSON(doc) {
			t.Errorf("REST fetch %s, MCP %s", rest.Raw, toJSON(doc))
		}
	}
}

// TestChatGPTToolsRefusals: a missing record is not_found, a malformed id or a blank query
// validation_failed, on both surfaces.
func TestChatGPTToolsRefusals(t *testing.T) {
	t.Parallel()
	e := setupChatGPT(t)
	cs := chatgptSession(e, e.Live)
	missing := "deal_" + strings.Repeat("a", 26)
	body, isErr := chatgptCall(t, cs, "fetch", map[string]any{"id": missing})
	if err, _ := body["error"].(map[string]any); !isErr || err["code"] != "not_found" || err["param"] != "id" || !strings.Contains(err["message"].(string), "deal") {
		t.Errorf("fetch of a missing deal: %v", body)
	}
	expectError(t, e.call("GET", "/v1/chatgpt/fetch/"+missing, e.Live, nil), http.StatusNotFound, "not_found", "id")
	for _, bad := range []string{"xyz", "evt_" + strings.Repeat("a", 26)} {
		body, isErr := chatgptCall(t, cs, "fetch", map[string]any{"id": bad})
		if err, _ := body["error"].(map[string]any); !isErr || err["code"] != "validation_failed" {
			t.Errorf("fetch %s: %v", bad, body)
		}
		if r := e.call("GET", "/v1/chatgpt/fetch/"+bad, e.Live, nil); r.Status < 400 || r.Status >= 500 {
			t.Errorf("REST fetch %s: %d %s", bad, r.Status, r.Raw)
		}
	}
	body, isErr = chatgptCall(t, cs, "search", map[string]any{"query": ""})
	if err, _ := body["error"].(map[string]any); !isErr || err["code"] != "validation_failed" {
		t.Errorf("search of nothing: %v", body)
	}
	expectError(t, e.call("GET", "/v1/chatgpt/search", e.Live, nil), http.StatusUnprocessableEntity, "validation_failed", "")
}

// TestChatGPTToolsetSelection: chatgpt is opt-in (all and the default leave it out), it
// combines with toolsets that have no tool of its names, and beside core, search or all,
// which serve Relm's own search, the connection is refused with 400 naming the clash.
func TestChatGPTToolsetSelection(t *testing.T) {
	t.Parallel()
	e := setupChatGPT(t)
	for _, toolsets := range []string{"chatgpt,search", "search,chatgpt", "chatgpt,core", "chatgpt,all", "chatgpt,contacts,core"} {
		r := e.do("POST", "/mcp?toolsets="+url.QueryEscape(toolsets), e.Live, []byte(initBody), "Accept", "application/json, text/event-stream")
		body := expectErrorOf(t, toolsets, r, http.StatusBadRequest, "bad_request", "toolsets")
		if msg, _ := body["message"].(string); !strings.Contains(msg, "two tools named search") || !strings.Contains(msg, "chatgpt_search") {
			t.Errorf("%s: %s", toolsets, r.Raw)
		}
	}
	for path, want := range map[string][]string{
		"/mcp?toolsets=chatgpt,contacts&read_only=true": {"fetch", "get_contact", "list_contacts", "search"},
		"/mcp?toolsets=chatgpt&read_only=true":          {"fetch", "search"},
	} {
		names := listed(e, path)
		slices.Sort(names)
		if !slices.Equal(names, want) {
			t.Errorf("%s lists %v, want %v", path, names, want)
		}
	}
	for _, path := range []string{"/mcp", "/mcp?toolsets=all", "/mcp?toolsets=search"} {
		names := listed(e, path)
		if slices.Contains(names, "fetch") || slices.Contains(names, "chatgpt_search") {
			t.Errorf("%s lists the chatgpt tools: %v", path, names)
		}
		// The search it serves is Relm's own.
		r := e.do("POST", path, e.Live, []byte(toolCall("search", `{"q":"x"}`)), "Accept", "application/json, text/event-stream")
		if !strings.Contains(string(r.Raw), `\"object\":\"list\"`) {
			t.Errorf("search at %s: %s", path, r.Raw)
		}
	}
	r := e.rpc(e.Live, toolCall("fetch", `{"id":"con_`+strings.Repeat("a", 26)+`"}`))
	if !strings.Contains(string(r.Raw), "unknown tool") {
		t.Errorf("fetch at ?toolsets=all: %s", r.Raw)
	}

	// A plain tools/call (answered without the SDK's session) finds the tools by the names
	// the connection serves, and the request log names them as the registry does.
	chatgpt := func(body string) resp {
		return e.do("POST", "/mcp?toolsets=chatgpt", e.Live, []byte(body), "Accept", "application/json, text/event-stream")
	}
	if r := chatgpt(toolCall("search", `{"query":"nobody"}`)); !strings.Contains(string(r.Raw), `"structuredContent":{"results":[]}`) {
		t.Errorf("tools/call search at ?toolsets=chatgpt: %s", r.Raw)
	}
	if r := chatgpt(toolCall("fetch", `{"id":"cmp_`+strings.Repeat("a", 26)+`"}`)); !strings.Contains(string(r.Raw), `not_found`) {
		t.Errorf("tools/call fetch at ?toolsets=chatgpt: %s", r.Raw)
	}
	for tool, status := range map[string]float64{"chatgpt_search": 200, "chatgpt_fetch": 404} {
		logs := e.logs(e.Live, "surface=mcp&tool="+tool)
		if len(logs) != 1 || logs[0]["status"] != status {
			t.Errorf("request logs of %s: %v", tool, logs)
		}
	}
}

// listed are the names of the tools path lists.
func listed(e *env, path string) []string {
	e.t.Helper()
	list, _ := listedTools(e, path)
	names := make([]string, len(list))
	for i, tool := range list {
		names[i] = tool.Name
	}
	return names
}

// TestChatGPTToolsIsolation: another workspace's key, and the other mode's, find nothing
// of the workspace's and fetch none of it; a key scoped to other toolsets is refused.
func TestChatGPTToolsIsolation(t *testing.T) {
	t.Parallel()
	e := setupChatGPT(t)
	contact := e.create("contacts", e.Live, map[string]any{"first_name": "Ada", "last_name": "Lovelace"})
	for _, key := range []string{e.Other, e.Test} {
		cs := chatgptSession(e, key)
		if got, _ := chatgptCall(t, cs, "search", map[string]any{"query": "ada"}); toJSON(got) != `{"results":[]}` {
			t.Errorf("another tenant's search: %v", got)
		}
		body, _ := chatgptCall(t, cs, "fetch", map[string]any{"id": contact})
		if err, _ := body["error"].(map[string]any); err["code"] != "not_found" {
			t.Errorf("another tenant's fetch: %v", body)
		}
		expectError(t, e.call("GET", "/v1/chatgpt/fetch/"+contact, key, nil), http.StatusNotFound, "not_found", "id")
	}
	scoped := e.call("POST", "/v1/api_keys", e.Live, map[string]any{"scopes": []string{"contacts:read"}}).must(t, http.StatusCreated).Body["secret"].(string)
	body, _ := chatgptCall(t, chatgptSession(e, scoped), "fetch", map[string]any{"id": contact})
	if err, _ := body["error"].(map[string]any); err["code"] != "insufficient_scope" || !strings.Contains(err["message"].(string), "chatgpt:read") {
		t.Errorf("a key without chatgpt:read: %v", body)
	}
	reader := e.call("POST", "/v1/api_keys", e.Live, map[string]any{"scopes": []string{"chatgpt:read"}}).must(t, http.StatusCreated).Body["secret"].(string)
	if got, _ := chatgptCall(t, chatgptSession(e, reader), "search", map[string]any{"query": "ada"}); len(got["results"].([]any)) != 1 {
		t.Errorf("a key with chatgpt:read: %v", got)
	}
}
