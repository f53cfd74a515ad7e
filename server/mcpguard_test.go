package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/relmcrm/relm/server"
)

const initBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`

// mcpRaw sends one raw HTTP request to /mcp with a valid key.
func (e *env) mcpRaw(t *testing.T, method string, header map[string]string) (int, http.Header, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, e.URL+"/mcp", bytes.NewReader([]byte(initBody)))
	req.Header.Set("Authorization", "Bearer "+e.Live)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	if h, ok := header["Host"]; ok {
		req.Host = h
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	return res.StatusCode, res.Header, body
}

func TestMCPTransportErrorsAreJSON(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for _, c := range []struct {
		name   string
		method string
		header map[string]string
		status int
		code   string
	}{
		{"GET", "GET", nil, 405, "method_not_allowed"},
		{"DELETE", "DELETE", nil, 405, "method_not_allowed"},
		{"form body", "POST", map[string]string{"Content-Type": "text/plain"}, 415, "unsupported_media_type"},
		{"no event stream", "POST", map[string]string{"Accept": "application/json"}, 406, "not_acceptable"},
		{"old protocol", "POST", map[string]string{"Mcp-Protocol-Version": "2023-01-01"}, 400, "bad_request"},
		{"foreign origin", "POST", map[string]string{"Origin": "https://evil.example"}, 403, "forbidden"},
		{"rebinding host", "POST", map[string]string{"Host": "attacker.example"}, 403, "forbidden"},
	} {
		status, header, body := e.mcpRaw(t, c.method, c.header)
		errBody, _ := body["error"].(map[string]any)
		if status != c.status || errBody == nil || errBody["code"] != c.code || header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d %v", c.name, status, body)
		}
	}
	if status, _, _ := e.mcpRaw(t, "POST", map[string]string{"Origin": e.URL}); status != 200 {
		t.Fatalf("same-origin request refused: %d", status)
	}
}

func TestMCPBehindAProxy(t *testing.T) {
	t.Parallel()
	e := setup(t)
	srv, err := server.New(server.Config{Store: e.Store, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), SecretKey: e.Secret,
		AllowedHosts: []string{"crm.example.com"}, AllowedOrigins: []string{"https://app.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	proxied := &env{t: t, URL: hs.URL, Live: e.Live}
	if status, _, body := proxied.mcpRaw(t, "POST", map[string]string{"Host": "crm.example.com", "Origin": "https://app.example.com"}); status != 200 {
		t.Fatalf("allowed host and origin refused: %d %v", status, body)
	}
	if status, _, _ := proxied.mcpRaw(t, "POST", nil); status != 403 {
		t.Fatalf("a host outside --allowed-hosts answered %d", status)
	}
	if _, err := server.New(server.Config{Store: e.Store, SecretKey: e.Secret, AllowedOrigins: []string{"not a url"}}); err == nil {
		t.Fatal("a malformed allowed origin must be refused at start-up")
	}
}
