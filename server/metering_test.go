package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/internal/testkit"
	"github.com/relmcrm/relm/server"
	"github.com/relmcrm/relm/store"
)

// longWindow keeps a test's requests in one rate-limit window: windows start at multiples
// of their length since the epoch, and a 1000-hour one is practically never crossed.
const longWindow = 1000 * time.Hour

func limits(l server.Limits) func(*server.Config) {
	return func(c *server.Config) { c.Limits = l }
}

// remaining reads X-RateLimit-Remaining, failing when the headers are missing.
func remaining(t *testing.T, h http.Header) int {
	t.Helper()
	if h.Get("X-RateLimit-Limit") == "" || h.Get("X-RateLimit-Reset") == "" {
		t.Fatalf("rate-limit headers missing: %v", h)
	}
	n, err := strconv.Atoi(h.Get("X-RateLimit-Remaining"))
	if err != nil {
		t.Fatalf("X-RateLimit-Remaining %q", h.Get("X-RateLimit-Remaining"))
	}
	return n
}

// exchange is one HTTP round trip of an MCP client.
type exchange struct {
	method string // JSON-RPC method of the request ("" when not a JSON-RPC POST)
	status int
	header http.Header
}

// recorder is an MCP client transport that adds the key and keeps every response's headers.
type recorder struct {
	key string
	mu  sync.Mutex
	got []exchange
}

func (rt *recorder) RoundTrip(r *http.Request) (*http.Response, error) {
	var msg struct {
		Method string `json:"method"`
	}
	if r.Body != nil {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		_ = json.Unmarshal(body, &msg)
	}
	res, err := testkit.Bearer{Key: rt.key}.RoundTrip(r)
	if err == nil {
		rt.mu.Lock()
		rt.got = append(rt.got, exchange{method: msg.Method, status: res.StatusCode, header: res.Header.Clone()})
		rt.mu.Unlock()
	}
	return res, err
}

// last returns the latest exchange of a JSON-RPC method.
func (rt *recorder) last(t *testing.T, method string) exchange {
	t.Helper()
	rt.mu.Lock()
	defer rt.mu.Unlock()
	for i := len(rt.got) - 1; i >= 0; i-- {
		if rt.got[i].method == method {
			return rt.got[i]
		}
	}
	t.Fatalf("no %s exchange", method)
	return exchange{}
}

// recordedSession opens an MCP session whose HTTP exchanges rt records.
func (e *env) recordedSession(rt *recorder) *mcp.ClientSession {
	e.t.Helper()
	return testkit.DialMCP(e.t, e.URL+"/mcp?toolsets=all", rt, "2025-06-18")
}

// rpc posts one raw JSON-RPC message to /mcp with key.
func (e *env) rpc(key, body string) resp {
	e.t.Helper()
	return e.do("POST", "/mcp?toolsets=all", key, []byte(body), "Accept", "application/json, text/event-stream")
}

func toolCall(name, args string) string {
	return `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"` + name + `","arguments":` + args + `}}`
}

// keyID is the id of the API key secret.
func (e *env) keyID(secret string) string {
	e.t.Helper()
	return e.keyCaller(secret).KeyID
}

