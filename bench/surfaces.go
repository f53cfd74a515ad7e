package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync/atomic"
)

// The surfaces an operation is measured on.
const (
	surfaceREST = "REST"
	surfaceMCP  = "MCP"
	surfaceRaw  = "raw SQL"
	surfaceBare = "bare HTTP" // the least a server could do: ServeBare
	// surfaceInProcess is the capability called in this process, as REST and MCP call it but
	// without HTTP: Relm's own work on the database and in Go, without the hop to a server.
	surfaceInProcess = "in process"
)

// client speaks REST and MCP to the server under test with one API key, over keep-alive
// connections (httpConns): each worker of a closed loop keeps its own.
type client struct {
	conns *httpConns
	auth  string       // the Authorization header line
	ids   atomic.Int64 // JSON-RPC request ids
}

// newClient is a client of the server at base (http://host:port) with API key key.
func newClient(base, key string) *client {
	return &client{conns: newHTTPConns(strings.TrimPrefix(base, "http://")), auth: "Authorization: Bearer " + key + "\r\n"}
}

func (c *client) close() { c.conns.close() }

// rest is op over its REST route: the request must answer with the route's status.
func (c *client) rest(op operation) call {
	return func(ctx context.Context, r *rand.Rand) error {
		args := op.args(r)
		method, path, status := op.rest(args)
		headers := c.auth
		var body []byte
		if method == "POST" {
			var err error
			if body, err = json.Marshal(args); err != nil {
				return err
			}
			headers += "Content-Type: application/json\r\n"
		}
		return c.send(ctx, method, path, headers, body, status)
	}
}

// send makes one request whose answer must have status want.
func (c *client) send(ctx context.Context, method, path, headers string, body []byte, want int) error {
	a, err := c.conns.do(ctx, method, path, headers, body, want, false)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if a.status != want {
		return fmt.Errorf("%s %s: status %d, want %d: %.512s", method, path, a.status, want, a.body)
	}
	return nil
}

// mcp is op as an MCP tools/call, one JSON-RPC POST to /mcp without a session (the server
// is stateless): the answer must be a result that is not an error.
func (c *client) mcp(op operation) call {
	return func(ctx context.Context, r *rand.Rand) error {
		args, err := json.Marshal(op.args(r)) // as REST's POST encodes them; the envelope around them is fixed
		if err != nil {
			return err
		}
		raw := fmt.Appendf(nil, `{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":%q,"arguments":%s}}`, c.ids.Add(1), op.tool, args)
		status, body, err := c.postMCP(ctx, "/mcp?toolsets=all", "2025-06-18", raw)
		if err != nil {
			return err
		}
		if status != http.StatusOK {
			return fmt.Errorf("MCP %s: status %d: %.512s", op.tool, status, body)
		}
		if answered(body) {
			return nil
		}
		return mcpOutcome(op.tool, body)
	}
}

// postMCP posts one JSON-RPC message to path (/mcp and its query) in protocol version
// protocol, and reads the whole answer.
func (c *client) postMCP(ctx context.Context, path, protocol string, msg []byte) (status int, body []byte, err error) {
	headers := c.auth + "Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\nMCP-Protocol-Version: " + protocol + "\r\n"
	a, err := c.conns.do(ctx, "POST", path, headers, msg, http.StatusOK, true)
	if err != nil {
		return 0, nil, fmt.Errorf("POST %s: %w", path, err)
	}
	return a.status, a.body, nil
}

// answered reports, without decoding, that an MCP answer is a tool result that is not an
// error, as REST's check reads only the status: a result, and no isError. Anything else,
// or a record that happens to hold those words, is decoded by mcpOutcome, which names the
// error or passes the result.
func answered(body []byte) bool {
	return bytes.Contains(body, []byte(`"result":{`)) && !bytes.Contains(body, []byte(`"isError":true`))
}

// mcpOutcome checks that an MCP answer, JSON or server-sent events, holds a tool result that
// is not an error.
func mcpOutcome(tool string, body []byte) error {
	msg := body
	if !bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) { // text/event-stream: the data lines
		var data []string
		for _, line := range strings.Split(string(body), "\n") {
			if rest, ok := strings.CutPrefix(line, "data:"); ok {
				data = append(data, strings.TrimSpace(rest))
			}
		}
		msg = []byte(strings.Join(data, "\n"))
	}
	var rpc struct {
		Error *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
		Result *struct {
			IsError bool `json:"isError"`
			Content []struct {
				Text string `json:"text"`
			} `json:"content"`
		} `json:"result"`
	}
	if err := json.Unmarshal(msg, &rpc); err != nil {
		return fmt.Errorf("MCP %s: unreadable answer (%v): %.512s", tool, err, body)
	}
	switch {
	case rpc.Error != nil:
		return fmt.Errorf("MCP %s: JSON-RPC error %d: %s", tool, rpc.Error.Code, rpc.Error.Message)
	case rpc.Result == nil:
		return fmt.Errorf("MCP %s: no result: %.512s", tool, body)
	case rpc.Result.IsError:
		text := ""
		if len(rpc.Result.Content) > 0 {
			text = rpc.Result.Content[0].Text
		}
		return fmt.Errorf("MCP %s: tool error: %.512s", tool, text)
	}
	return nil
}
