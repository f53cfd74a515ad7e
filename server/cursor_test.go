package server_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/relmcrm/relm/server"
	"github.com/relmcrm/relm/store"
)

// listRoutes are the REST lists that page with a cursor.
var listRoutes = []string{"/v1/contacts", "/v1/companies", "/v1/deals", "/v1/activities", "/v1/associations",
	"/v1/events", "/v1/request_logs", "/v1/search?q=ada"}

// craftedCursors are cursors no server issued: the old unsigned format with a NUL or
// invalid UTF-8 id (which once reached SQL and answered 500), forgeries of the current
// format, and text that is not a cursor at all.
var craftedCursors = []string{
	base64.RawURLEncoding.EncodeToString([]byte("contact|1|con_\x00")),
	base64.RawURLEncoding.EncodeToString([]byte("contact|1|\xff\xfe")),
	base64.RawURLEncoding.EncodeToString([]byte("search|1e308|con_x")),
	base64.RawURLEncoding.EncodeToString(append([]byte{1, 0, 0, 0, 0, 0, 0, 0, 1}, "con_x0123456789abcdef"...)),
	base64.RawURLEncoding.EncodeToString([]byte{1}),
	"AQ", "bm9wZQ", "%%%", "====", "a b", strings.Repeat("A", 513), strings.Repeat("A", 70_000),
}

// join adds a query parameter to a path that may have a query already.
func join(path, param string) string {
	if strings.Contains(path, "?") {
		return path + "&" + param
	}
	return path + "?" + param
}

// TestCursorsAreBound: a cursor continues only the list call that issued it (same route,
// filters and other arguments, any limit), for the same workspace and mode, on any server
// process sharing the secret key, over REST or MCP alike; anything else is 400
// invalid_cursor on cursor, never a 5xx.
func TestCursorsAreBound(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for _, email := range []string{"ada@example.com", "adam@example.com", "adele@example.com"} {
		contact := e.create("contacts", e.Live, map[string]any{"email": email, "first_name": "Ada"})
		e.create("companies", e.Live, map[string]any{"name": "Ada " + email})
		e.create("activities", e.Live, map[string]any{"type": "note", "subject": "ada", "contact_id": contact})
		e.create("contacts", e.Test, map[string]any{"email": email})
		e.create("contacts", e.Other, map[string]any{"email": email})
	}
	page := e.call("GET", "/v1/contacts?limit=1&first_name=Ada", e.Live, nil).must(t, http.StatusOK)
	cursor := page.Body["next_cursor"].(string)
	q := "&cursor=" + url.QueryEscape(cursor)

	// The same call continues, whatever the limit, on REST and on MCP.
	next := e.call("GET", "/v1/contacts?limit=2&first_name=Ada"+q, e.Live, nil).must(t, http.StatusOK)
	if len(ids(next)) != 2 || ids(next)[0] == ids(page)[0] {
		t.Fatalf("second page: %s", next.Raw)
	}
	if r := e.call("GET", "/v1/contacts?filter[first_name]=Ada"+q, e.Live, nil).must(t, http.StatusOK); string(r.Raw) != string(next.Raw) {
		t.Fatalf("the same filter spelled filter[first_name]: %s", r.Raw)
	}
	res := tool(t, e.mcpSession(e.Live, ""), "list_contacts", map[string]any{"limit": 2, "filter": map[string]any{"first_name": "Ada"}, "cursor": cursor})
	if res.IsError || !strings.Contains(text(t, res), ids(next)[0]) {
		t.Fatalf("the REST cursor over MCP: %s", text(t, res))
	}
	// So does another server process with the same secret key; one with another key refuses it.
	if r := e.instance(e.Secret).call("GET", "/v1/contacts?first_name=Ada"+q, e.Live, nil); r.Status != http.StatusOK {
		t.Fatalf("another process with the same secret: %d %s", r.Status, r.Raw)
	}
	expectError(t, e.instance(server.NewSecretKey()).call("GET", "/v1/contacts?first_name=Ada"+q, e.Live, nil), 400, "invalid_cursor", "cursor")

	for name, r := range map[string]resp{
		"another workspace": e.call("GET", "/v1/contacts?first_name=Ada"+q, e.Other, nil),
		"another mode":      e.call("GET", "/v1/contacts?first_name=Ada"+q, e.Test, nil),
		"another filter":    e.call("GET", "/v1/contacts?first_name=Adam"+q, e.Live, nil),
		"no filter":         e.call("GET", "/v1/contacts?"+q[1:], e.Live, nil),
		"a filter added":    e.call("GET", "/v1/contacts?first_name=Ada&email=ada@example.com"+q, e.Live, nil),
	} {
		if errOf(r) == nil || errOf(r)["code"] != "invalid_cursor" {
			t.Errorf("%s: %d %s, want invalid_cursor", name, r.Status, r.Raw)
			continue
		}
		expectError(t, r, 400, "invalid_cursor", "cursor")
	}
	for _, route := range listRoutes[1:] {
		expectError(t, e.call("GET", join(route, "cursor="+url.QueryEscape(cursor)), e.Live, nil), 400, "invalid_cursor", "cursor")
	}

	// Search cursors are bound to q and types.
	s := e.call("GET", "/v1/search?q=ada&limit=1", e.Live, nil).must(t, http.StatusOK)
	sc := "&cursor=" + url.QueryEscape(s.Body["next_cursor"].(string))
	e.call("GET", "/v1/search?q=ada&limit=3"+sc, e.Live, nil).must(t, http.StatusOK)
	expectError(t, e.call("GET", "/v1/search?q=adam"+sc, e.Live, nil), 400, "invalid_cursor", "cursor")
	expectError(t, e.call("GET", "/v1/search?q=ada&types=contact"+sc, e.Live, nil), 400, "invalid_cursor", "cursor")

	// Tampered, truncated, padded and crafted cursors, on every list.
	tampered := []byte(cursor)
	tampered[len(tampered)/2] ^= 1
	for _, c := range append([]string{string(tampered), cursor[:len(cursor)-1], cursor[:len(cursor)/2], cursor + "A", cursor + "="}, craftedCursors...) {
		for _, route := range listRoutes {
			r := e.call("GET", join(route, "cursor="+url.QueryEscape(c)), e.Live, nil)
			if len(c) > 64<<10 { // refused by the general limit on strings first
				expectError(t, r, 422, "validation_failed", "cursor")
				continue
			}
			expectError(t, r, 400, "invalid_cursor", "cursor")
		}
	}
}

