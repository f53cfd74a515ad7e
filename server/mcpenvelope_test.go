package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/relmcrm/relm/server"
)

// rpcError decodes a JSON-RPC error response, failing unless r is one.
func rpcError(t *testing.T, r resp) (code float64, id any) {
	t.Helper()
	var body struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Error   *struct {
			Code    float64 `json:"code"`
			Message string  `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(r.Raw, &body); err != nil || body.JSONRPC != "2.0" || body.Error == nil || body.Error.Message == "" ||
		len(body.ID) == 0 || r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("not a JSON-RPC error response (%d %s): %s", r.Status, r.Header.Get("Content-Type"), r.Raw)
	}
	_ = json.Unmarshal(body.ID, &id)
	return body.Error.Code, id
}

// TestMCPBatchesAreRefused: a JSON-RPC batch is answered with one JSON-RPC error, in every
// protocol version; none of its calls runs and none is metered or logged.
func TestMCPBatchesAreRefused(t *testing.T) {
	t.Parallel()
	e := setupWith(t, limits(server.Limits{RateLimit: 50, RateWindow: longWindow}))
	batch := `[` + toolCall("create_contact", `{"email":"a@example.com"}`) + `,` +
		strings.Replace(toolCall("create_contact", `{"email":"b@example.com"}`), `"id":7`, `"id":8`, 1) + `,` +
		strings.Replace(toolCall("create_contact", `{"email":"c@example.com"}`), `"id":7`, `"id":9`, 1) + `]`
	for _, version := range []string{"", "2025-03-26", "2025-06-18", "2025-11-25"} {
		header := []string{"Accept", "application/json, text/event-stream"}
		if version != "" {
			header = append(header, "Mcp-Protocol-Version", version)
		}
		r := e.do("POST", "/mcp", e.Live, []byte(batch), header...)
		if code, id := rpcError(t, r); r.Status != http.StatusBadRequest || code != -32600 || id != nil {
			t.Fatalf("batch (version %q): %d %s", version, r.Status, r.Raw)
		}
	}
	if n := countContacts(e, e.Test); n != 0 {
		t.Fatal("test mode changed")
	}
	if n := countContacts(e, e.Live); n != 0 {
		t.Fatalf("%d contacts written by refused batches", n)
	}
	win, err := e.peekWindow(e.Live)
	if err != nil || win.Count != 1 { // the count above, nothing else
		t.Fatalf("refused batches were metered: %+v %v", win, err)
	}
	if got := e.logs(e.Live, "surface=mcp"); len(got) != 0 {
		t.Fatalf("refused batches logged: %v", got)
	}
}

// TestMCPProtocolErrorsAreJSONRPC: what the JSON-RPC layer refuses is a JSON-RPC error
// object, never plain text, and is not metered.
func TestMCPProtocolErrorsAreJSONRPC(t *testing.T) {
	t.Parallel()
	e := setupWith(t, limits(server.Limits{RateLimit: 50, RateWindow: longWindow}))
	for _, c := range []struct {
		name, body string
		status     int
		code       float64
		id         any
	}{
		{"not JSON", `{"jsonrpc":`, 400, -32700, nil},
		{"empty", ``, 400, -32700, nil},
		{"a string", `"initialize"`, 400, -32600, nil},
		{"wrong version", `{"jsonrpc":"1.0","id":1,"method":"tools/list"}`, 400, -32600, nil},
		{"no version", `{"id":1,"method":"tools/list"}`, 400, -32600, nil},
		{"no method", `{"jsonrpc":"2.0","params":{}}`, 400, -32600, nil},
		{"empty method", `{"jsonrpc":"2.0","id":3,"method":""}`, 400, -32600, 3.0},
		{"object id", `{"jsonrpc":"2.0","id":{},"method":"tools/list"}`, 400, -32600, nil},
		{"unknown method", `{"jsonrpc":"2.0","id":4,"method":"tools/destroy"}`, 404, -32601, 4.0},
		{"string id", `{"jsonrpc":"2.0","id":"x","method":"no/such"}`, 404, -32601, "x"},
	} {
		r := e.rpc(e.Live, c.body)
		code, id := rpcError(t, r)
		if r.Status != c.status || code != c.code || id != c.id {
			t.Errorf("%s: %d %s", c.name, r.Status, r.Raw)
		}
	}
	// A notification of an unknown method needs no answer: accepted, nothing done.
	if r := e.rpc(e.Live, `{"jsonrpc":"2.0","method":"no/such"}`); r.Status != http.StatusAccepted || len(r.Raw) != 0 {
		t.Fatalf("unknown notification: %d %s", r.Status, r.Raw)
	}
	win, err := e.peekWindow(e.Live)
	if err != nil || win.Count != 0 {
		t.Fatalf("refused messages were metered: %+v %v", win, err)
	}
}

// TestMCPUnknownToolNamesAreLogged: a made-up tool name with a NUL or of any length is
// logged, cleaned, rather than failing the log.
func TestMCPUnknownToolNamesAreLogged(t *testing.T) {
	t.Parallel()
	e := setup(t)
	name := "evil\u0000" + strings.Repeat("n", 300)
	req, _ := http.NewRequest("POST", e.URL+"/mcp", strings.NewReader(toolCall(strings.ReplaceAll(name, "\u0000", `\u0000`), `{}`)))
	for k, v := range map[string]string{"Authorization": "Bearer " + e.Live, "Content-Type": "application/json", "Accept": "application/json, text/event-stream"} {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	got := e.waitLogs(e.Live, "surface=mcp", 1)
	if tool, _ := got[0]["tool"].(string); len(tool) != 100 || strings.ContainsRune(tool, 0) || got[0]["error_code"] != "not_found" {
		t.Fatalf("log of an unknown tool: %v", got[0])
	}
}
