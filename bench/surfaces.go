package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// The surfaces an operation is measured on.
const (
	surfaceREST = "REST"
	surfaceMCP  = "MCP"
	surfaceRaw  = "raw SQL"
)

// client speaks REST and MCP to the server under test with one API key. Its transport
// keeps up to 256 idle connections, so each worker of a closed loop keeps its own.
type client struct {
	base, key string
	http      *http.Client
	ids       atomic.Int64 // JSON-RPC request ids
}

func newClient(base, key string) *client {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     time.Minute,
	}
	return &client{base: base, key: key, http: &http.Client{Transport: tr, Timeout: time.Minute}}
}

func (c *client) close() { c.http.CloseIdleConnections() }

// rest is op over its REST route: the request must answer with the route's status.
func (c *client) rest(op operation) call {
	return func(ctx context.Context, r *rand.Rand) error {
		args := op.args(r)
		method, path, status := op.rest(args)
		var body io.Reader
		if method == "POST" {
			raw, err := json.Marshal(args)
			if err != nil {
				return err
			}
			body = bytes.NewReader(raw)
		}
		req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+c.key)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := c.http.Do(req)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		if res.StatusCode != status {
			raw, _ := io.ReadAll(io.LimitReader(res.Body, 512))
			return fmt.Errorf("%s %s: status %d, want %d: %s", method, path, res.StatusCode, status, raw)
		}
		_, err = io.Copy(io.Discard, res.Body) // read to the end, so the connection is reused
		return err
	}
}

// mcp is op as an MCP tools/call, one JSON-RPC POST to /mcp without a session (the server
// is stateless): the answer must be a result that is not an error.
func (c *client) mcp(op operation) call {
	return func(ctx context.Context, r *rand.Rand) error {
		raw, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": c.ids.Add(1), "method": "tools/call",
			"params": map[string]any{"name": op.tool, "arguments": op.args(r)}})
		if err != nil {
			return err
		}
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
	req, err := http.NewRequestWithContext(ctx, "POST", c.base+path, bytes.NewReader(msg))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", protocol)
	res, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	body, err = io.ReadAll(res.Body)
	return res.StatusCode, body, err
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
