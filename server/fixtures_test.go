package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"testing"
)

// create POSTs body to /v1/<resource> with key and returns the new record's id.
func (e *env) create(resource, key string, body map[string]any) string {
	e.t.Helper()
	r := e.call("POST", "/v1/"+resource, key, body)
	if r.Status != http.StatusCreated {
		e.t.Fatalf("create %s: %d %s", resource, r.Status, r.Raw)
	}
	return r.Body["id"].(string)
}

// ids lists the ids of a list response's data.
func ids(r resp) []string {
	var out []string
	for _, d := range r.Body["data"].([]any) {
		out = append(out, d.(map[string]any)["id"].(string))
	}
	return out
}

// sameSet reports whether a and b hold the same ids.
func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	a, b = append([]string(nil), a...), append([]string(nil), b...)
	sort.Strings(a)
	sort.Strings(b)
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// events returns the types of the tenant's events, oldest first.
func (e *env) events(key string) []string {
	e.t.Helper()
	r := e.call("GET", "/v1/events?limit=200", key, nil).must(e.t, http.StatusOK)
	var types []string
	data := r.Body["data"].([]any)
	for i := len(data) - 1; i >= 0; i-- {
		types = append(types, data[i].(map[string]any)["type"].(string))
	}
	return types
}

// lastEvent returns the newest event of a type.
func (e *env) lastEvent(key, typ string) map[string]any {
	e.t.Helper()
	r := e.call("GET", "/v1/events?type="+url.QueryEscape(typ)+"&limit=1", key, nil).must(e.t, http.StatusOK)
	data := r.Body["data"].([]any)
	if len(data) == 0 {
		e.t.Fatalf("no %s event", typ)
	}
	return data[0].(map[string]any)
}

func errOf(r resp) map[string]any {
	e, _ := r.Body["error"].(map[string]any)
	return e
}

func expectError(t *testing.T, r resp, status int, code, param string) map[string]any {
	t.Helper()
	e := errOf(r)
	if r.Status != status || e == nil || e["code"] != code || (param != "" && e["param"] != param) {
		t.Fatalf("want %d %s (param %q), got %d: %s", status, code, param, r.Status, r.Raw)
	}
	return e
}

// expectToolError asserts that an MCP tools/call was answered with a tool error result
// (isError, HTTP 200) whose error body has code, and returns that error.
func expectToolError(t *testing.T, r resp, code string) map[string]any {
	t.Helper()
	res, _ := r.Body["result"].(map[string]any)
	if r.Status != 200 || res == nil || res["isError"] != true {
		t.Fatalf("want a tool error result %s, got %d: %s", code, r.Status, r.Raw)
	}
	var body map[string]any
	text, _ := res["content"].([]any)[0].(map[string]any)["text"].(string)
	if err := json.Unmarshal([]byte(text), &body); err != nil {
		t.Fatalf("tool error text is not JSON: %s", text)
	}
	e, _ := body["error"].(map[string]any)
	if e == nil || e["code"] != code {
		t.Fatalf("want tool error %s, got %s", code, text)
	}
	return e
}

func strs(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, fmt.Sprint(x))
	}
	return out
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

var jsonMarshal = json.Marshal
