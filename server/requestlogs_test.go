package server_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/server"
)

// logs lists key's request logs matching query (such as "surface=mcp"), newest first.
func (e *env) logs(key, query string) []map[string]any {
	e.t.Helper()
	e.flush() // logs are written in batches
	r := e.call("GET", "/v1/request_logs?limit=200&"+query, key, nil).must(e.t, http.StatusOK)
	var out []map[string]any
	for _, d := range r.Body["data"].([]any) {
		out = append(out, d.(map[string]any))
	}
	return out
}

// waitLogRows waits until the database holds at least n request logs matching the SQL
// condition where, flushing the server's buffer as it goes.
func (e *env) waitLogRows(where string, n int64) {
	e.t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		e.flush()
		if got := e.exec(`UPDATE request_logs SET status = status WHERE ` + where); got >= n {
			return
		} else if time.Now().After(deadline) {
			e.t.Fatalf("%d request logs where %s, want %d", got, where, n)
		}
	}
}

// waitLogs waits for n logs matching query: an MCP call's log is written just after its
// response, which the client may read before the handler returns.
func (e *env) waitLogs(key, query string, n int) []map[string]any {
	e.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := e.logs(key, query)
		if len(got) >= n || time.Now().After(deadline) {
			if len(got) != n {
				e.t.Fatalf("%d logs match %q, want %d: %v", len(got), query, n, got)
			}
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkLog asserts the fields of one log entry; a nil want means null.
func checkLog(t *testing.T, l map[string]any, want map[string]any) {
	t.Helper()
	for k, v := range want {
		if l[k] != v {
			t.Errorf("log %s = %v, want %v (%v)", k, l[k], v, l)
		}
	}
}

func TestRequestLogsRecordBothSurfaces(t *testing.T) {
	t.Parallel()
	e := setup(t)
	const email = "zelda.q7x@example.org" // must never reach a log
	created := e.call("POST", "/v1/contacts", e.Live, map[string]any{"email": email, "first_name": "Zelda"}).must(t, 201)
	e.call("GET", "/v1/contacts?email="+url.QueryEscape(email), e.Live, nil).must(t, 200)
	e.call("GET", "/v1/contacts/con_aaaaaaaaaaaaaaaaaaaaaaaaaa", e.Live, nil).must(t, 404)
	e.call("GET", "/v1/contacts?filter[nope]=1", e.Live, nil).must(t, 400)
	e.call("GET", "/v1/nowhere/"+email, e.Live, nil).must(t, 404)
	e.call("GET", "/v1//contacts/"+email, e.Live, nil).must(t, 404) // redirected to the clean path, which names nothing
	cs := e.mcpSession(e.Live, "2025-06-18")
	if _, err := cs.ListTools(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if res := tool(t, cs, "get_contact", map[string]any{"id": "con_aaaaaaaaaaaaaaaaaaaaaaaaaa"}); !res.IsError {
		t.Fatal("get_contact of a missing id succeeded")
	}
	tool(t, cs, "create_contact", map[string]any{"email": "mcp." + email})

	mcpLogs := e.waitLogs(e.Live, "surface=mcp", 2) // initialize and tools/list are not logged
	keyID := e.keyID(e.Live)
	checkLog(t, mcpLogs[0], map[string]any{"object": "request_log", "surface": "mcp", "tool": "create_contact", "status": 201.0,
		"error_code": nil, "method": nil, "path": nil, "key_id": keyID, "mode": "live"})
	checkLog(t, mcpLogs[1], map[string]any{"surface": "mcp", "tool": "get_contact", "status": 404.0, "error_code": "not_found"})

	restLogs := e.logs(e.Live, "surface=rest")
	if len(restLogs) < 6 { // five calls, then at least one listing of the MCP logs
		t.Fatalf("%d REST logs: %v", len(restLogs), restLogs)
	}
	oldest := restLogs[len(restLogs)-5:] // the five calls above, newest first
	checkLog(t, oldest[4], map[string]any{"surface": "rest", "method": "POST", "path": "/v1/contacts", "tool": "create_contact",
		"status": 201.0, "error_code": nil, "key_id": keyID, "mode": "live", "request_id": created.Header.Get("Request-Id")})
	checkLog(t, oldest[3], map[string]any{"method": "GET", "path": "/v1/contacts", "tool": "list_contacts", "status": 200.0})
	checkLog(t, oldest[2], map[string]any{"path": "/v1/contacts/{id}", "tool": "get_contact", "status": 404.0, "error_code": "not_found"})
	checkLog(t, oldest[1], map[string]any{"path": "/v1/contacts", "status": 400.0, "error_code": "invalid_filter"})
	checkLog(t, oldest[0], map[string]any{"method": "GET", "path": nil, "tool": nil, "status": 404.0, "error_code": "not_found"})
	for _, l := range append(mcpLogs, restLogs...) {
		if !strings.HasPrefix(l["id"].(string), "rlog_") || !strings.HasPrefix(l["request_id"].(string), "req_") || l["latency_ms"].(float64) < 0 {
			t.Errorf("log ids or latency: %v", l)
		}
	}
	raw := string(e.call("GET", "/v1/request_logs?limit=200", e.Live, nil).must(t, 200).Raw)
	for _, secret := range []string{email, "zelda", "Zelda", e.Live, "con_aaaaaaaaaaaaaaaaaaaaaaaaaa", "nope"} {
		if strings.Contains(raw, secret) {
			t.Errorf("request logs contain %q: %s", secret, raw)
		}
	}
}

func TestRequestLogsFilterAndPage(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for range 3 {
		e.call("GET", "/v1/contacts/con_aaaaaaaaaaaaaaaaaaaaaaaaaa", e.Live, nil).must(t, 404)
		e.call("GET", "/v1/companies", e.Live, nil).must(t, 200)
	}
	cs := e.mcpSession(e.Live, "2025-06-18")
	tool(t, cs, "list_deals", map[string]any{})
	e.waitLogs(e.Live, "surface=mcp", 1)

	for query, want := range map[string]int{
		"status=404":                           3,
		"filter[status][gte]=400&surface=rest": 3,
		"tool=list_companies":                  3,
		"filter[path]=" + url.QueryEscape("/v1/contacts/{id}"): 3,
		"error_code=not_found":                                 3,
		"filter[tool][in]=list_deals,list_companies":           4,
		"filter[created_at][lt]=2000-01-01":                    0,
		"surface=mcp&tool=list_deals&status=200":               1,
		"key_id=" + e.keyID(e.Live) + "&path=/v1/companies":    3,
	} {
		if got := len(e.logs(e.Live, query)); got != want {
			t.Errorf("%s: %d logs, want %d", query, got, want)
		}
	}
	res := decode(t, text(t, tool(t, cs, "list_request_logs", map[string]any{"filter": map[string]any{"status": map[string]any{"gte": 400}}})))
	if data := res["data"].([]any); len(data) != 3 {
		t.Fatalf("MCP list_request_logs with a filter: %v", res)
	}
	expectError(t, e.call("GET", "/v1/request_logs?filter[body]=x", e.Live, nil), 400, "invalid_filter", "filter[body]")
	expectError(t, e.call("GET", "/v1/request_logs?status=many", e.Live, nil), 400, "invalid_filter", "")

	all := ids(e.call("GET", "/v1/request_logs?limit=200", e.Live, nil).must(t, 200))
	var paged []string
	seen := map[string]bool{}
	cursor := ""
	for {
		r := e.call("GET", "/v1/request_logs?limit=2"+cursor, e.Live, nil).must(t, 200)
		for _, id := range ids(r) {
			if seen[id] {
				t.Fatalf("page repeats %s", id)
			}
			seen[id] = true
			paged = append(paged, id)
		}
		if r.Body["has_more"] != true {
			break
		}
		cursor = "&cursor=" + r.Body["next_cursor"].(string)
	}
	for _, id := range all {
		if !seen[id] {
			t.Fatalf("paging skipped %s", id)
		}
	}
}

func TestRequestLogsAreIsolated(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.call("GET", "/v1/contacts", e.Live, nil).must(t, 200)
	tool(t, e.mcpSession(e.Live, "2025-06-18"), "list_contacts", map[string]any{})
	e.waitLogs(e.Live, "surface=mcp", 1)
	for _, key := range []string{e.Test, e.Other} {
		tool(t, e.mcpSession(key, "2025-06-18"), "list_request_logs", map[string]any{}) // its own log only
		for _, l := range e.logs(key, "") {
			if l["key_id"] != e.keyID(key) {
				t.Fatalf("another tenant's log is visible: %v", l)
			}
		}
	}
}

func TestRequestLogsOfRefusedRequests(t *testing.T) {
	t.Parallel()
	e := setupWith(t, limits(server.Limits{RateLimit: 1, RateWindow: longWindow}))
	e.call("GET", "/v1/contacts", e.Live, nil).must(t, 200)
	e.call("DELETE", "/v1/contacts/con_aaaaaaaaaaaaaaaaaaaaaaaaaa", e.Live, nil).must(t, 429)
	expectToolError(t, e.rpc(e.Live, toolCall("list_deals", `{}`)), "rate_limited")
	// An MCP call is logged just after its response: wait for both in the database, then
	// list them once with a key of its own (each key may make one request here).
	e.waitLogRows(`status = 429`, 2)
	got := e.logs(e.key("acme", auth.Live), "status=429")
	if len(got) != 2 {
		t.Fatalf("refused requests logged: %v", got)
	}
	checkLog(t, got[0], map[string]any{"surface": "mcp", "tool": "list_deals", "error_code": "rate_limited"})
	checkLog(t, got[1], map[string]any{"surface": "rest", "method": "DELETE", "path": "/v1/contacts/{id}", "tool": "delete_contact", "error_code": "rate_limited"})
}

func TestPurgeRequestLogs(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for range 3 {
		e.call("GET", "/v1/contacts", e.Live, nil).must(t, 200)
	}
	e.call("GET", "/v1/deals", e.Other, nil).must(t, 200)
	e.flush()
	old := e.exec(`UPDATE request_logs SET created_at = now() - interval '31 days' WHERE path = '/v1/contacts'`)
	n, err := e.Store.PurgeRequestLogs(context.Background())
	if err != nil || n != old || old != 3 {
		t.Fatalf("purged %d of %d old logs (%v)", n, old, err)
	}
	if got := e.logs(e.Other, ""); len(got) != 1 || got[0]["path"] != "/v1/deals" {
		t.Fatalf("a recent log was purged: %v", got)
	}
}

// TestRequestLogsOfReplayedToolCalls: an idempotent replay answers without running the
// capability; its log still shows the result the client got.
func TestRequestLogsOfReplayedToolCalls(t *testing.T) {
	t.Parallel()
	e := setup(t)
	cs := e.mcpSession(e.Live, "2025-06-18")
	for range 2 {
		if res := tool(t, cs, "create_contact", map[string]any{"email": "once@example.com", "idempotency_key": "k1"}); res.IsError {
			t.Fatalf("create: %s", text(t, res))
		}
	}
	for _, l := range e.waitLogs(e.Live, "surface=mcp", 2) {
		checkLog(t, l, map[string]any{"tool": "create_contact", "status": 201.0, "error_code": nil})
	}
}

// TestMetricsCountRequestLogs: /metrics needs no key and counts what became of the request
// logs and how often keys were served from the cache.
func TestMetricsCountRequestLogs(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for range 3 {
		e.call("GET", "/v1/contacts", e.Live, nil).must(t, 200)
	}
	e.waitLogRows("true", 3) // a request is logged just after its response
	res, err := http.Get(e.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	body := string(raw)
	for _, want := range []string{"\nrelm_request_logs_written_total 3\n", "\nrelm_request_logs_dropped_total 0\n",
		"# TYPE relm_key_cache_hits_total counter\n", "\nrelm_meter_sync_errors_total 0\n"} {
		if !strings.Contains(body, want) {
			t.Fatalf("/metrics lacks %q:\n%s", want, body)
		}
	}
}
