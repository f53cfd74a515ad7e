package server_test

import (
	"bytes"
	"encoding/json"
	"math/big"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// refusal is one input that both surfaces must refuse alike: the MCP tool with raw JSON
// arguments, and the REST route (path parameters filled in, query included) with a raw
// body, or none.
type refusal struct {
	name         string
	tool, args   string
	method, path string
	body         string
	status       int
	code, param  string
}

// refuse sends every refusal over REST and over MCP, asserting the status (REST), the
// code and the param (both), and that nothing was written.
func (e *env) refuse(t *testing.T, cs *mcp.ClientSession, key string, cases []refusal) {
	t.Helper()
	before := e.written(key)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := e.with(t)
			var body []byte
			if c.body != "" {
				body = []byte(c.body)
			}
			r := e.do(c.method, c.path, key, body)
			if got := errOf(r); r.Status != c.status || got == nil || got["code"] != c.code || paramOf(got) != c.param {
				t.Errorf("REST %s %s: want %d %s on %q, got %d %s", c.method, c.path, c.status, c.code, c.param, r.Status, r.Raw)
			}
			if c.tool == "" {
				return
			}
			res := rawTool(t, cs, c.tool, c.args)
			got, _ := decode(t, text(t, res))["error"].(map[string]any)
			if !res.IsError || got == nil || got["code"] != c.code || paramOf(got) != c.param {
				t.Errorf("MCP %s %s: want %s on %q, got %s", c.tool, c.args, c.code, c.param, text(t, res))
			}
		})
	}
	if after := e.written(key); after != before {
		t.Fatalf("a refused input wrote something:\nbefore %s\nafter  %s", before, after)
	}
}

func paramOf(errBody map[string]any) string {
	p, _ := errBody["param"].(string)
	return p
}

// rawTool calls an MCP tool with arguments given as raw JSON, sent as written (repeated
// keys and escapes included).
func rawTool(t *testing.T, cs *mcp.ClientSession, name, args string) *mcp.CallToolResult {
	t.Helper()
	res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: name, Arguments: json.RawMessage(args)})
	if err != nil {
		t.Fatalf("call %s: %v", name, err)
	}
	return res
}

// decodeExact parses a JSON object keeping numbers as json.Number.
func decodeExact(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("not JSON: %s", raw)
	}
	return m
}

// sameNumber reports whether v is a json.Number equal in value to the literal want.
func sameNumber(v any, want string) bool {
	n, ok := v.(json.Number)
	if !ok {
		return false
	}
	a, okA := new(big.Rat).SetString(string(n))
	b, okB := new(big.Rat).SetString(want)
	return okA && okB && a.Cmp(b) == 0
}
