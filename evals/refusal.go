package evals

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// explainRefusals is the client transport of replays: a request the server refuses with a
// Relm error body (a 4xx such as an unknown toolset in the endpoint's query) fails with the
// server's message, which the MCP client would otherwise reduce to the status. Other
// responses, JSON-RPC errors included, pass through untouched.
type explainRefusals struct{ next http.RoundTripper }

func (e explainRefusals) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := e.next.RoundTrip(r)
	if err != nil || res.StatusCode < 400 || res.StatusCode >= 500 || res.StatusCode == http.StatusNotFound {
		return res, err // 404 tells the MCP client that a session expired
	}
	body, readErr := io.ReadAll(res.Body) // a 4xx body is small
	res.Body.Close()
	var refusal struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if readErr == nil && json.Unmarshal(body, &refusal) == nil && refusal.Error.Code != "" && refusal.Error.Message != "" {
		return nil, fmt.Errorf("%s: %s (%s)", res.Status, refusal.Error.Message, refusal.Error.Code)
	}
	res.Body = io.NopCloser(bytes.NewReader(body)) // a JSON-RPC error: the MCP client's to read
	return res, readErr
}
