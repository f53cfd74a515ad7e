package server_test

import (
	"fmt"
	"strings"
	"testing"
)

// TestPagesStopAtPageBytes: a page of large records ends before 1 MiB with has_more, and
// paging on returns every record once, on both surfaces; search results and a contact's
// recent activities are bounded the same way.
func TestPagesStopAtPageBytes(t *testing.T) {
	t.Parallel()
	e := setup(t)
	blob := strings.Repeat("y", 60_000)
	big := func(i int) map[string]any {
		md := map[string]any{}
		for k := range 6 { // about 360 kB each
			md[fmt.Sprintf("k%d", k)] = blob
		}
		return map[string]any{"email": fmt.Sprintf("big%d@example.com", i), "first_name": "Bigsby", "metadata": md}
	}
	var ids []string
	for i := range 7 {
		ids = append(ids, e.create("contacts", e.Live, big(i)))
	}
	seen := map[string]int{}
	pages, cursor := 0, ""
	for {
		r := e.call("GET", "/v1/contacts?limit=200&cursor="+cursor, e.Live, nil).must(t, 200)
		if len(r.Raw) > 1<<20+400_000 {
			t.Fatalf("a page of %d bytes", len(r.Raw))
		}
		data := r.Body["data"].([]any)
		if len(data) == 0 || len(data) > 3 {
			t.Fatalf("page of %d records of 360 kB", len(data))
		}
		for _, d := range data {
			seen[d.(map[string]any)["id"].(string)]++
		}
		pages++
		if r.Body["has_more"] != true {
			break
		}
		cursor = r.Body["next_cursor"].(string)
	}
	if len(seen) != 7 || pages < 3 {
		t.Fatalf("%d pages held %d distinct records: %v", pages, len(seen), seen)
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("%s listed %d times", id, n)
		}
	}
	// MCP: the same bound.
	cs := e.mcpSession(e.Live, "2025-06-18")
	page := decode(t, text(t, tool(t, cs, "list_contacts", map[string]any{"limit": 200})))
	if n := len(page["data"].([]any)); n == 0 || n > 3 || page["has_more"] != true {
		t.Fatalf("MCP page of %d records, has_more %v", n, page["has_more"])
	}
	// Search results.
	s := e.call("GET", "/v1/search?q=bigsby&limit=50", e.Live, nil).must(t, 200).Body
	if n := len(s["data"].([]any)); n == 0 || n > 3 || s["has_more"] != true || s["next_cursor"] == nil {
		t.Fatalf("search page of %d results, has_more %v", n, s["has_more"])
	}
	s2 := e.call("GET", "/v1/search?q=bigsby&limit=50&cursor="+s["next_cursor"].(string), e.Live, nil).must(t, 200).Body
	if first, next := s["data"].([]any), s2["data"].([]any); len(next) == 0 ||
		next[0].(map[string]any)["id"] == first[len(first)-1].(map[string]any)["id"] {
		t.Fatalf("search did not go on after a cut page: %v", next)
	}
	// A contact's recent activities.
	for range 5 {
		e.create("activities", e.Live, map[string]any{"type": "note", "contact_id": ids[0], "metadata": big(0)["metadata"]})
	}
	c := e.call("GET", "/v1/contacts/"+ids[0], e.Live, nil).must(t, 200).Body
	if n := len(c["recent_activities"].([]any)); n == 0 || n > 3 {
		t.Fatalf("%d recent activities of 360 kB", n)
	}
}
