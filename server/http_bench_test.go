package server_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/relmcrm/relm/server"
)

// unlimited lifts the rate limits and quotas so a benchmark measures the work, not refusals.
func unlimited(cfg *server.Config) {
	cfg.Limits = server.Limits{RateLimit: 1 << 30, WorkspaceRateLimit: 1 << 30, QuotaFree: 1 << 40, QuotaTeam: 1 << 40}
}

// BenchmarkRESTGetContact reads one contact over HTTP, in parallel, through the whole
// middleware chain (authentication, metering, request log).
func BenchmarkRESTGetContact(b *testing.B) {
	e := setupWith(b, unlimited)
	id := e.call("POST", "/v1/contacts", e.Live, map[string]any{"email": "bench@example.com"}).must(b, 201).Body["id"].(string)
	benchRequests(b, e.Live, func() *http.Request {
		req, _ := http.NewRequest("GET", e.URL+"/v1/contacts/"+id, nil)
		return req
	})
}

// BenchmarkMCPGetContact is BenchmarkRESTGetContact as an MCP tools/call.
func BenchmarkMCPGetContact(b *testing.B) {
	e := setupWith(b, unlimited)
	id := e.call("POST", "/v1/contacts", e.Live, map[string]any{"email": "bench@example.com"}).must(b, 201).Body["id"].(string)
	body := []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_contact","arguments":{"id":"` + id + `"}}}`)
	benchRequests(b, e.Live, func() *http.Request { return mcpRequest(e, body) })
}

// BenchmarkRESTListContactsByEmail lists contacts filtered by email over HTTP, as relm
// bench's "list contacts by email".
func BenchmarkRESTListContactsByEmail(b *testing.B) {
	e := setupWith(b, unlimited)
	e.call("POST", "/v1/contacts", e.Live, map[string]any{"email": "bench@example.com"}).must(b, 201)
	benchRequests(b, e.Live, func() *http.Request {
		req, _ := http.NewRequest("GET", e.URL+"/v1/contacts?email=bench%40example.com", nil)
		return req
	})
}

// BenchmarkMCPListContactsByEmail is BenchmarkRESTListContactsByEmail as an MCP tools/call.
func BenchmarkMCPListContactsByEmail(b *testing.B) {
	e := setupWith(b, unlimited)
	e.call("POST", "/v1/contacts", e.Live, map[string]any{"email": "bench@example.com"}).must(b, 201)
	body := []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_contacts","arguments":{"email":"bench@example.com"}}}`)
	benchRequests(b, e.Live, func() *http.Request { return mcpRequest(e, body) })
}

// BenchmarkRESTCreateContact creates a contact per request over HTTP, as relm bench's
// "create contact".
func BenchmarkRESTCreateContact(b *testing.B) {
	e := setupWith(b, unlimited)
	var n atomic.Int64
	benchRequestsStatus(b, e.Live, 201, func() *http.Request {
		body := fmt.Sprintf(`{"email":"bench%d@example.com","first_name":"Ada","last_name":"Lovelace"}`, n.Add(1))
		req, _ := http.NewRequest("POST", e.URL+"/v1/contacts", bytes.NewReader([]byte(body)))
		req.Header.Set("Content-Type", "application/json")
		return req
	})
}

// BenchmarkMCPCreateContact is BenchmarkRESTCreateContact as an MCP tools/call.
func BenchmarkMCPCreateContact(b *testing.B) {
	e := setupWith(b, unlimited)
	var n atomic.Int64
	benchRequests(b, e.Live, func() *http.Request {
		body := fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_contact","arguments":`+
			`{"email":"bench%d@example.com","first_name":"Ada","last_name":"Lovelace"}}}`, n.Add(1))
		return mcpRequest(e, []byte(body))
	})
}

// mcpRequest is an MCP POST of body, as a stateless client sends it.
func mcpRequest(e *env, body []byte) *http.Request {
	req, _ := http.NewRequest("POST", e.URL+"/mcp", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", "2025-06-18")
	return req
}

// benchRequests sends the requests newRequest makes with key, from parallel goroutines
// over kept-alive connections, and fails on any status but 200 or an MCP tool error.
func benchRequests(b *testing.B, key string, newRequest func() *http.Request) {
	benchRequestsStatus(b, key, 200, newRequest)
}

// benchRequestsStatus is benchRequests expecting status.
func benchRequestsStatus(b *testing.B, key string, status int, newRequest func() *http.Request) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := newRequest()
			req.Header.Set("Authorization", "Bearer "+key)
			res, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != status || bytes.Contains(body, []byte(`"isError":true`)) {
				b.Fatalf("status %d: %s", res.StatusCode, body)
			}
		}
	})
}
