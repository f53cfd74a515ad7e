package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/relmcrm/relm/server"
)

// setupBusy is setup for tests making more requests than the default rate limit allows.
func setupBusy(t *testing.T) *env {
	t.Helper()
	return setupWith(t, limits(server.Limits{RateLimit: 1_000_000, QuotaFree: 1_000_000}))
}

// defineField creates a custom field over REST with key and returns its id.
func (e *env) defineField(key string, body map[string]any) string {
	e.t.Helper()
	return e.create("schema/fields", key, body)
}

// outcome is the result of one call on either surface: ok, and the result or error body.
type outcome struct {
	ok   bool
	body map[string]any
	raw  []byte
}

// errBody returns the error object of a failed outcome with its request id removed, so
// the two surfaces' answers compare equal.
func (o outcome) errBody() map[string]any {
	e, _ := o.body["error"].(map[string]any)
	if e != nil {
		delete(e, "request_id")
	}
	return e
}

// run calls a capability over REST (with key) or over MCP (with cs), with the same args;
// path parameters of route are taken from args.
func (e *env) run(surface string, key string, cs *mcp.ClientSession, name, method, route string, args map[string]any) outcome {
	e.t.Helper()
	if surface == "MCP" {
		res := tool(e.t, cs, name, args)
		raw := []byte(text(e.t, res))
		return outcome{ok: !res.IsError, body: decode(e.t, string(raw)), raw: raw}
	}
	r := e.restCall(method, route, key, args)
	return outcome{ok: r.Status < 300, body: r.Body, raw: r.Raw}
}

// written snapshots what a failed write must leave unchanged: the tenant's contacts,
// companies, deals, activities and events.
func (e *env) written(key string) string {
	e.t.Helper()
	var b strings.Builder
	for _, p := range []string{"contacts", "companies", "deals", "activities", "events"} {
		b.Write(e.call("GET", "/v1/"+p+"?limit=200", key, nil).must(e.t, http.StatusOK).Raw)
	}
	return b.String()
}

