package server_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/tools"
)

const replayedHeader = "Idempotent-Replayed"

// post sends a raw JSON body with an Idempotency-Key.
func (e *env) post(path, key, idemKey, body string) resp {
	e.t.Helper()
	return e.do("POST", path, key, []byte(body), "Idempotency-Key", idemKey)
}

// count returns how many records a list route holds for key.
func (e *env) count(resource, key string) int {
	e.t.Helper()
	return len(ids(e.call("GET", "/v1/"+resource+"?limit=200", key, nil).must(e.t, http.StatusOK)))
}

// caller is the tenant behind workspace and mode, for store-level checks.
func (e *env) caller(workspace string, mode auth.Mode) auth.Caller {
	e.t.Helper()
	ws, _, err := e.Admin.EnsureWorkspace(context.Background(), workspace)
	if err != nil {
		e.t.Fatal(err)
	}
	return auth.Caller{WorkspaceID: ws.ID, Mode: mode}
}

// requestHash is the idempotency hash the server computes for a raw body sent to tool.
func (e *env) requestHash(toolName, body string) []byte {
	e.t.Helper()
	entry, ok := e.Srv.Registry.Lookup(toolName)
	if !ok {
		e.t.Fatalf("no tool %s", toolName)
	}
	args, derr := tools.DecodeArgs([]byte(body))
	if derr != nil {
		e.t.Fatal(derr)
	}
	h, err := entry.RequestHash(args)
	if err != nil {
		e.t.Fatal(err)
	}
	return h
}

func expectEvents(t *testing.T, e *env, key string, want ...string) {
	t.Helper()
	if got := e.events(key); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("events %v, want %v", got, want)
	}
}

func TestIdempotentReplay(t *testing.T) {
	t.Parallel()
	e := setup(t)
	first := e.post("/v1/contacts", e.Live, "order-1",
		`{"email":"ada@example.com","first_name":"Ada","metadata":{"n":1.0,"big":12345678901234567890,"tags":["a","b"]}}`).
		must(t, http.StatusCreated)
	if first.Header.Get(replayedHeader) != "" {
		t.Fatalf("a first request is not a replay: %v", first.Header)
	}
	// Key order, whitespace and the spelling of numbers do not matter.
	again := e.post("/v1/contacts", e.Live, "order-1",
		"{ \"metadata\": {\"tags\":[\"a\",\"b\"], \"big\": 1234567890123456789e1, \"n\": 1},\n \"first_name\": \"Ada\", \"email\": \"ada@example.com\" }").
		must(t, http.StatusCreated)
	if !bytes.Equal(again.Raw, first.Raw) || again.Header.Get(replayedHeader) != "true" {
		t.Fatalf("replay differs: %s (%v), want %s", again.Raw, again.Header, first.Raw)
	}
	if again.Header.Get("Request-Id") == first.Header.Get("Request-Id") {
		t.Fatal("a replay is still a request of its own")
	}
	if n := e.count("contacts", e.Live); n != 1 {
		t.Fatalf("%d contacts, want 1", n)
	}
	expectEvents(t, e, e.Live, "contact.created")

	// The same key with another body, or on another route, is a conflict; nothing is written.
	for _, bad := range []struct{ path, body string }{
		{"/v1/contacts", `{"email":"ada@example.com","first_name":"Ada","metadata":{"n":2}}`},
		{"/v1/contacts", `{"email":"ada@example.com","first_name":"Ada","metadata":{"n":1.0,"big":12345678901234567891,"tags":["a","b"]}}`},
		{"/v1/companies", `{"name":"Analytical Engines"}`},
	} {
		r := e.post(bad.path, e.Live, "order-1", bad.body)
		expectError(t, r, http.StatusConflict, "idempotency_conflict", "")
		if r.Header.Get(replayedHeader) != "" {
			t.Fatalf("a conflict is not a replay: %v", r.Header)
		}
	}
	if e.count("contacts", e.Live) != 1 || e.count("companies", e.Live) != 0 {
		t.Fatal("a conflicting request wrote something")
	}
	expectEvents(t, e, e.Live, "contact.created")

	// Without a key, or with another one, requests run as usual.
	e.post("/v1/contacts", e.Live, "order-2", `{"first_name":"Grace"}`).must(t, http.StatusCreated)
	e.call("POST", "/v1/contacts", e.Live, map[string]any{"first_name": "Grace"}).must(t, http.StatusCreated)
	if n := e.count("contacts", e.Live); n != 3 {
		t.Fatalf("%d contacts, want 3", n)
	}
}

