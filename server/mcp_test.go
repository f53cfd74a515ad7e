package server_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Protocol versions the server must serve end to end: the reference's, and whatever the
// SDK's client negotiates by default (the newest).
var protocols = []string{"2025-06-18", "2025-11-25", ""}

func TestMCPSession(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for _, proto := range protocols {
		t.Run("protocol="+proto, func(t *testing.T) {
			e := e.with(t)
			cs := e.mcpSession(e.Live, proto)
			if init := cs.InitializeResult(); init != nil {
				if proto != "" && init.ProtocolVersion != proto {
					t.Fatalf("negotiated %s, want %s", init.ProtocolVersion, proto)
				}
				if !strings.Contains(init.Instructions, "list_contacts") {
					t.Fatalf("instructions missing: %q", init.Instructions)
				}
			}
			tools, err := cs.ListTools(t.Context(), nil)
			if err != nil {
				t.Fatal(err)
			}
			names := map[string]*mcp.Tool{}
			for _, tl := range tools.Tools {
				names[tl.Name] = tl
			}
			for _, want := range []string{"create_contact", "get_contact", "update_contact", "list_contacts", "delete_contact"} {
				tl := names[want]
				if tl == nil || tl.InputSchema == nil || tl.OutputSchema == nil || tl.Annotations == nil {
					t.Fatalf("tool %s missing or incomplete: %+v", want, tl)
				}
			}

			email := "mcp" + strings.ReplaceAll(proto, "-", "") + "@example.com"
			res := tool(t, cs, "create_contact", map[string]any{"email": email, "first_name": "Mia"})
			if res.IsError {
				t.Fatalf("create failed: %s", text(t, res))
			}
			structured, _ := json.Marshal(res.StructuredContent)
			if !jsonEqual(t, structured, []byte(text(t, res))) {
				t.Fatalf("structuredContent %s differs from text %s", structured, text(t, res))
			}
			c := decode(t, text(t, res))
			id := c["id"].(string)

			// The same record through REST is the same JSON.
			rest := e.call("GET", "/v1/contacts/"+id, e.Live, nil).must(t, http.StatusOK)
			got := tool(t, cs, "get_contact", map[string]any{"id": id})
			if !jsonEqual(t, rest.Raw, []byte(text(t, got))) {
				t.Fatalf("REST %s != MCP %s", rest.Raw, text(t, got))
			}

			up := decode(t, text(t, tool(t, cs, "update_contact", map[string]any{"id": id, "first_name": nil, "phone": "+1 555"})))
			if up["first_name"] != nil || up["phone"] != "+1 555" || up["email"] != email {
				t.Fatalf("update: %v", up)
			}
			list := decode(t, text(t, tool(t, cs, "list_contacts", map[string]any{"email": strings.ToUpper(email)})))
			if data := list["data"].([]any); len(data) != 1 || data[0].(map[string]any)["id"] != id {
				t.Fatalf("list: %v", list)
			}
			del := decode(t, text(t, tool(t, cs, "delete_contact", map[string]any{"id": id})))
			if del["deleted"] != true {
				t.Fatalf("delete: %v", del)
			}
			miss := tool(t, cs, "get_contact", map[string]any{"id": id})
			if !miss.IsError || miss.StructuredContent != nil {
				t.Fatalf("missing contact should be isError without structuredContent: %+v", miss)
			}
			if code := decode(t, text(t, miss))["error"].(map[string]any)["code"]; code != "not_found" {
				t.Fatalf("code = %v", code)
			}
		})
	}
}

// TestSurfacesAgree sends the same inputs through MCP and REST and requires the same
// outcome: same error code, message, param and details (request ids aside).
func TestSurfacesAgree(t *testing.T) {
	t.Parallel()
	e := setup(t)
	cs := e.mcpSession(e.Live, "2025-06-18")
	existing := e.call("POST", "/v1/contacts", e.Live, map[string]any{"email": "taken@example.com"}).must(t, http.StatusCreated).Body
	id := existing["id"].(string)
	cases := []struct {
		tool, method, path string
		args               map[string]any // for REST: path parameters are removed from the body
	}{
		{"create_contact", "POST", "/v1/contacts", map[string]any{"email": 42}},
		{"create_contact", "POST", "/v1/contacts", map[string]any{"email": "nope", "extra": 1, "first_name": strings.Repeat("x", 300)}},
		{"create_contact", "POST", "/v1/contacts", map[string]any{}},
		{"create_contact", "POST", "/v1/contacts", map[string]any{"email": "TAKEN@example.com"}},
		{"update_contact", "PATCH", "/v1/contacts/" + id, map[string]any{"id": id, "metadata": []any{1}}},
		{"update_contact", "PATCH", "/v1/contacts/con_aaaaaaaaaaaaaaaaaaaaaaaaaa", map[string]any{"id": "con_aaaaaaaaaaaaaaaaaaaaaaaaaa", "phone": "1"}},
		{"list_contacts", "GET", "/v1/contacts?limit=0", map[string]any{"limit": 0}},
		{"list_contacts", "GET", "/v1/contacts?cursor=abc", map[string]any{"cursor": "abc"}},
	}
	for _, c := range cases {
		res := tool(t, cs, c.tool, c.args)
		if !res.IsError || res.StructuredContent != nil {
			t.Fatalf("%s %v: want isError without structuredContent, got %+v", c.tool, c.args, res)
		}
		body := map[string]any{}
		for k, v := range c.args {
			if k != "id" {
				body[k] = v
			}
		}
		if c.method == "GET" {
			body = nil
		}
		r := e.call(c.method, c.path, e.Live, body)
		mcpErr := decode(t, text(t, res))["error"].(map[string]any)
		restErr := r.Body["error"].(map[string]any)
		if r.Status < 400 || mcpErr["request_id"] == "" {
			t.Fatalf("%s: REST %d, MCP request id %v", c.tool, r.Status, mcpErr["request_id"])
		}
		delete(mcpErr, "request_id")
		delete(restErr, "request_id")
		if !reflect.DeepEqual(mcpErr, restErr) {
			t.Fatalf("%s %v:\nMCP  %v\nREST %v", c.tool, c.args, mcpErr, restErr)
		}
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("not JSON: %s", a)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("not JSON: %s", b)
	}
	return reflect.DeepEqual(x, y)
}
