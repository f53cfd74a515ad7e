package server_test

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/server"
)

// TestWorkspaceRateCeiling: a workspace's keys of one mode share a ceiling that minting
// more keys does not raise; the other mode and other workspaces keep their own; refused
// requests count nothing.
func TestWorkspaceRateCeiling(t *testing.T) {
	t.Parallel()
	e := setupWith(t, limits(server.Limits{RateLimit: 5, WorkspaceRateLimit: 8, RateWindow: longWindow}))
	for range 5 {
		e.call("GET", "/v1/contacts", e.Live, nil).must(t, 200)
	}
	r := expectError(t, e.call("GET", "/v1/contacts", e.Live, nil), 429, "rate_limited", "")
	if !strings.Contains(r["message"].(string), "This API key") {
		t.Fatalf("key refusal: %v", r)
	}
	second := e.key("acme", auth.Live)
	for range 3 {
		e.call("GET", "/v1/contacts", second, nil).must(t, 200)
	}
	for _, k := range []string{second, e.key("acme", auth.Live)} { // a fresh key does not help
		res := e.call("GET", "/v1/contacts", k, nil)
		body := expectError(t, res, 429, "rate_limited", "")
		if !strings.Contains(body["message"].(string), "workspace's live keys") || res.Header.Get("X-RateLimit-Limit") != "8" ||
			remaining(t, res.Header) != 0 || res.Header.Get("Retry-After") == "" {
			t.Fatalf("workspace refusal: %v %v", res.Header, body)
		}
	}
	// MCP is held to the same ceiling.
	// MCP is held to the same ceiling: a request other than a tool call gets a JSON-RPC error.
	if r := e.rpc(second, initBody); r.Status != 200 || errOf(r) == nil || errOf(r)["code"] != float64(server.CodeRateLimitedRPC) {
		t.Fatalf("MCP refusal: %d %s", r.Status, r.Raw)
	}
	e.flush()
	// Other modes and workspaces are not affected.
	e.call("GET", "/v1/contacts", e.Test, nil).must(t, 200)
	e.call("GET", "/v1/contacts", e.Other, nil).must(t, 200)
	if n := e.exec(`UPDATE workspace_rate_windows SET count = count WHERE workspace_id = $1 AND mode = 'live' AND count = 8`, e.workspaceID("acme")); n != 1 {
		t.Fatal("the workspace window did not count exactly 8 requests")
	}
}

// TestCrossOriginMCPIsNotMetered: requests the /mcp guard refuses count nothing; every MCP
// request that does work counts toward the rate limit, resources/read included.
func TestCrossOriginMCPIsNotMetered(t *testing.T) {
	t.Parallel()
	e := setupWith(t, limits(server.Limits{RateLimit: 50, RateWindow: longWindow}))
	for range 3 {
		e.do("POST", "/mcp", e.Live, []byte(toolCall("list_contacts", `{}`)), "Accept", "application/json, text/event-stream",
			"Origin", "https://evil.example").must(t, 403)
	}
	count := func() int64 {
		win, err := e.peekWindow(e.Live)
		if err != nil {
			t.Fatal(err)
		}
		return win.Count
	}
	if n := count(); n != 0 {
		t.Fatalf("refused cross-origin requests counted %d", n)
	}
	c := e.call("POST", "/v1/contacts", e.Live, map[string]any{"email": "r@example.com"}).must(t, 201).Body
	cs := e.mcpSession(e.Live, "2025-06-18")
	for range 3 {
		res, err := cs.ReadResource(context.Background(), &mcp.ReadResourceParams{URI: "relm://contacts/" + c["id"].(string)})
		if err != nil || !strings.Contains(res.Contents[0].Text, "r@example.com") {
			t.Fatalf("resources/read: %v", err)
		}
	}
	if n := count(); n != 5 { // the create, initialize and the three reads; not notifications/initialized
		t.Fatalf("counted %d requests, want 5", n)
	}
}

// TestActiveKeysCapped: a workspace holds at most MaxActiveKeys unrevoked keys per mode,
// exactly, also under concurrent creation; revoking frees a place; the other mode is apart.
func TestActiveKeysCapped(t *testing.T) {
	t.Parallel()
	e := setupWith(t, limits(server.Limits{MaxActiveKeys: 4}))
	var wg sync.WaitGroup
	statuses := make(chan int, 10)
	for range 10 {
		wg.Go(func() { statuses <- e.call("POST", "/v1/api_keys", e.Live, nil).Status })
	}
	wg.Wait()
	close(statuses)
	created := 0
	for s := range statuses {
		if s == 201 {
			created++
		} else if s != 409 {
			t.Fatalf("status %d", s)
		}
	}
	if created != 3 { // e.Live is the fourth
		t.Fatalf("%d keys created under a cap of 4 with one existing", created)
	}
	body := expectError(t, e.call("POST", "/v1/api_keys", e.Live, nil), 409, "limit_reached", "")
	if !strings.Contains(body["message"].(string), "4 active live API keys") {
		t.Fatalf("message: %v", body)
	}
	cs := e.mcpSession(e.Live, "2025-06-18")
	if res := tool(t, cs, "create_api_key", map[string]any{}); !res.IsError || !strings.Contains(text(t, res), `"limit_reached"`) {
		t.Fatalf("MCP create over the cap: %s", text(t, res))
	}
	e.call("POST", "/v1/api_keys", e.Test, nil).must(t, 201) // test mode has its own cap
	keys := e.call("GET", "/v1/api_keys", e.Live, nil).must(t, 200).Body["data"].([]any)
	id := keys[0].(map[string]any)["id"].(string)
	e.call("DELETE", "/v1/api_keys/"+id, e.Live, nil).must(t, 200)
	e.call("POST", "/v1/api_keys", e.Live, nil).must(t, 201)
}

