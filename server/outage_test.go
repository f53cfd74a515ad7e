package server_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/server"
	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/store/pgtest"
)

// expectUnavailable asserts a REST answer of 503 service_unavailable with Retry-After.
func expectUnavailable(t *testing.T, what string, r resp) {
	t.Helper()
	e := errOf(r)
	if r.Status != http.StatusServiceUnavailable || e == nil || e["code"] != "service_unavailable" ||
		r.Header.Get("Retry-After") != "3" || e["retry_after"] != 3.0 || !strings.Contains(e["message"].(string), "retry") {
		t.Fatalf("%s during the outage: want 503 service_unavailable with Retry-After 3, got %d %v: %s", what, r.Status, r.Header, r.Raw)
	}
}

// recovers waits (a bounded time) until key can list contacts again: the store's pool must
// reconnect by itself, without a restart.
func (e *env) recovers(t *testing.T, key string) {
	t.Helper()
	var r resp
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if r = e.call("GET", "/v1/contacts", key, nil); r.Status == http.StatusOK {
			return
		}
	}
	t.Fatalf("the server did not recover after the outage: %d %s", r.Status, r.Raw)
}

// TestDatabaseOutage cuts the database off under a running server: every authenticated
// route, REST and MCP, answers 503 service_unavailable with Retry-After (the API key cannot
// be looked up), /readyz says so, and once the database is back the same server serves
// again.
func TestDatabaseOutage(t *testing.T) {
	t.Parallel()
	e := setup(t)
	id := e.create("contacts", e.Live, map[string]any{"email": "ada@example.com"})

	restore, err := pgtest.Outage(context.Background(), e.DB)
	if err != nil {
		t.Fatal(err)
	}
	defer restore(context.Background())
	expectUnavailable(t, "list", e.call("GET", "/v1/contacts?limit=5", e.Live, nil))
	expectUnavailable(t, "get", e.call("GET", "/v1/contacts/"+id, e.Live, nil))
	expectUnavailable(t, "create", e.call("POST", "/v1/contacts", e.Test, map[string]any{"email": "grace@example.com"}))
	expectUnavailable(t, "idempotent create", e.post("/v1/contacts", e.Live, "outage-1", `{"email":"grace@example.com"}`))
	expectUnavailable(t, "search", e.call("GET", "/v1/search?q=ada", e.Live, nil))
	call := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_contacts","arguments":{}}}`
	expectUnavailable(t, "MCP", e.do("POST", "/mcp", e.Live, []byte(call), "Accept", "application/json, text/event-stream"))
	if r := e.do("GET", "/readyz", "", nil); r.Status != http.StatusServiceUnavailable {
		t.Fatalf("/readyz during the outage: %d %s", r.Status, r.Raw)
	}
	if r := e.do("GET", "/healthz", "", nil); r.Status != http.StatusOK {
		t.Fatalf("/healthz during the outage: %d %s", r.Status, r.Raw)
	}

	if err := restore(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.recovers(t, e.Live)
	e.call("POST", "/v1/contacts", e.Live, map[string]any{"email": "grace@example.com"}).must(t, http.StatusCreated)
	if n := e.count("contacts", e.Live); n != 2 {
		t.Fatalf("%d contacts after the outage, want 2 (nothing written during it)", n)
	}
}

// TestDatabaseOutageMidRequest cuts the database off after a request was authenticated,
// where each failure point maps it: metering, the capability itself (REST, and MCP as an
// isError result with the same body), and the claim of an idempotency key. After each, the
// same server serves again.
func TestDatabaseOutageMidRequest(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.create("contacts", e.Live, map[string]any{"email": "ada@example.com"})
	cut := &outageTracer{db: e.DB}
	s, err := store.Open(context.Background(), e.DB, store.WithTracer(cut))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	srv, err := server.New(server.Config{Store: s, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), SecretKey: e.Secret})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	traced := *e
	traced.URL, traced.Store, traced.Srv = hs.URL, s, srv
	cs := traced.mcpSession(e.Live, "")

	metering := func(sql string) bool { return strings.Contains(sql, "rate_windows") }
	transaction := func(sql string) bool { return strings.HasPrefix(sql, "BEGIN") }
	read := func(sql string) bool { return strings.Contains(sql, "transaction_read_only") } // store.Read's statements
	for _, c := range []struct {
		name   string
		strike func(sql string) bool
		call   func() resp
	}{
		// Metering reads the database on a key's first request in a process only.
		{"metering", metering, func() resp { return traced.call("GET", "/v1/contacts", e.key("acme", auth.Live), nil) }},
		{"capability", read, func() resp { return traced.call("GET", "/v1/contacts?email=ada@example.com", e.Live, nil) }},
		{"idempotency claim", transaction, func() resp {
			return traced.post("/v1/contacts", e.Live, "outage-2", `{"email":"grace@example.com"}`)
		}},
	} {
		cut.arm(c.strike)
		expectUnavailable(t, c.name, c.call())
		if err := cut.end(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		traced.recovers(t, e.Live)
	}

	// On MCP the same body comes back as an isError result; retry_after stands in for the header.
	cut.arm(read)
	res := tool(t, cs, "list_contacts", map[string]any{})
	if err := cut.end(); err != nil {
		t.Fatal(err)
	}
	if !res.IsError || res.StructuredContent != nil {
		t.Fatalf("MCP call during the outage: want isError without structuredContent, got %+v", res)
	}
	body, _ := decode(t, text(t, res))["error"].(map[string]any)
	if body["code"] != "service_unavailable" || body["retry_after"] != 3.0 || body["request_id"] == nil {
		t.Fatalf("MCP call during the outage: %s", text(t, res))
	}
	traced.recovers(t, e.Live)

	if r := traced.call("GET", "/v1/contacts", e.Live, nil).must(t, http.StatusOK); len(ids(r)) != 1 {
		t.Fatalf("after the outages: %s", r.Raw)
	}
	if res := tool(t, cs, "list_contacts", map[string]any{}); res.IsError {
		t.Fatalf("MCP after the outages: %s", text(t, res))
	}
}

// outageTracer cuts the database off (pgtest.Outage) just before the first statement that
// matches once armed, as a crash would in the middle of a request.
type outageTracer struct {
	db      string
	mu      sync.Mutex
	strike  func(sql string) bool
	restore func(context.Context) error
	err     error
}

func (o *outageTracer) arm(strike func(sql string) bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.strike = strike
}

// end lets connections in again; it fails if the armed outage never happened.
func (o *outageTracer) end() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err != nil {
		return o.err
	}
	if o.restore == nil {
		return errors.New("no statement matched: the outage never happened")
	}
	err := o.restore(context.Background())
	o.restore = nil
	return err
}

func (o *outageTracer) before(sql string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.strike == nil || !o.strike(sql) {
		return
	}
	o.strike = nil
	o.restore, o.err = pgtest.Outage(context.Background(), o.db)
}

func (o *outageTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	o.before(d.SQL)
	return ctx
}

func (o *outageTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (o *outageTracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	for _, q := range d.Batch.QueuedQueries {
		o.before(q.SQL)
	}
	return ctx
}

func (o *outageTracer) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (o *outageTracer) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}