func TestCustomFieldRoutes(t *testing.T) {
	t.Parallel()
	e := setup(t)
	cs := e.mcpSession(e.Live, "2025-06-18")

	r := e.call("POST", "/v1/schema/fields", e.Live, map[string]any{"object_type": "contact", "key": "plan", "label": "Plan",
		"type": "select", "options": []string{"free", "pro"}, "description": "Billing plan"}).must(t, http.StatusCreated)
	plan := r.Body
	if !strings.HasPrefix(plan["id"].(string), "fld_") || plan["object"] != "custom_field" || plan["object_type"] != "contact" ||
		plan["key"] != "plan" || plan["type"] != "select" || !equal(strs(plan["options"]), []string{"free", "pro"}) ||
		plan["description"] != "Billing plan" || plan["mode"] != "live" || plan["created_at"] == nil {
		t.Fatalf("created field: %s", r.Raw)
	}
	ev := e.lastEvent(e.Live, "custom_field.created")
	if ev["data"].(map[string]any)["object"].(map[string]any)["id"] != plan["id"] {
		t.Fatalf("custom_field.created: %v", ev)
	}
	seats := decode(t, text(t, tool(t, cs, "create_custom_field", map[string]any{"object_type": "deal", "key": "seats", "label": "Seats", "type": "number"})))
	if seats["type"] != "number" || seats["options"] == nil || len(seats["options"].([]any)) != 0 || seats["description"] != nil {
		t.Fatalf("MCP created field: %v", seats)
	}

	// Lists: every object type, or one; both surfaces give the same answer.
	all := e.call("GET", "/v1/schema/fields", e.Live, nil).must(t, http.StatusOK)
	if got := ids(all); !equal(got, []string{plan["id"].(string), seats["id"].(string)}) || all.Body["has_more"] != false {
		t.Fatalf("list: %s", all.Raw)
	}
	deals := e.call("GET", "/v1/schema/fields?object_type=deal", e.Live, nil).must(t, http.StatusOK)
	if got := ids(deals); !equal(got, []string{seats["id"].(string)}) {
		t.Fatalf("list deal fields: %s", deals.Raw)
	}
	if res := text(t, tool(t, cs, "list_custom_fields", map[string]any{"object_type": "deal"})); !jsonEqual(t, []byte(res), deals.Raw) {
		t.Fatalf("MCP list %s differs from REST %s", res, deals.Raw)
	}

	// Keys are unique per object type, workspace and mode.
	before := e.written(e.Live) + string(all.Raw)
	dup := e.call("POST", "/v1/schema/fields", e.Live, map[string]any{"object_type": "contact", "key": "plan", "label": "Other", "type": "text"})
	if eb := expectError(t, dup, http.StatusConflict, "already_exists", "key"); eb["existing_id"] != plan["id"] {
		t.Fatalf("duplicate: %s", dup.Raw)
	}
	mdup := tool(t, cs, "create_custom_field", map[string]any{"object_type": "contact", "key": "plan", "label": "Other", "type": "text"})
	if !mdup.IsError || decode(t, text(t, mdup))["error"].(map[string]any)["code"] != "already_exists" {
		t.Fatalf("MCP duplicate: %s", text(t, mdup))
	}

	// Invalid definitions: each names the field at fault and writes nothing.
	for _, c := range []struct {
		body              map[string]any
		param, suggestion string
	}{
		{map[string]any{"object_type": "contact", "key": "Plan", "label": "x", "type": "text"}, "key", ""},
		{map[string]any{"object_type": "contact", "key": "1plan", "label": "x", "type": "text"}, "key", ""},
		{map[string]any{"object_type": "contact", "key": "p", "label": "x", "type": "selec", "options": []string{"a"}}, "type", "select"},
		{map[string]any{"object_type": "contacts", "key": "p", "label": "x", "type": "text"}, "object_type", "contact"},
		{map[string]any{"object_type": "contact", "key": "p", "label": "", "type": "text"}, "label", ""},
		{map[string]any{"object_type": "contact", "key": "p", "label": "x", "type": "select"}, "options", ""},
		{map[string]any{"object_type": "contact", "key": "p", "label": "x", "type": "select", "options": []string{}}, "options", ""},
		{map[string]any{"object_type": "contact", "key": "p", "label": "x", "type": "select", "options": []string{"a", "a"}}, "options", ""},
		{map[string]any{"object_type": "contact", "key": "p", "label": "x", "type": "select", "options": []string{"a", ""}}, "options.1", ""},
		{map[string]any{"object_type": "contact", "key": "p", "label": "x", "type": "text", "options": []string{"a"}}, "options", ""},
		{map[string]any{"object_type": "contact", "key": "p", "label": "x", "type": "text", "colour": "red"}, "colour", ""},
	} {
		rest := e.call("POST", "/v1/schema/fields", e.Live, c.body)
		eb := expectError(t, rest, http.StatusUnprocessableEntity, "validation_failed", c.param)
		if c.suggestion != "" && eb["suggestion"] != c.suggestion {
			t.Errorf("%v: suggestion %v, want %s", c.body, eb["suggestion"], c.suggestion)
		}
		m := e.run("MCP", "", cs, "create_custom_field", "", "", c.body)
		if m.ok || m.errBody()["message"] != eb["message"] {
			t.Errorf("MCP answers %s, REST %s", m.raw, rest.Raw)
		}
	}
	if after := e.written(e.Live) + string(e.call("GET", "/v1/schema/fields", e.Live, nil).Raw); after != before {
		t.Fatal("a refused definition wrote something")
	}

	// The same key is free on another object type and in the other mode.
	e.defineField(e.Live, map[string]any{"object_type": "company", "key": "plan", "label": "Plan", "type": "text"})
	testPlan := e.defineField(e.Test, map[string]any{"object_type": "contact", "key": "plan", "label": "Plan", "type": "bool"})
	if got := ids(e.call("GET", "/v1/schema/fields", e.Test, nil).must(t, 200)); !equal(got, []string{testPlan}) {
		t.Fatalf("test mode sees %v", got)
	}

	// Delete: the definition goes, an event records it; again is not_found.
	del := e.call("DELETE", "/v1/schema/fields/"+plan["id"].(string), e.Live, nil).must(t, http.StatusOK)
	if del.Body["id"] != plan["id"] || del.Body["object"] != "custom_field" || del.Body["deleted"] != true {
		t.Fatalf("delete: %s", del.Raw)
	}
	if ev := e.lastEvent(e.Live, "custom_field.deleted"); ev["data"].(map[string]any)["object"].(map[string]any)["key"] != "plan" {
		t.Fatalf("custom_field.deleted: %v", ev)
	}
	expectError(t, e.call("DELETE", "/v1/schema/fields/"+plan["id"].(string), e.Live, nil), http.StatusNotFound, "not_found", "id")
	expectError(t, e.call("DELETE", "/v1/schema/fields/fld_nope", e.Live, nil), http.StatusNotFound, "not_found", "id")
	if m := e.run("MCP", "", cs, "delete_custom_field", "", "", map[string]any{"id": seats["id"]}); !m.ok || m.body["deleted"] != true {
		t.Fatalf("MCP delete: %s", m.raw)
	}
	if m := e.run("MCP", "", cs, "delete_custom_field", "", "", map[string]any{"id": seats["id"]}); m.ok || m.errBody()["code"] != "not_found" {
		t.Fatalf("MCP delete again: %s", m.raw)
	}
}

