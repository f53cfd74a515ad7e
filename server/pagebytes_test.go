package server_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/relmcrm/relm/tools"
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

// TestMCPPagesFitAModelsContext: over MCP a list page stops below tools.MCPPageBytes (about
// 20,000 tokens) with has_more, where REST returns the whole page, and paging on over MCP
// returns every record once.
func TestMCPPagesFitAModelsContext(t *testing.T) {
	t.Parallel()
	e := setup(t)
	note := strings.Repeat("z", 4_000)
	for i := range 40 {
		e.create("contacts", e.Live, map[string]any{"email": fmt.Sprintf("mid%d@example.com", i), "metadata": map[string]any{"note": note}})
	}
	if r := e.call("GET", "/v1/contacts?limit=200", e.Live, nil).must(t, 200).Body; len(r["data"].([]any)) != 40 || r["has_more"] != false {
		t.Fatalf("REST page of %d, has_more %v", len(r["data"].([]any)), r["has_more"])
	}
	cs := e.mcpSession(e.Live, "")
	seen, pages, cursor := map[string]bool{}, 0, ""
	for {
		args := map[string]any{"limit": 200}
		if cursor != "" {
			args["cursor"] = cursor
		}
		res := tool(t, cs, "list_contacts", args)
		body := text(t, res)
		page := decode(t, body)
		data := page["data"].([]any)
		if len(body) > tools.MCPPageBytes+5_000 || len(data) == 0 {
			t.Fatalf("an MCP page of %d bytes, %d records", len(body), len(data))
		}
		for _, d := range data {
			seen[d.(map[string]any)["id"].(string)] = true
		}
		pages++
		if page["has_more"] != true {
			break
		}
		cursor = page["next_cursor"].(string)
	}
	if len(seen) != 40 || pages < 2 {
		t.Fatalf("%d MCP pages held %d of 40 records", pages, len(seen))
	}
}