func TestIdempotencyKeyValidation(t *testing.T) {
	t.Parallel()
	e := setup(t)
	body := `{"first_name":"Ada"}`
	for name, key := range map[string]string{"empty": "", "blank": "   ", "too long": strings.Repeat("k", 256)} {
		r := e.post("/v1/contacts", e.Live, key, body)
		expectError(t, r, http.StatusBadRequest, "bad_request", "Idempotency-Key")
		if name == "too long" && !strings.Contains(errOf(r)["message"].(string), "255") {
			t.Fatalf("the message should give the limit: %s", r.Raw)
		}
	}
	if n := e.count("contacts", e.Live); n != 0 {
		t.Fatalf("%d contacts written by rejected requests", n)
	}
	// 255 characters, counted as characters, not bytes.
	e.post("/v1/contacts", e.Live, strings.Repeat("k", 255), body).must(t, http.StatusCreated)
	e.post("/v1/contacts", e.Live, strings.Repeat("é", 255), body).must(t, http.StatusCreated)

	// The header is given twice.
	req, _ := http.NewRequest("POST", e.URL+"/v1/contacts", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+e.Live)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Add("Idempotency-Key", "a")
	req.Header.Add("Idempotency-Key", "b")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	expectError(t, resp{Status: res.StatusCode, Raw: raw, Body: decode(t, string(raw))}, http.StatusBadRequest, "bad_request", "Idempotency-Key")

	// A new API key's secret is never stored, so its creation cannot be replayed.
	expectError(t, e.post("/v1/api_keys", e.Live, "key-1", `{}`), http.StatusBadRequest, "bad_request", "Idempotency-Key")

	// The key is an MCP argument, not a REST body field.
	expectError(t, e.call("POST", "/v1/contacts", e.Live, map[string]any{"first_name": "Ada", "idempotency_key": "k"}),
		http.StatusUnprocessableEntity, "validation_failed", "idempotency_key")

	// Methods other than POST ignore the header.
	id := e.create("contacts", e.Live, map[string]any{"first_name": "Grace"})
	for range 2 {
		e.do("PATCH", "/v1/contacts/"+id, e.Live, []byte(`{"last_name":"Hopper"}`), "Idempotency-Key", "patch-1").must(t, http.StatusOK)
	}
	if n := e.count("contacts", e.Live); n != 3 {
		t.Fatalf("%d contacts, want 3", n)
	}
}

func TestIdempotencyScope(t *testing.T) {
	t.Parallel()
	e := setup(t)
	body := `{"email":"ada@example.com"}`
	seen := map[string]bool{}
	for _, key := range []string{e.Live, e.Test, e.Other} {
		r := e.post("/v1/contacts", key, "shared-key", body).must(t, http.StatusCreated)
		if r.Header.Get(replayedHeader) != "" || seen[r.Body["id"].(string)] {
			t.Fatalf("a key is scoped to its workspace and mode: %s %v", r.Raw, r.Header)
		}
		seen[r.Body["id"].(string)] = true
		expectEvents(t, e, key, "contact.created")
	}
	// Each tenant replays its own response.
	for _, key := range []string{e.Live, e.Test, e.Other} {
		r := e.post("/v1/contacts", key, "shared-key", body).must(t, http.StatusCreated)
		if r.Header.Get(replayedHeader) != "true" || r.Body["mode"] != map[string]string{e.Live: "live", e.Test: "test", e.Other: "live"}[key] {
			t.Fatalf("replay: %s %v", r.Raw, r.Header)
		}
	}
}

