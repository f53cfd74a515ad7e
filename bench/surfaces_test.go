package bench

import (
	"strings"
	"testing"
)

// TestMCPOutcome: a tool result passes, whether it comes as JSON or as server-sent events;
// a JSON-RPC error, a tool error and an unreadable answer each fail, saying what came.
func TestMCPOutcome(t *testing.T) {
	for _, c := range []struct {
		body, err string
	}{
		{`{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"{}"}]}}`, ""},
		{"event: message\nid: 1\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"content\":[]}}\n\n", ""},
		{`{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"unknown tool"}}`, "unknown tool"},
		{"data: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"isError\":true,\"content\":[{\"type\":\"text\",\"text\":\"not_found\"}]}}\n\n", "not_found"},
		{`{"jsonrpc":"2.0","id":1}`, "no result"},
		{"<html>", "unreadable"},
	} {
		err := mcpOutcome("get_contact", []byte(c.body))
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%q: %v", c.body, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%q: got %v, want an error with %q", c.body, err, c.err)
		}
	}
}

func TestNumbers(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 20000: "20,000", 1_000_000: "1,000,000"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q", n, got)
		}
	}
	if ratio(1, 0) != 0 || ratio(3, 2) != 1.5 {
		t.Error("ratio")
	}
}
