package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestContactLifecycleREST(t *testing.T) {
	t.Parallel()
	e := setup(t)
	created := e.call("POST", "/v1/contacts", e.Live, map[string]any{
		"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace", "metadata": map[string]any{"plan": "pro", "seats": 3},
	}).must(t, http.StatusCreated).Body
	id, _ := created["id"].(string)
	if !strings.HasPrefix(id, "con_") || created["object"] != "contact" || created["mode"] != "live" || created["phone"] != nil {
		t.Fatalf("unexpected contact: %v", created)
	}
	if created["created_at"] == nil || created["updated_at"] == nil {
		t.Fatalf("timestamps missing: %v", created)
	}

	got := e.call("GET", "/v1/contacts/"+id, e.Live, nil).must(t, http.StatusOK).Body
	if got["email"] != "ada@example.com" || got["first_name"] != "Ada" {
		t.Fatalf("get: %v", got)
	}

	// PATCH changes only what is sent; null clears; metadata merges and null removes a key.
	patched := e.call("PATCH", "/v1/contacts/"+id, e.Live, map[string]any{
		"phone": "+14155550100", "last_name": nil, "metadata": map[string]any{"seats": nil, "tier": "gold"},
	}).must(t, http.StatusOK).Body
	if patched["phone"] != "+14155550100" || patched["last_name"] != nil || patched["first_name"] != "Ada" || patched["email"] != "ada@example.com" {
		t.Fatalf("patch: %v", patched)
	}
	if md := patched["metadata"].(map[string]any); md["plan"] != "pro" || md["tier"] != "gold" || len(md) != 2 {
		t.Fatalf("metadata merge: %v", md)
	}
	if patched := e.call("PATCH", "/v1/contacts/"+id, e.Live, map[string]any{"metadata": nil}).must(t, http.StatusOK).Body; len(patched["metadata"].(map[string]any)) != 0 {
		t.Fatalf("metadata null should clear: %v", patched["metadata"])
	}

	del := e.call("DELETE", "/v1/contacts/"+id, e.Live, nil).must(t, http.StatusOK).Body
	if del["id"] != id || del["object"] != "contact" || del["deleted"] != true || len(del) != 3 {
		t.Fatalf("delete: %v", del)
	}
	if r := e.call("GET", "/v1/contacts/"+id, e.Live, nil).must(t, http.StatusNotFound); r.errCode() != "not_found" {
		t.Fatalf("after delete: %s", r.Raw)
	}
	e.call("DELETE", "/v1/contacts/"+id, e.Live, nil).must(t, http.StatusNotFound)
}

func TestContactEmailUnique(t *testing.T) {
	t.Parallel()
	e := setup(t)
	first := e.call("POST", "/v1/contacts", e.Live, map[string]any{"email": "Grace@Example.com"}).must(t, http.StatusCreated).Body
	dup := e.call("POST", "/v1/contacts", e.Live, map[string]any{"email": "grace@example.COM", "first_name": "G"}).must(t, http.StatusConflict)
	errBody := dup.Body["error"].(map[string]any)
	if errBody["code"] != "already_exists" || errBody["existing_id"] != first["id"] || errBody["param"] != "email" {
		t.Fatalf("duplicate: %s", dup.Raw)
	}
	// An update onto a taken email is refused the same way.
	other := e.call("POST", "/v1/contacts", e.Live, map[string]any{"email": "other@example.com"}).must(t, http.StatusCreated).Body
	e.call("PATCH", "/v1/contacts/"+other["id"].(string), e.Live, map[string]any{"email": "GRACE@example.com"}).must(t, http.StatusConflict)
	// The same email is free in test mode and in another workspace.
	e.call("POST", "/v1/contacts", e.Test, map[string]any{"email": "grace@example.com"}).must(t, http.StatusCreated)
	e.call("POST", "/v1/contacts", e.Other, map[string]any{"email": "grace@example.com"}).must(t, http.StatusCreated)
	if n := countContacts(e, e.Live); n != 2 {
		t.Fatalf("live contacts = %d, want 2", n)
	}
}

func TestContactListPaging(t *testing.T) {
	t.Parallel()
	e := setup(t)
	var ids []string
	for i := range 7 {
		c := e.call("POST", "/v1/contacts", e.Live, map[string]any{"email": fmt.Sprintf("p%d@example.com", i)}).must(t, http.StatusCreated).Body
		ids = append(ids, c["id"].(string))
	}
	var seen []string
	cursor := ""
	for pages := 0; ; pages++ {
		path := "/v1/contacts?limit=3"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		page := e.call("GET", path, e.Live, nil).must(t, http.StatusOK).Body
		if page["object"] != "list" {
			t.Fatalf("list object: %v", page)
		}
		for _, d := range page["data"].([]any) {
			seen = append(seen, d.(map[string]any)["id"].(string))
		}
		if page["has_more"] != true {
			if page["next_cursor"] != nil {
				t.Fatalf("last page has a cursor: %v", page)
			}
			break
		}
		cursor = page["next_cursor"].(string)
		if pages > 5 {
			t.Fatal("paging does not end")
		}
	}
	if len(seen) != 7 {
		t.Fatalf("saw %d contacts, want 7: %v", len(seen), seen)
	}
	for i := range seen { // newest first
		if seen[i] != ids[len(ids)-1-i] {
			t.Fatalf("order: got %v, created %v", seen, ids)
		}
	}

	byEmail := e.call("GET", "/v1/contacts?email=P3@EXAMPLE.com", e.Live, nil).must(t, http.StatusOK).Body
	if data := byEmail["data"].([]any); len(data) != 1 || data[0].(map[string]any)["id"] != ids[3] {
		t.Fatalf("filter by email: %v", byEmail)
	}
	// limit above 200 is clamped, not refused.
	e.call("GET", "/v1/contacts?limit=5000", e.Live, nil).must(t, http.StatusOK)
}