func TestCustomFieldLimit(t *testing.T) {
	t.Parallel()
	e := setupBusy(t)
	for i := range 100 {
		e.defineField(e.Live, map[string]any{"object_type": "activity", "key": "f" + string(rune('a'+i/26)) + string(rune('a'+i%26)), "label": "F", "type": "bool"})
	}
	r := e.call("POST", "/v1/schema/fields", e.Live, map[string]any{"object_type": "activity", "key": "one_more", "label": "F", "type": "bool"})
	expectError(t, r, http.StatusUnprocessableEntity, "validation_failed", "object_type")
	e.defineField(e.Live, map[string]any{"object_type": "contact", "key": "one_more", "label": "F", "type": "bool"})
}

// badValue is a metadata value a custom field refuses, and what the error must say.
type badValue struct {
	key        string
	value      any
	message    string
	options    []string
	suggestion string
}

var badValues = []badValue{
	{"note", 42, "must be text", nil, ""},
	{"note", strings.Repeat("x", 10001), "at most 10000 characters", nil, ""},
	{"seats", "ten", "must be a number", nil, ""},
	{"seats", "10", "must be a number", nil, ""},
	{"seats", true, "must be a number", nil, ""},
	{"renewal", "2026-13-01", "must be a date written YYYY-MM-DD", nil, ""},
	{"renewal", "2026-02-30", "must be a date", nil, ""},
	{"renewal", "tomorrow", "must be a date", nil, ""},
	{"renewal", 20260101, "must be a date", nil, ""},
	{"active", "yes", "must be true or false", nil, ""},
	{"active", 1, "must be true or false", nil, ""},
	{"plan", "Pro", "must be one of: free, pro", []string{"free", "pro"}, "pro"},
	{"plan", 3, "must be one of: free, pro", []string{"free", "pro"}, ""},
}

// defineContactFields defines one custom field of each type on contacts.
func (e *env) defineContactFields(key string) {
	e.t.Helper()
	for _, f := range []map[string]any{
		{"key": "note", "type": "text"},
		{"key": "seats", "type": "number"},
		{"key": "renewal", "type": "date"},
		{"key": "active", "type": "bool"},
		{"key": "plan", "type": "select", "options": []string{"free", "pro"}},
	} {
		f["object_type"], f["label"] = "contact", f["key"]
		e.defineField(key, f)
	}
}

// contactWrites are the write paths of contact metadata, as a capability and its arguments.
func contactWrites(target string) []struct {
	tool, method, route, param string
	args                       func(md map[string]any) map[string]any
} {
	return []struct {
		tool, method, route, param string
		args                       func(md map[string]any) map[string]any
	}{
		{"create_contact", "POST", "/v1/contacts", "metadata", func(md map[string]any) map[string]any {
			return map[string]any{"first_name": "New", "metadata": md}
		}},
		{"update_contact", "PATCH", "/v1/contacts/{id}", "metadata", func(md map[string]any) map[string]any {
			return map[string]any{"id": target, "metadata": md}
		}},
		{"batch_upsert_contacts", "POST", "/v1/contacts/batch", "contacts.1.metadata", func(md map[string]any) map[string]any {
			return map[string]any{"contacts": []any{map[string]any{"first_name": "Fine"}, map[string]any{"first_name": "New", "metadata": md}}}
		}},
		{"batch_upsert_contacts", "POST", "/v1/contacts/batch", "contacts.0.metadata", func(md map[string]any) map[string]any {
			return map[string]any{"dedup_on": []string{"email"}, "contacts": []any{map[string]any{"email": "target@example.com", "metadata": md}}}
		}},
	}
}

