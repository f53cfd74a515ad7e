package server_test

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

// TestDirectToolCallsMatchSDK: a plain tools/call is answered without the SDK's
// per-request session (server/mcpdirect.go); its response must be the SDK's byte for
// byte. The same call with an empty _meta in its params goes through the SDK, so each pair
// of responses is compared (request ids aside), for results and error results alike, in
// every protocol version the direct path serves.
func TestDirectToolCallsMatchSDK(t *testing.T) {
	t.Parallel()
	e := setup(t)
	id := e.call("POST", "/v1/contacts", e.Live, map[string]any{"email": "ada@example.com", "first_name": "Ada <&> \u2028 \"Lovelace\""}).must(t, 201).Body["id"].(string)
	requestID := regexp.MustCompile(`req_[a-z2-7]{26}`)
	for _, version := range []string{"", "2025-03-26", "2025-06-18", "2025-11-25"} {
		for _, c := range []struct{ id, tool, args string }{
			{`7`, "get_contact", `{"id":"` + id + `"}`},
			{`"call-1"`, "list_contacts", `{"email":"ada@example.com"}`},
			{`8`, "get_contact", `{"id":"con_aaaaaaaaaaaaaaaaaaaaaaaaaa"}`}, // not_found
			{`9`, "list_contacts", `{"limit":"many"}`},                      // validation_failed
			{`10`, "create_contact", `{"email":"ada@example.com"}`},         // already_exists
			{`11`, "search", `{"q":"ada","types":["contact"]}`},             // another tool
			{`12`, "list_contacts", `{"filter":{"nope":{"eq":1}}}`},         // a filter error
			{`13`, "get_schema", ``},                                        // no arguments
		} {
			params := `"name":"` + c.tool + `"`
			if c.args != "" {
				params += `,"arguments":` + c.args
			}
			body := func(extra string) []byte {
				return []byte(`{"jsonrpc":"2.0","id":` + c.id + `,"method":"tools/call","params":{` + params + extra + `}}`)
			}
			header := []string{"Accept", "application/json, text/event-stream"}
			if version != "" {
				header = append(header, "Mcp-Protocol-Version", version)
			}
			direct := e.do("POST", "/mcp", e.Live, body(""), header...)
			viaSDK := e.do("POST", "/mcp", e.Live, body(`,"_meta":{}`), header...)
			got, want := requestID.ReplaceAll(direct.Raw, nil), requestID.ReplaceAll(viaSDK.Raw, nil)
			if direct.Status != viaSDK.Status || !bytes.Equal(got, want) {
				t.Errorf("%s %s (version %q): direct %d\n%s\nSDK %d\n%s", c.tool, c.args, version, direct.Status, got, viaSDK.Status, want)
			}
			for _, h := range []string{"Content-Type", "Cache-Control", "X-Ratelimit-Limit"} {
				if direct.Header.Get(h) != viaSDK.Header.Get(h) || direct.Header.Get(h) == "" {
					t.Errorf("%s (version %q): header %s: direct %q, SDK %q", c.tool, version, h, direct.Header.Get(h), viaSDK.Header.Get(h))
				}
			}
			if !strings.HasPrefix(string(direct.Raw), "event: message\ndata: ") {
				t.Errorf("%s: not one SSE message: %q", c.tool, direct.Raw)
			}
		}
	}
}
