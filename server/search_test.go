package server_test

import (
	"net/http"
	"net/url"
	"testing"
)

func TestSearch(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ada := e.create("contacts", e.Live, map[string]any{"first_name": "Ada", "last_name": "Lovelace", "email": "ada@analytical-engines.org", "phone": "+44 20 7946 0000"})
	grace := e.create("contacts", e.Live, map[string]any{"first_name": "Grace", "last_name": "Hopper", "email": "grace@navy.mil"})
	engines := e.create("companies", e.Live, map[string]any{"name": "Analytical Engines Ltd", "domain": "analytical-engines.org"})
	deal := e.create("deals", e.Live, map[string]any{"title": "Difference engine rebuild"})
	act := e.create("activities", e.Live, map[string]any{"type": "note", "subject": "Lunch", "body": "Discussed the compiler roadmap", "contact_id": grace})
	e.create("contacts", e.Other, map[string]any{"first_name": "Ada", "last_name": "Lovelace"}) // another tenant
	e.create("contacts", e.Test, map[string]any{"first_name": "Ada", "last_name": "Lovelace"})  // the other mode

	search := func(q string, extra ...string) []string {
		t.Helper()
		v := url.Values{"q": {q}}
		for i := 0; i+1 < len(extra); i += 2 {
			v.Set(extra[i], extra[i+1])
		}
		return ids(e.call("GET", "/v1/search?"+v.Encode(), e.Live, nil).must(t, http.StatusOK))
	}
	for _, c := range []struct {
		q    string
		want []string
	}{
		{"ada lov", []string{ada}},
		{"Lovelace", []string{ada}},
		{"hopp", []string{grace}},
		{"navy.mil", []string{grace}},            // partial email
		{"cal-engines", []string{ada, engines}},  // substring of an email and a domain
		{"analytical", []string{ada, engines}},   // words of an email and a name
		{"engine", []string{engines, deal, ada}}, // prefix of words
		{"compiler road", []string{act}},         // activity body
		{"7946", []string{ada}},                  // phone digits
		{"nothing-like-this", nil},
	} {
		if got := search(c.q); !sameSet(got, c.want) {
			t.Errorf("search %q: got %v, want %v", c.q, got, c.want)
		}
	}
	if got := search("engine", "types", "company,deal"); !sameSet(got, []string{engines, deal}) {
		t.Fatalf("types: %v", got)
	}

	// Hits say what they are and carry the record; pages do not repeat.
	r := e.call("GET", "/v1/search?q=engine&limit=1", e.Live, nil).must(t, 200).Body
	hit := r["data"].([]any)[0].(map[string]any)
	if hit["type"] == nil || hit["title"] == "" || hit["record"].(map[string]any)["id"] != hit["id"] || r["has_more"] != true {
		t.Fatalf("hit: %v", r)
	}
	seen := map[string]bool{hit["id"].(string): true}
	cursor := r["next_cursor"].(string)
	for cursor != "" {
		r = e.call("GET", "/v1/search?q=engine&limit=1&cursor="+url.QueryEscape(cursor), e.Live, nil).must(t, 200).Body
		for _, d := range r["data"].([]any) {
			id := d.(map[string]any)["id"].(string)
			if seen[id] {
				t.Fatalf("page repeats %s", id)
			}
			seen[id] = true
		}
		cursor, _ = r["next_cursor"].(string)
	}
	if len(seen) != 3 {
		t.Fatalf("paged through %d hits, want 3", len(seen))
	}

	expectError(t, e.call("GET", "/v1/search?q=", e.Live, nil), 422, "validation_failed", "q")
	expectError(t, e.call("GET", "/v1/search?q=x&types=planet", e.Live, nil), 422, "validation_failed", "types.0")
	expectError(t, e.call("GET", "/v1/search?q=x&cursor=zzz", e.Live, nil), 400, "invalid_cursor", "cursor")

	cs := e.mcpSession(e.Live, "")
	res := decode(t, text(t, tool(t, cs, "search", map[string]any{"q": "ada lov"})))
	if data := res["data"].([]any); len(data) != 1 || data[0].(map[string]any)["id"] != ada {
		t.Fatalf("MCP search: %v", res)
	}
}