func TestCustomFieldValuesAreValidatedOnEveryWrite(t *testing.T) {
	t.Parallel()
	e := setupBusy(t)
	cs := e.mcpSession(e.Live, "2025-06-18")
	target := e.create("contacts", e.Live, map[string]any{"email": "target@example.com", "first_name": "Target"})
	e.defineContactFields(e.Live)

	for _, w := range contactWrites(target) {
		for _, bv := range badValues {
			var rest map[string]any
			for _, surface := range []string{"REST", "MCP"} {
				what := surface + " " + w.tool + " " + w.param + " " + bv.key
				before := e.written(e.Live)
				o := e.run(surface, e.Live, cs, w.tool, w.method, w.route, w.args(map[string]any{bv.key: bv.value, "free_form": "x"}))
				eb := o.errBody()
				if o.ok || eb["code"] != "validation_failed" || eb["param"] != w.param+"."+bv.key || !strings.Contains(eb["message"].(string), bv.message) {
					t.Fatalf("%s = %v: %.300s", what, bv.value, o.raw)
				}
				if bv.options != nil && (!equal(strs(eb["valid_options"]), bv.options) || (eb["suggestion"] != nil) != (bv.suggestion != "")) {
					t.Errorf("%s: valid_options/suggestion: %.300s", what, o.raw)
				}
				if bv.suggestion != "" && eb["suggestion"] != bv.suggestion {
					t.Errorf("%s: suggestion %v", what, eb["suggestion"])
				}
				if after := e.written(e.Live); after != before {
					t.Fatalf("%s wrote something", what)
				}
				if surface == "REST" {
					rest = eb
				} else if !equalJSON(t, eb, rest) {
					t.Errorf("%s: MCP answers %v, REST %v", what, eb, rest)
				}
			}
		}
	}

	// Valid values pass on every path, beside free-form keys; null is always accepted.
	good := map[string]any{"note": "hello", "seats": 12.5, "renewal": "2027-01-31", "active": false, "plan": "pro",
		"free_form": map[string]any{"any": []any{1, "x"}}, "Plan": 42}
	for _, w := range contactWrites(target) {
		for _, surface := range []string{"REST", "MCP"} {
			if o := e.run(surface, e.Live, cs, w.tool, w.method, w.route, w.args(good)); !o.ok {
				t.Fatalf("%s %s refused valid values: %s", surface, w.tool, o.raw)
			}
			if o := e.run(surface, e.Live, cs, w.tool, w.method, w.route, w.args(map[string]any{"seats": nil, "plan": nil})); !o.ok {
				t.Fatalf("%s %s refused nulls: %s", surface, w.tool, o.raw)
			}
		}
	}

	// Several bad rows of an import are all named.
	r := e.call("POST", "/v1/contacts/batch", e.Live, map[string]any{"contacts": []any{
		map[string]any{"first_name": "A", "metadata": map[string]any{"seats": "x"}},
		map[string]any{"first_name": "B"},
		map[string]any{"first_name": "C", "metadata": map[string]any{"plan": "gold", "active": "no"}},
	}})
	eb := expectError(t, r, http.StatusUnprocessableEntity, "validation_failed", "contacts.0.metadata.seats")
	var fields []string
	for _, d := range eb["details"].([]any) {
		fields = append(fields, d.(map[string]any)["field"].(string))
	}
	if !equal(fields, []string{"contacts.0.metadata.seats", "contacts.2.metadata.active", "contacts.2.metadata.plan"}) {
		t.Fatalf("details: %s", r.Raw)
	}
}