func TestIdempotencyStoresClientErrors(t *testing.T) {
	t.Parallel()
	e := setup(t)
	bad := e.post("/v1/contacts", e.Live, "k-invalid", `{"email":"not an email"}`)
	expectError(t, bad, http.StatusUnprocessableEntity, "validation_failed", "email")
	again := e.post("/v1/contacts", e.Live, "k-invalid", `{"email": "not an email"}`)
	if again.Status != bad.Status || !bytes.Equal(again.Raw, bad.Raw) || again.Header.Get(replayedHeader) != "true" {
		t.Fatalf("a 4xx is replayed as stored: %d %s %v, want %s", again.Status, again.Raw, again.Header, bad.Raw)
	}
	// The stored error keeps the first request's id.
	if errOf(again)["request_id"] != bad.Header.Get("Request-Id") {
		t.Fatalf("request_id %v, want the original %s", errOf(again)["request_id"], bad.Header.Get("Request-Id"))
	}
	// Fixing the body needs a new key.
	expectError(t, e.post("/v1/contacts", e.Live, "k-invalid", `{"email":"ada@example.com"}`), http.StatusConflict, "idempotency_conflict", "")

	// A domain error (already_exists) is stored too.
	e.create("contacts", e.Live, map[string]any{"email": "grace@example.com"})
	dup := e.post("/v1/contacts", e.Live, "k-dup", `{"email":"grace@example.com"}`)
	expectError(t, dup, http.StatusConflict, "already_exists", "")
	if r := e.post("/v1/contacts", e.Live, "k-dup", `{"email":"grace@example.com"}`); !bytes.Equal(r.Raw, dup.Raw) || r.Header.Get(replayedHeader) != "true" {
		t.Fatalf("already_exists replay: %s", r.Raw)
	}

	// A request rejected before the operation runs (malformed JSON) is not stored.
	expectError(t, e.post("/v1/contacts", e.Live, "k-json", `{"first_name":`), http.StatusBadRequest, "bad_request", "")
	e.post("/v1/contacts", e.Live, "k-json", `{"first_name":"Ada"}`).must(t, http.StatusCreated)
	expectEvents(t, e, e.Live, "contact.created", "contact.created")
}

// TestIdempotencyStore checks the store's claim protocol directly, including what HTTP
// cannot easily provoke: a 5xx releases the key.
func TestIdempotencyStore(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	c := e.caller("acme", auth.Live)
	hash, other := []byte("hash-a"), []byte("hash-b")

	claim, err := e.Store.ClaimIdempotencyKey(ctx, c, "k", hash)
	if err != nil || claim.State != store.IdempotencyClaimed {
		t.Fatalf("first claim: %+v %v", claim, err)
	}
	for h, want := range map[string]store.IdempotencyState{"hash-a": store.IdempotencyInProgress, "hash-b": store.IdempotencyConflict} {
		if got, err := e.Store.ClaimIdempotencyKey(ctx, c, "k", []byte(h)); err != nil || got.State != want {
			t.Fatalf("claim while in progress with %s: %+v %v, want %v", h, got, err, want)
		}
	}
	// A 5xx is not stored: the key is free again.
	if err := e.Store.FinishIdempotencyKey(ctx, c, claim, http.StatusInternalServerError, []byte(`{"error":{}}`)); err != nil {
		t.Fatal(err)
	}
	claim, err = e.Store.ClaimIdempotencyKey(ctx, c, "k", other)
	if err != nil || claim.State != store.IdempotencyClaimed {
		t.Fatalf("claim after a 5xx: %+v %v", claim, err)
	}
	if err := e.Store.FinishIdempotencyKey(ctx, c, claim, http.StatusCreated, []byte(`{"id":"x"}`)); err != nil {
		t.Fatal(err)
	}
	got, err := e.Store.ClaimIdempotencyKey(ctx, c, "k", other)
	if err != nil || got.State != store.IdempotencyReplay || got.Status != http.StatusCreated || string(got.Body) != `{"id":"x"}` {
		t.Fatalf("replay: %+v %v", got, err)
	}
	if got, _ := e.Store.ClaimIdempotencyKey(ctx, c, "k", hash); got.State != store.IdempotencyConflict {
		t.Fatalf("a done key with another hash: %+v", got)
	}
	// The same key in the other mode is another key.
	if got, _ := e.Store.ClaimIdempotencyKey(ctx, e.caller("acme", auth.Test), "k", hash); got.State != store.IdempotencyClaimed {
		t.Fatalf("test mode: %+v", got)
	}

	// A claim outliving its lease is taken over by the same request, and the first holder
	// can no longer finish it.
	stale, _ := e.Store.ClaimIdempotencyKey(ctx, c, "slow", hash)
	e.exec(`UPDATE idempotency_keys SET created_at = created_at - interval '3 minutes' WHERE key = 'slow'`)
	if got, _ := e.Store.ClaimIdempotencyKey(ctx, c, "slow", other); got.State != store.IdempotencyConflict {
		t.Fatalf("a stale claim is not taken over by another request: %+v", got)
	}
	fresh, err := e.Store.ClaimIdempotencyKey(ctx, c, "slow", hash)
	if err != nil || fresh.State != store.IdempotencyClaimed {
		t.Fatalf("takeover: %+v %v", fresh, err)
	}
	if err := e.Store.FinishIdempotencyKey(ctx, c, stale, http.StatusCreated, []byte(`{}`)); err == nil {
		t.Fatal("the first holder finished a claim that was taken over")
	}
	if err := e.Store.FinishIdempotencyKey(ctx, c, fresh, http.StatusCreated, []byte(`{"n":2}`)); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.Store.ClaimIdempotencyKey(ctx, c, "slow", hash); string(got.Body) != `{"n":2}` {
		t.Fatalf("replay after takeover: %+v", got)
	}
}

