package server_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestHostileInputToEveryWriteRoute sends malformed JSON, wrong types, huge numbers,
// invalid UTF-8, deep nesting and SQL-looking strings to every write route: each answer is
// a 4xx (SQL-looking strings are just text: written or refused, never a 5xx), and the
// malformed ones write nothing.
func TestHostileInputToEveryWriteRoute(t *testing.T) {
	t.Parallel()
	e := setup(t)
	contact := e.create("contacts", e.Live, map[string]any{"first_name": "Target"})
	ids := map[string]string{ // route prefix -> an existing record for its {id}
		"/v1/contacts/":   contact,
		"/v1/companies/":  e.create("companies", e.Live, map[string]any{"name": "Target Co"}),
		"/v1/deals/":      e.create("deals", e.Live, map[string]any{"title": "Target deal"}),
		"/v1/activities/": e.create("activities", e.Live, map[string]any{"type": "note", "contact_id": contact}),
		"/v1/api_keys/":   "key_aaaaaaaaaaaaaaaaaaaaaaaaaa",
	}
	before := len(e.events(e.Live))
	deep := strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 40)
	malformed := map[string]string{
		"truncated JSON":  `{"name":`,
		"not an object":   `[1,2,3]`,
		"a bare string":   `"hello"`,
		"wrong types":     `{"id":5,"name":7,"title":[],"email":{},"type":false,"contacts":"x","stage":1}`,
		"huge numbers":    `{"value_cents":1e999,"limit":123456789012345678901234567890,"name":1e308}`,
		"invalid UTF-8":   "{\"name\":\"\xff\xfe\",\"first_name\":\"\xc3\x28\"}",
		"deep nesting":    `{"metadata":` + deep + `}`,
		"unknown fields":  `{"zzz_not_a_field":1}`,
		"duplicate JSON":  `{"name":"a"} {"name":"b"}`,
		"null body":       `null`,
		"number body":     `42`,
		"control chars":   "{\"name\":\"a\u0000b\"}",
		"empty object":    `{}`,
		"empty key names": `{"":1}`,
	}
	for _, entry := range e.Srv.Registry.Entries() {
		r := entry.REST
		if r.Method == http.MethodGet || r.Method == http.MethodDelete {
			continue // reads, and deletes, which take no body
		}
		path := r.Path
		for prefix, id := range ids {
			if strings.HasPrefix(path, prefix) {
				path = strings.ReplaceAll(path, "{id}", id)
			}
		}
		for name, body := range malformed {
			if name == "empty object" && !strings.HasPrefix(entry.Name, "create_") && entry.Name != "log_activity" && entry.Name != "batch_upsert_contacts" {
				continue // an empty PATCH, or a POST without fields, may be valid
			}
			if name == "null body" && (entry.Name == "create_api_key" || strings.HasPrefix(entry.Name, "update_")) {
				continue // no body means no changes (or no arguments) there
			}
			if name == "empty object" && entry.Name == "create_api_key" {
				continue
			}
			res := e.do(r.Method, path, e.Live, []byte(body))
			if res.Status < 400 || res.Status >= 500 {
				t.Errorf("%s %s with %s: %d %s", r.Method, path, name, res.Status, res.Raw)
			}
		}
		for _, sqlish := range []string{`'; DROP TABLE contacts; --`, `" OR 1=1 --`, `\'; SELECT pg_sleep(10); --`} {
			body := `{"name":` + jsonString(sqlish) + `,"title":` + jsonString(sqlish) + `}`
			if res := e.do(r.Method, path, e.Live, []byte(body)); res.Status >= 500 {
				t.Errorf("%s %s with SQL-looking text: %d %s", r.Method, path, res.Status, res.Raw)
			}
		}
	}
	// Only the SQL-looking names and titles may have been written; the malformed input wrote nothing.
	for _, ev := range e.events(e.Live)[before:] {
		if !strings.HasPrefix(ev, "company.") && !strings.HasPrefix(ev, "deal.") {
			t.Errorf("unexpected write: %s", ev)
		}
	}
	e.call("GET", "/v1/contacts", e.Live, nil).must(t, http.StatusOK) // the table is still there
}

func jsonString(s string) string { return string(must(jsonMarshal(s))) }