func TestCustomFieldsOnEveryObjectType(t *testing.T) {
	t.Parallel()
	e := setup(t)
	company := e.create("companies", e.Live, map[string]any{"name": "Acme"})
	deal := e.create("deals", e.Live, map[string]any{"title": "Big"})
	activity := e.create("activities", e.Live, map[string]any{"type": "note", "deal_id": deal})
	for _, c := range []struct {
		objectType, resource, id string
		create                   map[string]any
	}{
		{"company", "companies", company, map[string]any{"name": "Globex"}},
		{"deal", "deals", deal, map[string]any{"title": "Small"}},
		{"activity", "activities", activity, map[string]any{"type": "call", "company_id": company}},
	} {
		e.defineField(e.Live, map[string]any{"object_type": c.objectType, "key": "score", "label": "Score", "type": "number"})
		before := e.written(e.Live)
		body := map[string]any{"metadata": map[string]any{"score": "high"}}
		for k, v := range c.create {
			body[k] = v
		}
		expectError(t, e.call("POST", "/v1/"+c.resource, e.Live, body), http.StatusUnprocessableEntity, "validation_failed", "metadata.score")
		expectError(t, e.call("PATCH", "/v1/"+c.resource+"/"+c.id, e.Live, map[string]any{"metadata": map[string]any{"score": "high"}}),
			http.StatusUnprocessableEntity, "validation_failed", "metadata.score")
		if e.written(e.Live) != before {
			t.Fatalf("%s: a refused write wrote something", c.objectType)
		}
		body["metadata"] = map[string]any{"score": 7}
		e.create(c.resource, e.Live, body)
		r := e.call("PATCH", "/v1/"+c.resource+"/"+c.id, e.Live, map[string]any{"metadata": map[string]any{"score": 8}}).must(t, http.StatusOK)
		if r.Body["metadata"].(map[string]any)["score"] != 8.0 {
			t.Fatalf("%s: %s", c.objectType, r.Raw)
		}
	}
	// A contact's metadata is not typed by another object type's field.
	e.create("contacts", e.Live, map[string]any{"first_name": "Free", "metadata": map[string]any{"score": "high"}})
	// An update of a missing record is not_found before anything else.
	expectError(t, e.call("PATCH", "/v1/deals/deal_aaaaaaaaaaaaaaaaaaaaaaaaaa", e.Live, map[string]any{"metadata": map[string]any{"score": "x"}}),
		http.StatusNotFound, "not_found", "id")
}

func TestDeletingCustomFieldKeepsValues(t *testing.T) {
	t.Parallel()
	e := setup(t)
	// A value written before the field existed is kept as it was, and not checked again.
	early := e.create("contacts", e.Live, map[string]any{"first_name": "Early", "metadata": map[string]any{"plan": 42, "seats": "many"}})
	fld := e.defineField(e.Live, map[string]any{"object_type": "contact", "key": "plan", "label": "Plan", "type": "select", "options": []string{"free", "pro"}})
	got := e.call("GET", "/v1/contacts/"+early, e.Live, nil).must(t, http.StatusOK)
	if got.Body["metadata"].(map[string]any)["plan"] != 42.0 {
		t.Fatalf("stored value changed: %s", got.Raw)
	}
	e.call("PATCH", "/v1/contacts/"+early, e.Live, map[string]any{"first_name": "Still early"}).must(t, http.StatusOK)
	e.call("PATCH", "/v1/contacts/"+early, e.Live, map[string]any{"metadata": map[string]any{"other": 1}}).must(t, http.StatusOK)
	r := e.call("PATCH", "/v1/contacts/"+early, e.Live, map[string]any{"metadata": map[string]any{"plan": nil}}).must(t, http.StatusOK)
	if _, ok := r.Body["metadata"].(map[string]any)["plan"]; ok {
		t.Fatalf("null did not remove the key: %s", r.Raw)
	}
	e.call("PATCH", "/v1/contacts/"+early, e.Live, map[string]any{"metadata": nil}).must(t, http.StatusOK)

	pro := e.create("contacts", e.Live, map[string]any{"first_name": "Pro", "metadata": map[string]any{"plan": "pro"}})
	e.call("DELETE", "/v1/schema/fields/"+fld, e.Live, nil).must(t, http.StatusOK)
	got = e.call("GET", "/v1/contacts/"+pro, e.Live, nil).must(t, http.StatusOK)
	if got.Body["metadata"].(map[string]any)["plan"] != "pro" {
		t.Fatalf("deleting the definition changed the value: %s", got.Raw)
	}
	// The key is free-form again.
	e.create("contacts", e.Live, map[string]any{"first_name": "Any", "metadata": map[string]any{"plan": 42}})
	e.call("PATCH", "/v1/contacts/"+pro, e.Live, map[string]any{"metadata": map[string]any{"plan": []any{"x"}}}).must(t, http.StatusOK)
}

