package server_test

import (
	"bytes"
	"io"
	"net/http"
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
	benchRequests(b, e.Live, func() *http.Request {
		req, _ := http.NewRequest("POST", e.URL+"/mcp", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("MCP-Protocol-Version", "2025-06-18")
		return req
	})
}

// benchRequests sends the requests newRequest makes with key, from parallel goroutines
// over kept-alive connections, and fails on any status but 200.
func benchRequests(b *testing.B, key string, newRequest func() *http.Request) {
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
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != 200 {
				b.Fatalf("status %d", res.StatusCode)
			}
		}
	})
}