func TestIdempotencyInProgress(t *testing.T) {
	t.Parallel()
	e := setup(t)
	body := `{"email":"ada@example.com","first_name":"Ada"}`
	c := e.caller("acme", auth.Live)
	claim, err := e.Store.ClaimIdempotencyKey(context.Background(), c, "busy", e.requestHash("create_contact", body))
	if err != nil || claim.State != store.IdempotencyClaimed {
		t.Fatalf("claim: %+v %v", claim, err)
	}
	r := e.post("/v1/contacts", e.Live, "busy", body)
	expectError(t, r, http.StatusConflict, "idempotency_in_progress", "")
	if r.Header.Get(replayedHeader) != "" {
		t.Fatalf("in progress is not a replay: %v", r.Header)
	}
	expectError(t, e.post("/v1/contacts", e.Live, "busy", `{"first_name":"Other"}`), http.StatusConflict, "idempotency_conflict", "")
	if n := e.count("contacts", e.Live); n != 0 {
		t.Fatalf("%d contacts written while the key was busy", n)
	}
	expectEvents(t, e, e.Live)

	// Once the first request finishes, its response is what a retry gets.
	stored := []byte(`{"id":"con_stored","object":"contact"}`)
	if err := e.Store.FinishIdempotencyKey(context.Background(), c, claim, http.StatusCreated, stored); err != nil {
		t.Fatal(err)
	}
	r = e.post("/v1/contacts", e.Live, "busy", body).must(t, http.StatusCreated)
	if !bytes.Equal(r.Raw, stored) || r.Header.Get(replayedHeader) != "true" {
		t.Fatalf("after finishing: %s %v", r.Raw, r.Header)
	}
}

// TestIdempotencyRetryAfter: a retry that finds its key held by a request that died (a
// claim taken directly through the store and abandoned, as a crash leaves it) learns when
// to come back, on REST (Retry-After) and MCP (retry_after): about as long again as the
// first request has run, and no later than the end of its lease, when the retry takes the
// key over.
func TestIdempotencyRetryAfter(t *testing.T) {
	t.Parallel()
	e := setup(t)
	body := `{"email":"ada@example.com"}`
	c := e.caller("acme", auth.Live)
	if claim, err := e.Store.ClaimIdempotencyKey(context.Background(), c, "crashed", e.requestHash("create_contact", body)); err != nil || claim.State != store.IdempotencyClaimed {
		t.Fatalf("claim: %+v %v", claim, err)
	}
	age := func(seconds int) {
		e.exec(`UPDATE idempotency_keys SET created_at = created_at - make_interval(secs => $1) WHERE key = 'crashed'`, seconds)
	}
	retryAfter := func(min, max int) {
		t.Helper()
		r := e.post("/v1/contacts", e.Live, "crashed", body)
		eb := expectError(t, r, http.StatusConflict, "idempotency_in_progress", "")
		header, _ := strconv.Atoi(r.Header.Get("Retry-After"))
		if header < min || header > max || eb["retry_after"] != float64(header) ||
			!strings.Contains(eb["message"].(string), "Retry in "+strconv.Itoa(header)+" seconds") {
			t.Fatalf("Retry-After %q, want %d to %d and the same in the body: %s", r.Header.Get("Retry-After"), min, max, r.Raw)
		}
	}
	retryAfter(1, 1) // just claimed: probably still running, poll again soon
	age(30)
	retryAfter(30, 32) // about as long again
	age(60)
	retryAfter(29, 31) // 90 s old: the lease ends in 30 s, when a retry takes the key over

	res := tool(t, e.mcpSession(e.Live, ""), "create_contact", map[string]any{"email": "ada@example.com", "idempotency_key": "crashed"})
	eb, _ := decode(t, text(t, res))["error"].(map[string]any)
	if !res.IsError || eb["code"] != "idempotency_in_progress" || eb["retry_after"].(float64) < 29 || eb["retry_after"].(float64) > 31 ||
		!strings.Contains(eb["message"].(string), "seconds") {
		t.Fatalf("MCP: %s", text(t, res))
	}
	if n := e.count("contacts", e.Live); n != 0 {
		t.Fatalf("%d contacts written while the key was held", n)
	}

	age(31) // past the lease: the retry takes the key over and runs once
	e.post("/v1/contacts", e.Live, "crashed", body).must(t, http.StatusCreated)
	expectEvents(t, e, e.Live, "contact.created")
}