func TestCustomFieldTypedFilters(t *testing.T) {
	t.Parallel()
	e := setup(t)
	// Written before the fields existed: values of other types stay and never match typed comparisons.
	c0 := e.create("contacts", e.Live, map[string]any{"first_name": "Zero", "metadata": map[string]any{"seats": "10", "renewal": "soon", "plan": "gold", "note": "3"}})
	for _, f := range []map[string]any{
		{"key": "seats", "type": "number"},
		{"key": "renewal", "type": "date"},
		{"key": "active", "type": "bool"},
		{"key": "plan", "type": "select", "options": []string{"free", "pro"}},
	} {
		f["object_type"], f["label"] = "contact", f["key"]
		e.defineField(e.Live, f)
	}
	e.defineField(e.Live, map[string]any{"object_type": "deal", "key": "renewal", "label": "Renewal", "type": "date"})
	c1 := e.create("contacts", e.Live, map[string]any{"first_name": "One", "metadata": map[string]any{"seats": 5, "renewal": "2026-06-30", "plan": "free", "active": true}})
	c2 := e.create("contacts", e.Live, map[string]any{"first_name": "Two", "metadata": map[string]any{"seats": 10, "renewal": "2026-12-31", "plan": "pro", "active": false}})
	c3 := e.create("contacts", e.Live, map[string]any{"first_name": "Three", "metadata": map[string]any{"seats": 40.5, "renewal": "2027-03-01", "plan": "pro"}})
	c4 := e.create("contacts", e.Live, map[string]any{"first_name": "Four", "metadata": map[string]any{"note": 3}})
	d1 := e.create("deals", e.Live, map[string]any{"title": "Renews soon", "metadata": map[string]any{"renewal": "2026-11-01"}})
	e.create("deals", e.Live, map[string]any{"title": "Renews later", "metadata": map[string]any{"renewal": "2027-11-01"}})

	for _, c := range []struct {
		query string
		want  []string
	}{
		{"filter[metadata->>seats][gte]=10", []string{c2, c3}},
		{"filter[metadata->>seats][lt]=10", []string{c1}},
		{"filter[metadata->>seats][gt]=5&filter[metadata->>seats][lte]=40.5", []string{c2, c3}},
		{"filter[metadata->>seats]=10", []string{c2}}, // the number only, not the string "10"
		{"filter[metadata->>seats][in]=5,40.5", []string{c1, c3}},
		{"filter[metadata->>renewal][lt]=2027-01-01", []string{c1, c2}},
		{"filter[metadata->>renewal][gte]=2026-12-31", []string{c2, c3}},
		{"filter[metadata->>renewal]=2026-06-30", []string{c1}},
		{"filter[metadata->>plan]=pro", []string{c2, c3}},
		{"filter[metadata->>plan][in]=free,pro", []string{c1, c2, c3}},
		{"filter[metadata->>plan][neq]=pro", []string{c0, c1, c4}},
		{"filter[metadata->>active]=false", []string{c2}},
		// Keys without a definition keep the untyped behaviour.
		{"filter[metadata->>note]=3", []string{c0, c4}},
		{"filter[metadata->>note][gt]=2", []string{c4}},
	} {
		r := e.call("GET", "/v1/contacts?"+escapeQuery(c.query), e.Live, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("%s: %d %s", c.query, r.Status, r.Raw)
		}
		if got := ids(r); !sameSet(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.query, got, c.want)
		}
	}
	if got := ids(e.call("GET", "/v1/deals?"+escapeQuery("filter[metadata->>renewal][lt]=2027-01-01"), e.Live, nil).must(t, 200)); !equal(got, []string{d1}) {
		t.Fatalf("deal date filter: %v", got)
	}

	// The MCP tool takes the same typed filter.
	cs := e.mcpSession(e.Live, "2025-06-18")
	res := decode(t, text(t, tool(t, cs, "list_contacts", map[string]any{"filter": map[string]any{
		"metadata->>seats": map[string]any{"gte": 10}, "metadata->>renewal": map[string]any{"lt": "2027-01-01"}}})))
	if data := res["data"].([]any); len(data) != 1 || data[0].(map[string]any)["id"] != c2 {
		t.Fatalf("MCP typed filter: %v", res)
	}

	for _, c := range []struct {
		query, param string
		options      []string
	}{
		{"filter[metadata->>seats][gte]=ten", "filter[metadata->>seats][gte]", nil},
		{"filter[metadata->>seats]=many", "filter[metadata->>seats]", nil},
		{"filter[metadata->>renewal][lt]=soon", "filter[metadata->>renewal][lt]", nil},
		{"filter[metadata->>plan]=gold", "filter[metadata->>plan]", []string{"free", "pro"}},
		{"filter[metadata->>plan][ilike]=p%25", "filter[metadata->>plan][ilike]", []string{"eq", "neq", "in"}},
		{"filter[metadata->>active]=yes", "filter[metadata->>active]", nil},
	} {
		r := e.call("GET", "/v1/contacts?"+escapeQuery(c.query), e.Live, nil)
		eb := expectError(t, r, http.StatusBadRequest, "invalid_filter", c.param)
		if c.options != nil && !equal(strs(eb["valid_options"]), c.options) {
			t.Errorf("%s: %s", c.query, r.Raw)
		}
	}

	// Without its definition a key is untyped again: "10" and 10 both match.
	for _, f := range e.call("GET", "/v1/schema/fields?object_type=contact", e.Live, nil).must(t, 200).Body["data"].([]any) {
		if f.(map[string]any)["key"] == "seats" {
			e.call("DELETE", "/v1/schema/fields/"+f.(map[string]any)["id"].(string), e.Live, nil).must(t, 200)
		}
	}
	if got := ids(e.call("GET", "/v1/contacts?"+escapeQuery("filter[metadata->>seats]=10"), e.Live, nil).must(t, 200)); !sameSet(got, []string{c0, c2}) {
		t.Fatalf("untyped again: %v", got)
	}
}