// keyCaller is the caller behind a key secret.
func (e *env) keyCaller(secret string) auth.Caller {
	e.t.Helper()
	c, err := e.Store.Authenticate(context.Background(), secret)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// exec runs SQL on the test database, under the API.
func (e *env) exec(query string, args ...any) int64 {
	e.t.Helper()
	return testkit.Exec(e.t, e.DB, query, args...)
}

func TestRateLimitHeadersOnBothSurfaces(t *testing.T) {
	t.Parallel()
	e := setupWith(t, limits(server.Limits{RateLimit: 50, RateWindow: longWindow}))

	r := e.call("GET", "/v1/contacts", e.Live, nil).must(t, 200)
	if r.Header.Get("X-RateLimit-Limit") != "50" || remaining(t, r.Header) != 49 {
		t.Fatalf("first request: %v", r.Header)
	}
	reset, _ := strconv.ParseInt(r.Header.Get("X-RateLimit-Reset"), 10, 64)
	if reset <= time.Now().Unix() || reset%int64(longWindow/time.Second) != 0 {
		t.Fatalf("X-RateLimit-Reset %d is not the end of a fixed window", reset)
	}
	if got := remaining(t, e.call("GET", "/v1/no_such_route", e.Live, nil).must(t, 404).Header); got != 48 {
		t.Fatalf("404: remaining %d, want 48", got)
	}
	if got := remaining(t, e.call("POST", "/v1/contacts", e.Live, map[string]any{"email": "bad"}).must(t, 422).Header); got != 47 {
		t.Fatalf("422: remaining %d, want 47", got)
	}
	// No valid key, no key to count against: no headers.
	for _, key := range []string{"", "sk_live_" + "0123456789abcdefghijABCDEFGHIJ01"} {
		if h := e.call("GET", "/v1/contacts", key, nil).must(t, 401).Header; h.Get("X-RateLimit-Limit") != "" {
			t.Fatalf("401 carries rate-limit headers: %v", h)
		}
	}
	if h := e.call("GET", "/healthz", "", nil).Header; h.Get("X-RateLimit-Limit") != "" {
		t.Fatal("/healthz is not metered")
	}

	// MCP: every request counts toward the rate limit (tools/call alone toward the quota);
	// notifications do not.
	rt := &recorder{key: e.Live}
	cs := e.recordedSession(rt)
	if got := remaining(t, rt.last(t, "initialize").header); got != 46 {
		t.Fatalf("initialize: remaining %d, want 46", got)
	}
	if _, err := cs.ListTools(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if got := remaining(t, rt.last(t, "tools/list").header); got != 45 {
		t.Fatalf("tools/list: remaining %d, want 45", got)
	}
	for want := 44; want >= 43; want-- {
		tool(t, cs, "list_contacts", map[string]any{})
		if got := remaining(t, rt.last(t, "tools/call").header); got != want {
			t.Fatalf("tools/call: remaining %d, want %d", got, want)
		}
	}
	res := tool(t, cs, "get_contact", map[string]any{"id": "con_aaaaaaaaaaaaaaaaaaaaaaaaaa"}) // a failed call counts too
	if !res.IsError || remaining(t, rt.last(t, "tools/call").header) != 42 {
		t.Fatalf("failed tools/call: %v", rt.last(t, "tools/call").header)
	}
	// The surfaces share the key's window.
	if got := remaining(t, e.call("GET", "/v1/contacts", e.Live, nil).must(t, 200).Header); got != 41 {
		t.Fatalf("REST after MCP: remaining %d, want 41", got)
	}
	// Each key has its own window.
	if got := remaining(t, e.call("GET", "/v1/contacts", e.Test, nil).must(t, 200).Header); got != 49 {
		t.Fatalf("another key: remaining %d, want 49", got)
	}
}

func TestRateLimitDefaultsToAMinuteWindow(t *testing.T) {
	t.Parallel()
	e := setup(t)
	before := time.Now().Unix()
	r := e.call("GET", "/v1/contacts", e.Live, nil).must(t, 200)
	reset, _ := strconv.ParseInt(r.Header.Get("X-RateLimit-Reset"), 10, 64)
	if r.Header.Get("X-RateLimit-Limit") != "600" || remaining(t, r.Header) > 599 || reset%60 != 0 || reset <= before || reset > before+61 {
		t.Fatalf("defaults: %v", r.Header)
	}
}

func TestRateLimitRefusesWithoutCounting(t *testing.T) {
	t.Parallel()
	e := setupWith(t, limits(server.Limits{RateLimit: 3, RateWindow: longWindow}))
	for range 3 {
		e.call("GET", "/v1/contacts", e.Live, nil).must(t, 200)
	}
	r := e.call("POST", "/v1/contacts", e.Live, map[string]any{"email": "refused@example.com"})
	expectError(t, r, 429, "rate_limited", "")
	retry, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || retry < 1 || retry > int(longWindow/time.Second) || remaining(t, r.Header) != 0 {
		t.Fatalf("429 headers: %v", r.Header)
	}
	// On MCP the refusal is a tool error result the model can read, with the same headers.
	r = e.rpc(e.Live, toolCall("create_contact", `{"email":"refused-mcp@example.com"}`))
	if body := expectToolError(t, r, "rate_limited"); body["retry_after"] == nil || remaining(t, r.Header) != 0 {
		t.Fatalf("MCP refusal: %v %v", r.Header, body)
	}
	// Refused requests count nothing: the window holds the 3 allowed ones.
	win, err := e.peekWindow(e.Live)
	if err != nil || win.Count != 3 {
		t.Fatalf("window count %d (%v), want 3", win.Count, err)
	}
	// Nothing was written: another key of the same workspace and mode sees no contact, no event.
	other := e.key("acme", auth.Live)
	if n := len(ids(e.call("GET", "/v1/contacts", other, nil).must(t, 200))); n != 0 {
		t.Fatalf("a refused create wrote %d contacts", n)
	}
	if evs := e.events(other); len(evs) != 0 {
		t.Fatalf("a refused create recorded events %v", evs)
	}
}

func TestRateLimitSharedByServerProcesses(t *testing.T) {
	t.Parallel()
	l := server.Limits{RateLimit: 4, RateWindow: longWindow}
	e := setupWith(t, limits(l))
	s2, err := store.Open(context.Background(), e.DB)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s2.Close)
	srv2, err := server.New(server.Config{Store: s2, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Limits: l, SecretKey: e.Secret})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv2.Close(context.Background()) })
	hs2 := httptest.NewServer(srv2)
	t.Cleanup(hs2.Close)
	second := &env{t: t, URL: hs2.URL, Store: s2}

	// Each process decides alone and reconciles in the background (here: at once, by
	// Flush); after reconciling, each counts the other's requests.
	flush := func() { // twice: each reads back what the other wrote
		for _, s := range []*server.Server{e.Srv, srv2, e.Srv} {
			if err := s.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i, s := range []*env{e, second, e, second} {
		if got := remaining(t, s.call("GET", "/v1/contacts", e.Live, nil).must(t, 200).Header); got != 3-i {
			t.Fatalf("request %d: remaining %d, want %d", i, got, 3-i)
		}
		flush()
	}
	expectError(t, second.call("GET", "/v1/contacts", e.Live, nil), 429, "rate_limited", "")
	expectError(t, e.call("GET", "/v1/contacts", e.Live, nil), 429, "rate_limited", "")
}

// concurrentLists sends n GET /v1/contacts at once, taking the keys in turn, and counts
// the statuses.
func (e *env) concurrentLists(n int, keys ...string) map[int]int {
	var wg sync.WaitGroup
	statuses := make(chan int, n)
	for i := range n {
		wg.Go(func() {
			req, _ := http.NewRequest("GET", e.URL+"/v1/contacts", nil)
			req.Header.Set("Authorization", "Bearer "+keys[i%len(keys)])
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				e.t.Error(err)
				return
			}
			res.Body.Close()
			statuses <- res.StatusCode
		})
	}
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	return count
}