// instance serves e's database from a second server process whose secret key is secret.
func (e *env) instance(secret []byte) *env {
	e.t.Helper()
	s, err := store.Open(context.Background(), e.DB)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(s.Close)
	srv, err := server.New(server.Config{Store: s, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), SecretKey: secret})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = srv.Close(context.Background()) })
	hs := httptest.NewServer(srv)
	e.t.Cleanup(hs.Close)
	other := *e
	other.URL, other.Store, other.Srv, other.Secret = hs.URL, s, srv, secret
	return &other
}

// FuzzCursorRoute sends arbitrary cursors, limits and filter values to the list routes, in
// process against a real database: every answer is JSON and none is a 5xx. `go test` runs
// the seeds (the crafted cursors, and real cursors of each list); `just fuzz` explores.
func FuzzCursorRoute(f *testing.F) {
	e := setupWith(f, func(c *server.Config) { c.Limits.RateLimit = 1 << 30 })
	contact := e.create("contacts", e.Test, map[string]any{"email": "ada@example.com", "first_name": "Ada"})
	for i := range 2 {
		e.create("contacts", e.Test, map[string]any{"first_name": "Ada", "last_name": string(rune('a' + i))})
		e.create("companies", e.Test, map[string]any{"name": "Ada Co"})
		e.create("deals", e.Test, map[string]any{"title": "Ada deal"})
		e.create("activities", e.Test, map[string]any{"type": "note", "subject": "Ada", "contact_id": contact})
	}
	for i, route := range listRoutes {
		if next, ok := e.call("GET", join(route, "limit=1"), e.Test, nil).Body["next_cursor"].(string); ok {
			f.Add(uint8(i), next, "1", "")
			f.Add(uint8(i+1), next, "", "")
		}
	}
	for i, c := range craftedCursors {
		f.Add(uint8(i), c, "", "")
	}
	f.Add(uint8(0), "", "0", "con_\x00")
	f.Add(uint8(1), "AQ", "-1", "2026-13-45")
	f.Add(uint8(2), "", "99999999999999999999", "' OR 1=1 --")
	f.Add(uint8(7), "", "1e3", "\xff")
	f.Fuzz(func(t *testing.T, route uint8, cursor, limit, filter string) {
		q := url.Values{"cursor": {cursor}}
		if limit != "" {
			q.Set("limit", limit)
		}
		if filter != "" {
			q.Set("filter[id][lt]", filter)
		}
		req := httptest.NewRequest("GET", join(listRoutes[int(route)%len(listRoutes)], q.Encode()), nil)
		req.Header.Set("Authorization", "Bearer "+e.Test)
		rec := httptest.NewRecorder()
		e.Srv.ServeHTTP(rec, req)
		if rec.Code >= 500 || !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s: %d %s", req.URL, rec.Code, rec.Body.Bytes())
		}
	})
}