func TestCustomFieldIsolation(t *testing.T) {
	t.Parallel()
	e := setup(t)
	fld := e.defineField(e.Live, map[string]any{"object_type": "contact", "key": "plan", "label": "Plan", "type": "select", "options": []string{"pro"}})
	for _, key := range []string{e.Other, e.Test} {
		// Another workspace's or mode's definitions neither show nor apply.
		if got := ids(e.call("GET", "/v1/schema/fields", key, nil).must(t, http.StatusOK)); len(got) != 0 {
			t.Fatalf("another tenant sees fields %v", got)
		}
		e.create("contacts", key, map[string]any{"first_name": "Free", "metadata": map[string]any{"plan": 42}})
		expectError(t, e.call("DELETE", "/v1/schema/fields/"+fld, key, nil), http.StatusNotFound, "not_found", "id")
		schema := e.call("GET", "/v1/schema", key, nil).must(t, http.StatusOK)
		if strings.Contains(string(schema.Raw), fld) {
			t.Fatalf("schema leaks workspace A's field: %s", schema.Raw)
		}
		// ... and their own definitions apply to them only.
		e.defineField(key, map[string]any{"object_type": "contact", "key": "plan", "label": "Plan", "type": "number"})
		expectError(t, e.call("POST", "/v1/contacts", key, map[string]any{"first_name": "X", "metadata": map[string]any{"plan": "pro"}}),
			http.StatusUnprocessableEntity, "validation_failed", "metadata.plan")
	}
	e.create("contacts", e.Live, map[string]any{"first_name": "Pro", "metadata": map[string]any{"plan": "pro"}})
	expectError(t, e.call("POST", "/v1/contacts", e.Live, map[string]any{"first_name": "X", "metadata": map[string]any{"plan": 1}}),
		http.StatusUnprocessableEntity, "validation_failed", "metadata.plan")
}

// equalJSON compares two decoded JSON values.
func equalJSON(t *testing.T, a, b any) bool {
	t.Helper()
	return jsonEqual(t, must(jsonMarshal(a)), must(jsonMarshal(b)))
}