// TestIdempotencyConcurrent: 20 clients send one request with one key at once, half to a
// second server process on the same database; it runs once.
func TestIdempotencyConcurrent(t *testing.T) {
	t.Parallel()
	e := setup(t)
	urls := []string{e.URL, e.instance(e.Secret).URL}
	const clients = 20
	body := `{"email":"race@example.com","first_name":"Race"}`
	type result struct {
		status   int
		raw      []byte
		replayed string
		err      error
	}
	results := make([]result, clients)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			<-start
			req, err := http.NewRequest("POST", urls[i%2]+"/v1/contacts", strings.NewReader(body))
			if err != nil {
				results[i].err = err
				return
			}
			req.Header.Set("Authorization", "Bearer "+e.Live)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Idempotency-Key", "race-1")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				results[i].err = err
				return
			}
			defer res.Body.Close()
			raw, err := io.ReadAll(res.Body)
			results[i] = result{status: res.StatusCode, raw: raw, replayed: res.Header.Get(replayedHeader), err: err}
		})
	}
	close(start)
	wg.Wait()

	var created []byte
	originals, replays, busy := 0, 0, 0
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("client %d: %v", i, r.err)
		}
		switch {
		case r.status == http.StatusCreated:
			if created == nil {
				created = r.raw
			} else if !bytes.Equal(created, r.raw) {
				t.Fatalf("client %d got another record: %s vs %s", i, r.raw, created)
			}
			if r.replayed == "true" {
				replays++
			} else {
				originals++
			}
		case r.status == http.StatusConflict && bytes.Contains(r.raw, []byte(`"idempotency_in_progress"`)):
			busy++
		default:
			t.Fatalf("client %d: %d %s", i, r.status, r.raw)
		}
	}
	if originals != 1 {
		t.Fatalf("%d requests ran (%d replays, %d in progress), want exactly 1", originals, replays, busy)
	}
	if n := e.count("contacts", e.Live); n != 1 {
		t.Fatalf("%d contacts, want 1", n)
	}
	expectEvents(t, e, e.Live, "contact.created")
	t.Logf("%d clients: 1 ran, %d replayed, %d found it in progress", clients, replays, busy)
}