func TestContactBadInput(t *testing.T) {
	t.Parallel()
	e := setup(t)
	existing := e.call("POST", "/v1/contacts", e.Live, map[string]any{"email": "keep@example.com", "first_name": "Keep"}).must(t, http.StatusCreated).Body
	path := "/v1/contacts/" + existing["id"].(string)
	cases := []struct {
		name, method, path, body string
		status                   int
		code, param              string
	}{
		{"malformed json", "POST", "/v1/contacts", `{"email":`, 400, "bad_request", ""},
		{"not an object", "POST", "/v1/contacts", `["a"]`, 400, "bad_request", ""},
		{"trailing data", "POST", "/v1/contacts", `{"first_name":"a"} {}`, 400, "bad_request", ""},
		{"wrong type", "POST", "/v1/contacts", `{"email":42}`, 422, "validation_failed", "email"},
		{"bad email", "POST", "/v1/contacts", `{"email":"not-an-email"}`, 422, "validation_failed", "email"},
		{"unknown field", "POST", "/v1/contacts", `{"first_name":"a","favourite_color":"red"}`, 422, "validation_failed", "favourite_color"},
		{"metadata not object", "POST", "/v1/contacts", `{"first_name":"a","metadata":"x"}`, 422, "validation_failed", "metadata"},
		{"empty contact", "POST", "/v1/contacts", `{}`, 422, "validation_failed", ""},
		{"too long", "POST", "/v1/contacts", `{"first_name":"` + strings.Repeat("a", 201) + `"}`, 422, "validation_failed", "first_name"},
		{"bad company id", "POST", "/v1/contacts", `{"first_name":"a","company_id":"acme"}`, 422, "validation_failed", "company_id"},
		{"oversized body", "POST", "/v1/contacts", `{"first_name":"` + strings.Repeat("a", 2<<20) + `"}`, 413, "request_too_large", ""},
		{"patch wrong type", "PATCH", path, `{"first_name":7}`, 422, "validation_failed", "first_name"},
		{"patch bad email", "PATCH", path, `{"email":"nope"}`, 422, "validation_failed", "email"},
		{"patch id in body", "PATCH", path, `{"id":"con_x"}`, 400, "bad_request", "id"},
		{"patch malformed", "PATCH", path, `{`, 400, "bad_request", ""},
		{"impossible id", "GET", "/v1/contacts/garbage", ``, 404, "not_found", "id"},
		{"impossible id patch", "PATCH", "/v1/contacts/cmp_aaaaaaaaaaaaaaaaaaaaaaaaaa", `{"first_name":"x"}`, 404, "not_found", "id"},
		{"unknown id", "PATCH", "/v1/contacts/con_aaaaaaaaaaaaaaaaaaaaaaaaaa", `{"first_name":"x"}`, 404, "not_found", "id"},
		{"bad limit", "GET", "/v1/contacts?limit=abc", ``, 422, "validation_failed", "limit"},
		{"zero limit", "GET", "/v1/contacts?limit=0", ``, 422, "validation_failed", "limit"},
		{"tampered cursor", "GET", "/v1/contacts?cursor=bm9wZQ", ``, 400, "invalid_cursor", "cursor"},
		{"garbage cursor", "GET", "/v1/contacts?cursor=%25%25%25", ``, 400, "invalid_cursor", "cursor"},
		{"unknown query param", "GET", "/v1/contacts?colour=red", ``, 400, "bad_request", "colour"},
		{"repeated query param", "GET", "/v1/contacts?email=a@x.com&email=b@x.com", ``, 400, "bad_request", "email"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := e.with(t)
			var body []byte
			if c.body != "" {
				body = []byte(c.body)
			}
			r := e.do(c.method, c.path, e.Live, body)
			if r.Status != c.status || r.errCode() != c.code {
				t.Fatalf("got %d %s, want %d %s: %s", r.Status, r.errCode(), c.status, c.code, r.Raw)
			}
			eb := r.Body["error"].(map[string]any)
			if c.param != "" && eb["param"] != c.param {
				t.Fatalf("param = %v, want %s: %s", eb["param"], c.param, r.Raw)
			}
			if msg, _ := eb["message"].(string); msg == "" || eb["request_id"] != r.Header.Get("Request-Id") {
				t.Fatalf("error body lacks message or request id: %s", r.Raw)
			}
		})
	}
	// Nothing above wrote anything.
	if n := countContacts(e, e.Live); n != 1 {
		t.Fatalf("contacts = %d after bad requests, want 1", n)
	}
	got := e.call("GET", path, e.Live, nil).must(t, http.StatusOK).Body
	if got["first_name"] != "Keep" || got["updated_at"] != existing["updated_at"] {
		t.Fatalf("contact changed by bad requests: %v", got)
	}
}

func TestUnsupportedMediaType(t *testing.T) {
	t.Parallel()
	e := setup(t)
	r := e.do("POST", "/v1/contacts", e.Live, []byte(`first_name=a`), "Content-Type", "application/x-www-form-urlencoded")
	if r.Status != http.StatusUnsupportedMediaType || r.errCode() != "unsupported_media_type" {
		t.Fatalf("got %d: %s", r.Status, r.Raw)
	}
}

// countContacts pages through every contact visible to key.
func countContacts(e *env, key string) int {
	n, cursor := 0, ""
	for {
		page := e.call("GET", "/v1/contacts?limit=200&cursor="+cursor, key, nil).must(e.t, http.StatusOK).Body
		n += len(page["data"].([]any))
		if page["has_more"] != true {
			return n
		}
		cursor = page["next_cursor"].(string)
	}
}