// TestInFlightCaps: a key, and a workspace's keys of one mode together, may have only so
// many requests running; beyond that they are refused at once and count nothing.
func TestInFlightCaps(t *testing.T) {
	t.Parallel()
	e := setupWith(t, limits(server.Limits{InFlightPerKey: 2, InFlightPerTenant: 3, RateWindow: longWindow}))
	second := e.key("acme", auth.Live)
	var held []*io.PipeWriter
	var wg sync.WaitGroup
	hold := func(key string) { // a create whose body never finishes arriving
		pr, pw := io.Pipe()
		req, _ := http.NewRequest("POST", e.URL+"/v1/contacts", pr)
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		held = append(held, pw)
		wg.Go(func() {
			res, err := http.DefaultClient.Do(req)
			if err == nil {
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
			}
		})
		_, _ = pw.Write([]byte(`{"email":"held` + strconv.Itoa(len(held)) + `@example.com"`))
	}
	counted := func(key string) int64 {
		win, err := e.peekWindow(key)
		if err != nil {
			t.Fatal(err)
		}
		return win.Count
	}
	running := func(key string, n int64) { // wait until the server is running them (they are metered once running)
		t.Helper()
		for i := 0; counted(key) < n; i++ {
			if i == 500 {
				t.Fatalf("held requests of a key never started")
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	hold(e.Live)
	hold(e.Live)
	running(e.Live, 2)
	r := e.call("GET", "/v1/contacts", e.Live, nil)
	body := expectError(t, r, 429, "concurrency_limited", "")
	if r.Header.Get("Retry-After") != "1" || !strings.Contains(body["message"].(string), "This API key already has 2") {
		t.Fatalf("key cap: %v %v", r.Header, body)
	}
	hold(second)
	running(second, 1)
	body = expectError(t, e.call("GET", "/v1/contacts", second, nil), 429, "concurrency_limited", "")
	if !strings.Contains(body["message"].(string), "workspace's live keys already have 3") {
		t.Fatalf("workspace cap: %v", body)
	}
	e.call("GET", "/v1/contacts", e.Test, nil).must(t, 200)  // the other mode
	e.call("GET", "/v1/contacts", e.Other, nil).must(t, 200) // another workspace
	for _, pw := range held {
		_, _ = pw.Write([]byte(`}`))
		pw.Close()
	}
	wg.Wait()
	if n := countContacts(e, e.Live); n != 3 {
		t.Fatalf("%d held creates finished, want 3", n)
	}
	if n := counted(e.Live); n != 3 { // the two held creates and countContacts' one page
		t.Fatalf("refused requests were counted: %d", n)
	}
}

// TestFailedAuthenticationIsThrottled: an address that keeps sending bad keys is refused
// with 429 before any key is looked up, with the rate-limit headers. A key the server has
// lately found valid costs no lookup and is not throttled; one it has not seen is.
func TestFailedAuthenticationIsThrottled(t *testing.T) {
	t.Parallel()
	e := setupWith(t, limits(server.Limits{AuthFailures: 3}))
	e.call("GET", "/v1/contacts", e.Live, nil).must(t, 200) // successes take nothing
	for _, key := range []string{"", "nonsense", "sk_live_0123456789abcdefghijABCDEFGHIJ01"} {
		expectError(t, e.call("GET", "/v1/contacts", key, nil), 401, "unauthorized", "")
	}
	e.call("GET", "/v1/contacts", e.Live, nil).must(t, 200) // known valid: no lookup to protect
	for _, key := range []string{"sk_live_0123456789abcdefghijABCDEFGHIJ01", e.key("acme", auth.Live)} {
		r := e.call("GET", "/v1/contacts", key, nil)
		expectError(t, r, 429, "rate_limited", "")
		if retry, _ := strconv.Atoi(r.Header.Get("Retry-After")); retry < 1 || retry > 20 ||
			r.Header.Get("X-RateLimit-Limit") != "3" || r.Header.Get("X-RateLimit-Remaining") != "0" {
			t.Fatalf("throttled: %v", r.Header)
		}
	}
	expectError(t, e.rpc("sk_live_0123456789abcdefghijABCDEFGHIJ01", initBody), 429, "rate_limited", "")
	e.call("GET", "/healthz", "", nil).must(t, 200) // paths without keys are not throttled
}

// TestErrorsSayWhetherToRetry: every error body says whether the same request may succeed
// later, on both surfaces: a refusal over the rate limit may, invalid input may not.
func TestErrorsSayWhetherToRetry(t *testing.T) {
	t.Parallel()
	e := setupWith(t, limits(server.Limits{RateLimit: 3, RateWindow: longWindow}))
	if body := expectError(t, e.call("POST", "/v1/contacts", e.Live, map[string]any{"email": "not an email"}), 422, "validation_failed", "email"); body["retryable"] != false {
		t.Fatalf("invalid input: %v", body)
	}
	if body := expectToolError(t, e.rpc(e.Live, toolCall("create_contact", `{"email":"not an email"}`)), "validation_failed"); body["retryable"] != false {
		t.Fatalf("invalid input over MCP: %v", body)
	}
	e.call("GET", "/v1/contacts", e.Live, nil).must(t, 200)
	if body := expectToolError(t, e.rpc(e.Live, toolCall("list_contacts", `{}`)), "rate_limited"); body["retryable"] != true || body["retry_after"] == nil {
		t.Fatalf("rate limited over MCP: %v", body)
	}
	if body := expectError(t, e.call("GET", "/v1/contacts", e.Live, nil), 429, "rate_limited", ""); body["retryable"] != true {
		t.Fatalf("rate limited: %v", body)
	}
}
