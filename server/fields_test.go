package server_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/relmcrm/relm/schemas"
)

// fieldNames are the sorted keys of a decoded JSON object.
func fieldNames(v any) []string {
	return slices.Sorted(maps.Keys(v.(map[string]any)))
}

func sorted(s ...string) []string { return slices.Sorted(slices.Values(s)) }

// checkOutputSchema validates a tool result's structuredContent against the tool's
// outputSchema, as the TypeScript SDK's client does.
func checkOutputSchema(t *testing.T, cs *mcp.ClientSession, name string, res *mcp.CallToolResult) {
	t.Helper()
	list, err := cs.ListTools(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tl := range list.Tools {
		if tl.Name != name {
			continue
		}
		raw, _ := json.Marshal(tl.OutputSchema)
		var sch map[string]any
		if err := json.Unmarshal(raw, &sch); err != nil {
			t.Fatal(err)
		}
		v, err := schemas.Compile(name, sch)
		if err != nil {
			t.Fatal(err)
		}
		sc, _ := json.Marshal(res.StructuredContent)
		var got any
		if err := json.Unmarshal(sc, &got); err != nil {
			t.Fatal(err)
		}
		if errs := v.Validate(got); errs != nil {
			t.Fatalf("%s: structuredContent %s does not match its outputSchema: %v", name, sc, errs)
		}
		return
	}
	t.Fatalf("no tool %s", name)
}

// TestFieldsSelectOnGetAndList: fields (MCP) and ?fields= (REST) keep only the fields asked
// for, plus id and object, on every get and list of the record kinds, events and
// associations; a list keeps has_more
// and next_cursor; get_contact returns recent_activities and associations only when asked
// or when nothing is selected; selected results still match the tools' output schemas and
// a selected record keeps its ETag.
func TestFieldsSelectOnGetAndList(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.setPlan("acme", "team")
	company := e.create("companies", e.Live, map[string]any{"name": "Fields Co", "domain": "fields.example"})
	contact := e.create("contacts", e.Live, map[string]any{"email": "f@example.com", "first_name": "Fay", "company_id": company})
	deal := e.create("deals", e.Live, map[string]any{"title": "Fields deal", "value_cents": 100})
	activity := e.create("activities", e.Live, map[string]any{"type": "note", "contact_id": contact, "body": "hi"})
	e.link(e.Live, "contact", contact, "deal", deal)
	cs := e.mcpSession(e.Live, "2025-06-18")

	kinds := []struct {
		resource, get, list, id string
		fields                  []string
	}{
		{"contacts", "get_contact", "list_contacts", contact, []string{"email", "first_name"}},
		{"companies", "get_company", "list_companies", company, []string{"name"}},
		{"deals", "get_deal", "list_deals", deal, []string{"title", "stage", "value_cents"}},
		{"activities", "get_activity", "list_activities", activity, []string{"type", "body"}},
	}
	for _, k := range kinds {
		want := sorted(append([]string{"id", "object"}, k.fields...)...)
		q := "?fields=" + strings.Join(k.fields, ",")
		r := e.call("GET", "/v1/"+k.resource+"/"+k.id+q, e.Live, nil).must(t, http.StatusOK)
		if got := fieldNames(r.Body); !slices.Equal(got, want) || r.Body["id"] != k.id {
			t.Fatalf("GET %s%s: keys %v, want %v: %s", k.resource, q, got, want, r.Raw)
		}
		if r.Header.Get("ETag") == "" {
			t.Fatalf("GET %s%s: no ETag", k.resource, q)
		}
		l := e.call("GET", "/v1/"+k.resource+q+"&limit=1", e.Live, nil).must(t, http.StatusOK)
		if got := fieldNames(l.Body); !slices.Equal(got, []string{"data", "has_more", "next_cursor", "object"}) {
			t.Fatalf("list %s%s: keys %v", k.resource, q, got)
		}
		for _, item := range l.Body["data"].([]any) {
			if got := fieldNames(item); !slices.Equal(got, want) {
				t.Fatalf("list %s%s: item keys %v, want %v", k.resource, q, got, want)
			}
		}

		args := map[string]any{"id": k.id, "fields": k.fields}
		res := tool(t, cs, k.get, args)
		if res.IsError {
			t.Fatalf("%s: %s", k.get, text(t, res))
		}
		if got := fieldNames(decode(t, text(t, res))); !slices.Equal(got, want) {
			t.Fatalf("%s %v: keys %v, want %v", k.get, k.fields, got, want)
		}
		if !jsonEqual(t, r.Raw, []byte(text(t, res))) {
			t.Fatalf("%s: MCP %s differs from REST %s", k.get, text(t, res), r.Raw)
		}
		checkOutputSchema(t, cs, k.get, res)
		res = tool(t, cs, k.list, map[string]any{"fields": k.fields})
		if res.IsError {
			t.Fatalf("%s: %s", k.list, text(t, res))
		}
		for _, item := range decode(t, text(t, res))["data"].([]any) {
			if got := fieldNames(item); !slices.Equal(got, want) {
				t.Fatalf("%s %v: item keys %v, want %v", k.list, k.fields, got, want)
			}
		}
		checkOutputSchema(t, cs, k.list, res)
	}

	// The event log and associations select the same way.
	evt := e.lastEvent(e.Live, "contact.created")["id"].(string)
	for _, path := range []string{"/v1/events/" + evt + "?fields=type", "/v1/events?type=contact.created&fields=type"} {
		r := e.call("GET", path, e.Live, nil).must(t, http.StatusOK).Body
		if data, isList := r["data"].([]any); isList {
			r = data[0].(map[string]any)
		}
		if got := fieldNames(r); !slices.Equal(got, []string{"id", "object", "type"}) || r["type"] != "contact.created" {
			t.Fatalf("%s: %v", path, r)
		}
	}
	res := tool(t, cs, "list_associations", map[string]any{"fields": []string{"to_id"}})
	if item := decode(t, text(t, res))["data"].([]any)[0]; !slices.Equal(fieldNames(item), []string{"id", "object", "to_id"}) {
		t.Fatalf("list_associations fields=to_id: %v", item)
	}
	checkOutputSchema(t, cs, "list_associations", res)

	// Selected values are the values as stored: exact numbers, no HTML escaping.
	md := e.create("contacts", e.Live, map[string]any{"first_name": "Num", "metadata": map[string]any{"n": json.Number("9007199254740993"), "s": "<a&b>"}})
	raw := string(e.call("GET", "/v1/contacts/"+md+"?fields=metadata", e.Live, nil).must(t, http.StatusOK).Raw)
	if !strings.Contains(raw, `"n":9007199254740993`) || !strings.Contains(raw, `"s":"<a&b>"`) {
		t.Fatalf("fields=metadata: %s", raw)
	}

	// get_contact: the contact's fields only, or its activities and associations too.
	only := e.call("GET", "/v1/contacts/"+contact+"?fields=email", e.Live, nil).must(t, http.StatusOK).Body
	if got := fieldNames(only); !slices.Equal(got, []string{"email", "id", "object"}) {
		t.Fatalf("fields=email: %v", got)
	}
	res = tool(t, cs, "get_contact", map[string]any{"id": contact, "fields": []string{"recent_activities", "associations"}})
	withRecent := decode(t, text(t, res))
	if got := fieldNames(withRecent); !slices.Equal(got, []string{"associations", "id", "object", "recent_activities"}) {
		t.Fatalf("fields=recent_activities,associations: %v", got)
	}
	if acts := withRecent["recent_activities"].([]any); len(acts) != 1 || acts[0].(map[string]any)["id"] != activity {
		t.Fatalf("recent_activities %v", acts)
	}
	if edges := withRecent["associations"].([]any); len(edges) != 1 {
		t.Fatalf("associations %v", edges)
	}
	checkOutputSchema(t, cs, "get_contact", res)
	all := e.call("GET", "/v1/contacts/"+contact, e.Live, nil).must(t, http.StatusOK).Body
	for _, f := range []string{"email", "first_name", "company_id", "metadata", "version", "recent_activities", "associations"} {
		if _, ok := all[f]; !ok {
			t.Fatalf("without fields, %s is missing: %v", f, all)
		}
	}
	// id and object asked for explicitly are still there once.
	ids := e.call("GET", "/v1/contacts?fields=id,object", e.Live, nil).must(t, http.StatusOK).Body
	if got := fieldNames(ids["data"].([]any)[0]); !slices.Equal(got, []string{"id", "object"}) {
		t.Fatalf("fields=id,object: %v", got)
	}
}

// TestFieldsRefused: an unknown field, an empty selection and a field given twice are
// 422 validation_failed on both surfaces, naming the element (fields.N); an unknown name
// lists the valid ones with a suggestion. Nothing is returned.
func TestFieldsRefused(t *testing.T) {
	t.Parallel()
	e := setup(t)
	contact := e.create("contacts", e.Live, map[string]any{"email": "r@example.com"})
	for _, path := range []string{"/v1/contacts/" + contact, "/v1/contacts"} {
		r := e.call("GET", path+"?fields=email,frist_name", e.Live, nil)
		er := expectError(t, r, http.StatusUnprocessableEntity, "validation_failed", "fields.1")
		if opts := strs(er["valid_options"]); !slices.Contains(opts, "first_name") || !slices.Contains(opts, "email") {
			t.Fatalf("%s: valid_options %v", path, opts)
		}
		if er["suggestion"] != "first_name" {
			t.Fatalf("%s: suggestion %v", path, er["suggestion"])
		}
		expectError(t, e.call("GET", path+"?fields=", e.Live, nil), http.StatusUnprocessableEntity, "validation_failed", "fields.0")
		expectError(t, e.call("GET", path+"?fields=email,email", e.Live, nil), http.StatusUnprocessableEntity, "validation_failed", "fields")
	}
	// recent_activities is a field of get_contact only.
	expectError(t, e.call("GET", "/v1/contacts?fields=recent_activities", e.Live, nil), http.StatusUnprocessableEntity, "validation_failed", "fields.0")

	cs := e.mcpSession(e.Live, "2025-06-18")
	for _, c := range []struct {
		name   string
		fields any
		param  string
	}{
		{"get_contact", []string{"emial"}, "fields.0"},
		{"list_deals", []string{"title", "stag"}, "fields.1"},
		{"list_contacts", []string{}, "fields"},
	} {
		args := map[string]any{"fields": c.fields}
		if c.name == "get_contact" {
			args["id"] = contact
		}
		res := tool(t, cs, c.name, args)
		if !res.IsError || res.StructuredContent != nil {
			t.Fatalf("%s %v: want an error without structuredContent, got %s", c.name, c.fields, text(t, res))
		}
		er := decode(t, text(t, res))["error"].(map[string]any)
		if er["code"] != "validation_failed" || er["param"] != c.param {
			t.Fatalf("%s %v: %v", c.name, c.fields, er)
		}
	}
}

// TestFieldsPaging: fields may change from page to page (like limit) and every record is
// listed once; over MCP, a page measures the records as selected, so small selections of
// large records fit many more on one page.
func TestFieldsPaging(t *testing.T) {
	t.Parallel()
	e := setup(t)
	blob := strings.Repeat("z", 30_000)
	for i := range 5 {
		e.create("contacts", e.Live, map[string]any{"email": fmt.Sprintf("p%d@example.com", i), "first_name": "Page",
			"metadata": map[string]any{"blob": blob}})
	}
	seen := map[string]int{}
	cursor, fields := "", []string{"email", "first_name", "metadata"}
	for page := 0; ; page++ {
		q := "/v1/contacts?limit=2&fields=" + fields[page%3]
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		r := e.call("GET", q, e.Live, nil).must(t, http.StatusOK)
		for _, d := range r.Body["data"].([]any) {
			item := d.(map[string]any)
			if _, ok := item[fields[page%3]]; !ok || len(item) != 3 {
				t.Fatalf("page %d: %v", page, fieldNames(item))
			}
			seen[item["id"].(string)]++
		}
		if r.Body["has_more"] != true {
			break
		}
		cursor = r.Body["next_cursor"].(string)
	}
	if len(seen) != 5 {
		t.Fatalf("listed %v", seen)
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("%s listed %d times", id, n)
		}
	}

	// MCP pages stop below 80,000 bytes of records: 150 kB of contacts do not fit, their emails do.
	cs := e.mcpSession(e.Live, "2025-06-18")
	full := decode(t, text(t, tool(t, cs, "list_contacts", map[string]any{"limit": 200})))
	if n := len(full["data"].([]any)); n >= 5 || full["has_more"] != true {
		t.Fatalf("a full page of 5 contacts of 30 kB: %d, has_more %v", n, full["has_more"])
	}
	small := decode(t, text(t, tool(t, cs, "list_contacts", map[string]any{"limit": 200, "fields": []string{"email"}})))
	if n := len(small["data"].([]any)); n != 5 || small["has_more"] != false {
		t.Fatalf("a page of 5 emails: %d, has_more %v", n, small["has_more"])
	}
	// A cursor of a full page goes on with a selection.
	next := decode(t, text(t, tool(t, cs, "list_contacts", map[string]any{"limit": 200, "fields": []string{"email"},
		"cursor": full["next_cursor"]})))
	if n, m := len(full["data"].([]any)), len(next["data"].([]any)); n+m != 5 {
		t.Fatalf("pages of %d and %d contacts", n, m)
	}
}