func TestIdempotencyMCP(t *testing.T) {
	t.Parallel()
	e := setup(t)
	cs := e.mcpSession(e.Live, "")

	// The argument is published on the tools whose REST route is a POST, and only there.
	list, err := cs.ListTools(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tl := range list.Tools {
		props, _ := tl.InputSchema.(map[string]any)["properties"].(map[string]any)
		_, has := props["idempotency_key"]
		entry, _ := e.Srv.Registry.Lookup(tl.Name)
		want := entry.REST != nil && entry.REST.Method == http.MethodPost && !entry.SecretOutput && !entry.Transient
		if has != want {
			t.Errorf("%s: idempotency_key published %v, want %v", tl.Name, has, want)
		}
		own, _ := entry.InputSchema["properties"].(map[string]any)
		if _, inREST := own["idempotency_key"]; inREST {
			t.Errorf("%s: idempotency_key leaked into the capability's own schema", tl.Name)
		}
	}

	args := map[string]any{"email": "mcp@example.com", "first_name": "Mia", "idempotency_key": "mcp-1"}
	first := tool(t, cs, "create_contact", args)
	if first.IsError {
		t.Fatalf("create: %s", text(t, first))
	}
	second := tool(t, cs, "create_contact", map[string]any{"idempotency_key": "mcp-1", "first_name": "Mia", "email": "mcp@example.com"})
	if second.IsError || text(t, second) != text(t, first) {
		t.Fatalf("replay %s, want %s", text(t, second), text(t, first))
	}
	if n := e.count("contacts", e.Live); n != 1 {
		t.Fatalf("%d contacts, want 1", n)
	}
	expectEvents(t, e, e.Live, "contact.created")

	// REST and MCP share the key space: the same request over REST replays the MCP result.
	r := e.post("/v1/contacts", e.Live, "mcp-1", `{"first_name":"Mia","email":"mcp@example.com"}`).must(t, http.StatusCreated)
	if string(r.Raw) != text(t, first) || r.Header.Get(replayedHeader) != "true" {
		t.Fatalf("REST replay of an MCP call: %s", r.Raw)
	}

	conflict := tool(t, cs, "create_contact", map[string]any{"email": "other@example.com", "idempotency_key": "mcp-1"})
	if !conflict.IsError || decode(t, text(t, conflict))["error"].(map[string]any)["code"] != "idempotency_conflict" {
		t.Fatalf("conflict: %s", text(t, conflict))
	}
	// Errors are stored and replayed as the same isError result.
	bad := tool(t, cs, "create_contact", map[string]any{"email": "nope", "idempotency_key": "mcp-2"})
	badAgain := tool(t, cs, "create_contact", map[string]any{"email": "nope", "idempotency_key": "mcp-2"})
	if !bad.IsError || !badAgain.IsError || text(t, bad) != text(t, badAgain) {
		t.Fatalf("error replay: %s vs %s", text(t, bad), text(t, badAgain))
	}
	for _, key := range []any{"", strings.Repeat("k", 256), 42, nil} {
		res := tool(t, cs, "create_contact", map[string]any{"first_name": "X", "idempotency_key": key})
		body := decode(t, text(t, res))["error"].(map[string]any)
		if !res.IsError || body["code"] != "validation_failed" || body["param"] != "idempotency_key" {
			t.Fatalf("key %v: %s", key, text(t, res))
		}
	}
	// Tools without the argument reject it like any unknown argument.
	res := tool(t, cs, "list_contacts", map[string]any{"idempotency_key": "x"})
	if !res.IsError || !strings.Contains(text(t, res), "idempotency_key") {
		t.Fatalf("list_contacts with idempotency_key: %s", text(t, res))
	}
	if n := e.count("contacts", e.Live); n != 1 {
		t.Fatalf("%d contacts, want 1", n)
	}
	expectEvents(t, e, e.Live, "contact.created")
}

func TestIdempotencyExpiry(t *testing.T) {
	t.Parallel()
	e := setup(t)
	body := `{"first_name":"Ada"}`
	first := e.post("/v1/contacts", e.Live, "old", body).must(t, http.StatusCreated)
	if n := e.exec(`UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = 'old'`); n != 1 {
		t.Fatalf("aged %d keys, want 1", n)
	}
	// An expired key is a new key, with the same body or another.
	second := e.post("/v1/contacts", e.Live, "old", body).must(t, http.StatusCreated)
	if second.Header.Get(replayedHeader) != "" || second.Body["id"] == first.Body["id"] {
		t.Fatalf("an expired key was replayed: %s", second.Raw)
	}
	if r := e.post("/v1/contacts", e.Live, "old", body).must(t, http.StatusCreated); r.Header.Get(replayedHeader) != "true" {
		t.Fatal("the renewed key is not remembered")
	}
	expectEvents(t, e, e.Live, "contact.created", "contact.created")

	e.post("/v1/contacts", e.Live, "expired", `{"first_name":"Grace"}`).must(t, http.StatusCreated)
	e.post("/v1/contacts", e.Test, "expired", `{"first_name":"Grace"}`).must(t, http.StatusCreated)
	e.exec(`UPDATE idempotency_keys SET created_at = now() - interval '24 hours 1 second' WHERE key = 'expired'`)
	n, err := e.Store.PurgeIdempotencyKeys(context.Background())
	if err != nil || n != 2 {
		t.Fatalf("purged %d (%v), want 2", n, err)
	}
	if left := e.exec(`UPDATE idempotency_keys SET key = key`); left != 1 {
		t.Fatalf("%d keys left, want only the fresh one", left)
	}
	if n, _ := e.Store.PurgeIdempotencyKeys(context.Background()); n != 0 {
		t.Fatalf("purged %d fresh keys", n)
	}
}