func TestRateLimitIsExactUnderConcurrency(t *testing.T) {
	t.Parallel()
	e := setupWith(t, limits(server.Limits{RateLimit: 10, RateWindow: longWindow}))
	count := e.concurrentLists(30, e.Live)
	if count[200] != 10 || count[429] != 20 {
		t.Fatalf("statuses %v, want 10×200 and 20×429", count)
	}
}

func TestQuotaMetersLiveModeOnly(t *testing.T) {
	t.Parallel()
	e := setupWith(t, limits(server.Limits{RateLimit: 100, RateWindow: longWindow, QuotaFree: 3, QuotaTeam: 6}))
	now := time.Now().UTC()
	periodStart := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)

	u := e.call("GET", "/v1/usage", e.Live, nil).must(t, 200).Body
	if u["object"] != "usage" || u["mode"] != "live" || u["plan"] != "free" || u["used"] != 1.0 || u["limit"] != 3.0 ||
		u["period_start"] != periodStart.Format(time.RFC3339) || u["period_end"] != periodStart.AddDate(0, 1, 0).Format(time.RFC3339) {
		t.Fatalf("usage: %v", u)
	}
	if rl := u["rate_limit"].(map[string]any); rl["limit"] != 100.0 || rl["remaining"] != 99.0 || rl["reset"].(float64) <= float64(now.Unix()) {
		t.Fatalf("usage rate_limit: %v", rl)
	}
	e.call("GET", "/v1/contacts", e.Live, nil).must(t, 200)
	cs := e.mcpSession(e.Live, "2025-06-18")
	mu := decode(t, text(t, tool(t, cs, "get_usage", map[string]any{})))
	if mu["used"] != 3.0 || mu["limit"] != 3.0 || mu["mode"] != "live" {
		t.Fatalf("MCP usage: %v", mu)
	}

	// Over quota: every live key of the workspace is refused, on both surfaces, and nothing is written.
	r := e.call("POST", "/v1/contacts", e.Live, map[string]any{"email": "over@example.com"})
	expectError(t, r, 429, "quota_exceeded", "")
	retry, _ := strconv.Atoi(r.Header.Get("Retry-After"))
	if secs := int(periodStart.AddDate(0, 1, 0).Sub(now).Seconds()); retry < secs-60 || retry > secs+60 || remaining(t, r.Header) != 96 { // three REST requests and MCP's initialize and get_usage
		t.Fatalf("quota 429 headers: %v", r.Header)
	}
	expectError(t, e.call("GET", "/v1/contacts", e.key("acme", auth.Live), nil), 429, "quota_exceeded", "")
	expectToolError(t, e.rpc(e.Live, toolCall("get_usage", `{}`)), "quota_exceeded")

	// Test mode is not metered; other workspaces have their own quota.
	for range 5 {
		e.call("GET", "/v1/contacts", e.Test, nil).must(t, 200)
	}
	tu := e.call("GET", "/v1/usage", e.Test, nil).must(t, 200).Body
	if tu["mode"] != "test" || tu["used"] != 0.0 || tu["limit"] != nil || tu["plan"] != "free" {
		t.Fatalf("test-mode usage: %v", tu)
	}
	tmu := decode(t, text(t, tool(t, e.mcpSession(e.Test, "2025-06-18"), "get_usage", map[string]any{})))
	if tmu["used"] != 0.0 || tmu["limit"] != nil {
		t.Fatalf("test-mode MCP usage: %v", tmu)
	}
	e.call("GET", "/v1/contacts", e.Other, nil).must(t, 200)

	// The quota follows the plan; the refused requests were not counted.
	e.exec(`UPDATE workspaces SET plan = 'team' WHERE name = 'acme'`)
	e.flush() // servers read the plan when they reconcile, at least once a second
	u = e.call("GET", "/v1/usage", e.Live, nil).must(t, 200).Body
	if u["plan"] != "team" || u["used"] != 4.0 || u["limit"] != 6.0 {
		t.Fatalf("usage on the team plan: %v", u)
	}
	if n := len(ids(e.call("GET", "/v1/contacts", e.Live, nil).must(t, 200))); n != 0 {
		t.Fatal("a request refused for quota wrote a contact")
	}
}

func TestQuotaIsExactUnderConcurrency(t *testing.T) {
	t.Parallel()
	e := setupWith(t, limits(server.Limits{RateLimit: 100, RateWindow: longWindow, QuotaFree: 10}))
	keys := []string{e.Live, e.key("acme", auth.Live), e.key("acme", auth.Live)}
	count := e.concurrentLists(30, keys...)
	if count[200] != 10 || count[429] != 20 {
		t.Fatalf("statuses %v, want 10×200 and 20×429", count)
	}
	// A request refused for quota gives back what it took of its key's window.
	var windows int64
	for _, k := range keys {
		win, err := e.peekWindow(k)
		if err != nil {
			t.Fatal(err)
		}
		windows += win.Count
	}
	if windows != 10 {
		t.Fatalf("the keys' windows hold %d requests, want 10", windows)
	}
}
