package bench

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
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
		if c.err != "" && answered([]byte(c.body)) {
			t.Errorf("%q passes the byte check", c.body)
		}
		err := mcpOutcome("get_contact", []byte(c.body))
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%q: %v", c.body, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%q: got %v, want an error with %q", c.body, err, c.err)
		}
	}
}

// TestListTools: the tool list size is read from the answer to an authenticated tools/list
// POST of the selection asked for; a refusal says what came.
func TestListTools(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer sk_x" || r.URL.Query().Get("toolsets") == "nope" {
			http.Error(w, `{"error":{"code":"bad_request"}}`, http.StatusBadRequest)
			return
		}
		fmt.Fprint(w, "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"tools\":[{\"name\":\"a\"},{\"name\":\"b\"}]}}\n\n")
	}))
	defer srv.Close()
	c := newClient(srv.URL, "sk_x")
	defer c.close()
	n, size, err := c.listTools(t.Context(), "core")
	if err != nil || n != 2 || size != len(`{"tools":[{"name":"a"},{"name":"b"}]}`) {
		t.Errorf("listTools: %d tools, %d bytes, %v", n, size, err)
	}
	if _, _, err := c.listTools(t.Context(), "nope"); err == nil || !strings.Contains(err.Error(), "status 400") {
		t.Errorf("a refusal: %v", err)
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

// TestMerge: two runs of a cell are one result: their requests, time and CPU added, their
// percentiles read from every latency of both.
func TestMerge(t *testing.T) {
	a := result{requests: 3, elapsed: time.Second, times: millis(1, 2, 3), cpu: cpuUse{gen: 10, server: 20, pg: -1}}
	b := result{requests: 2, elapsed: time.Second, times: millis(9, 10), cpu: cpuUse{gen: 1, server: 2, pg: 3}}
	m := merge(a, b)
	if m.requests != 5 || m.elapsed != 2*time.Second || m.throughput() != 2.5 || m.p50 != 3*time.Millisecond || m.p99 != 10*time.Millisecond {
		t.Errorf("merge: %+v", m)
	}
	if m.cpu != (cpuUse{gen: 11, server: 22, pg: -1}) {
		t.Errorf("merged CPU %+v: an unknown half makes the whole unknown", m.cpu)
	}
}

// TestOperationTools: the tools --ops takes are the operations' tools, in order.
func TestOperationTools(t *testing.T) {
	var got []string
	for _, op := range (&bench{}).operations() {
		got = append(got, op.tool)
	}
	if !slices.Equal(got, OperationTools) {
		t.Errorf("operations' tools %v, OperationTools %v", got, OperationTools)
	}
}
