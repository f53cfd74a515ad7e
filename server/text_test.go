package server_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestNULRefusedEverywhere sends a NUL character (which PostgreSQL text cannot store) in
// every kind of place a string reaches the server: fields, metadata keys and values, the
// search query, filter values and keys, list parameters, cursors and path ids. Both
// surfaces refuse it alike with validation_failed naming the field; nothing is written.
func TestNULRefusedEverywhere(t *testing.T) {
	t.Parallel()
	e := setup(t)
	cs := e.mcpSession(e.Live, "")
	cid := e.create("companies", e.Live, map[string]any{"name": "Acme"})
	e.refuse(t, cs, e.Live, []refusal{
		{name: "field", tool: "create_contact", args: `{"first_name":"a\u0000b"}`,
			method: "POST", path: "/v1/contacts", body: `{"first_name":"a\u0000b"}`, status: 422, code: "validation_failed", param: "first_name"},
		{name: "metadata value", tool: "create_contact", args: `{"first_name":"x","metadata":{"note":"x\u0000"}}`,
			method: "POST", path: "/v1/contacts", body: `{"first_name":"x","metadata":{"note":"x\u0000"}}`, status: 422, code: "validation_failed", param: "metadata.note"},
		{name: "metadata key", tool: "create_contact", args: `{"first_name":"x","metadata":{"a\u0000b":1}}`,
			method: "POST", path: "/v1/contacts", body: `{"first_name":"x","metadata":{"a\u0000b":1}}`, status: 422, code: "validation_failed", param: "metadata.a\x00b"},
		{name: "update", tool: "update_company", args: `{"id":"` + cid + `","name":"\u0000"}`,
			method: "PATCH", path: "/v1/companies/" + cid, body: `{"name":"\u0000"}`, status: 422, code: "validation_failed", param: "name"},
		{name: "batch row", tool: "batch_upsert_contacts", args: `{"contacts":[{"email":"a@x.com"},{"first_name":"\u0000"}]}`,
			method: "POST", path: "/v1/contacts/batch", body: `{"contacts":[{"email":"a@x.com"},{"first_name":"\u0000"}]}`, status: 422, code: "validation_failed", param: "contacts.1.first_name"},
		{name: "search q", tool: "search", args: `{"q":"ada\u0000"}`,
			method: "GET", path: "/v1/search?q=ada%00", status: 422, code: "validation_failed", param: "q"},
		{name: "filter value", tool: "list_contacts", args: `{"filter":{"first_name":"a\u0000"}}`,
			method: "GET", path: "/v1/contacts?filter%5Bfirst_name%5D=a%00", status: 422, code: "validation_failed", param: "filter.first_name"},
		{name: "shorthand filter value", tool: "list_contacts", args: `{"filter":{"last_name":{"ilike":"%\u0000"}}}`,
			method: "GET", path: "/v1/contacts?filter%5Blast_name%5D%5Bilike%5D=%25%00", status: 422, code: "validation_failed", param: "filter.last_name.ilike"},
		{name: "filter key", tool: "list_contacts", args: `{"filter":{"metadata->>a\u0000":"x"}}`,
			method: "GET", path: "/v1/contacts?filter%5Bmetadata-%3E%3Ea%00%5D=x", status: 422, code: "validation_failed", param: "filter.metadata->>a\x00"},
		{name: "list parameter", tool: "list_contacts", args: `{"email":"a\u0000@x.com"}`,
			method: "GET", path: "/v1/contacts?email=a%00@x.com", status: 422, code: "validation_failed", param: "email"},
		{name: "event type", tool: "list_events", args: `{"type":"contact.\u0000"}`,
			method: "GET", path: "/v1/events?type=contact.%00", status: 422, code: "validation_failed", param: "type"},
		{name: "cursor", tool: "list_deals", args: `{"cursor":"\u0000"}`,
			method: "GET", path: "/v1/deals?cursor=%00", status: 422, code: "validation_failed", param: "cursor"},
		// In a REST path, a value with a NUL names nothing: not_found, as for any impossible id
		// (TestImpossiblePathIDsAreNotFound); as an MCP argument it is refused like any string.
		{name: "id in a query", tool: "list_activities", args: `{"contact_id":"con_\u0000"}`,
			method: "GET", path: "/v1/activities?contact_id=con_%00", status: 422, code: "validation_failed", param: "contact_id"},
		{name: "path id", method: "GET", path: "/v1/contacts/con_%00", status: 404, code: "not_found", param: "id"},
		{name: "delete path id", method: "DELETE", path: "/v1/companies/%00", status: 404, code: "not_found", param: "id"},
		{name: "pipeline key", method: "GET", path: "/v1/pipelines/sales%00", status: 404, code: "not_found", param: "pipeline"},
	})
	// An idempotent request stores the refusal under its key, and writes nothing else.
	body := `{"first_name":"a\u0000b"}`
	expectError(t, e.post("/v1/contacts", e.Live, "nul-1", body), http.StatusUnprocessableEntity, "validation_failed", "first_name")
	expectError(t, e.post("/v1/contacts", e.Live, "nul-1", body), http.StatusUnprocessableEntity, "validation_failed", "first_name")
	if n := e.count("contacts", e.Live); n != 0 {
		t.Fatalf("%d contacts written", n)
	}
}

// TestLoneSurrogatesRefused sends \u escapes of lone UTF-16 surrogates, which encoding/json
// would silently replace with U+FFFD: both surfaces refuse them as not valid text, naming
// the field, and write nothing; escaped surrogate pairs (emoji) are accepted.
func TestLoneSurrogatesRefused(t *testing.T) {
	t.Parallel()
	e := setup(t)
	cs := e.mcpSession(e.Live, "")
	id := e.create("contacts", e.Live, map[string]any{"first_name": "Target"})
	var cases []refusal
	for _, c := range []struct{ name, args, body, param string }{
		{"high surrogate", `{"first_name":"\ud800"}`, ``, "first_name"},
		{"low surrogate", `{"first_name":"x","metadata":{"note":"\udc00x"}}`, ``, "metadata.note"},
		{"high surrogate before a letter", `{"first_name":"\ud83dA"}`, ``, "first_name"},
		{"high surrogate before a non-surrogate escape", `{"first_name":"\ud83d\u0041"}`, ``, "first_name"},
		{"surrogate in a key", `{"first_name":"x","metadata":{"\udfff":1}}`, ``, "metadata"},
		{"surrogate in a batch row", `{"contacts":[{"email":"a@x.com","last_name":"\ud800"}]}`, ``, "contacts.0.last_name"},
		{"surrogate in an update", `{"id":"` + id + `","last_name":"\udbff"}`, `{"last_name":"\udbff"}`, "last_name"},
	} {
		tool, method, path, body := "create_contact", "POST", "/v1/contacts", c.args
		if strings.Contains(c.args, "contacts") {
			tool, path = "batch_upsert_contacts", "/v1/contacts/batch"
		}
		if c.body != "" {
			tool, method, path, body = "update_contact", "PATCH", "/v1/contacts/"+id, c.body
		}
		cases = append(cases, refusal{name: c.name, tool: tool, args: c.args, method: method, path: path, body: body,
			status: 400, code: "bad_request", param: c.param})
	}
	// In a query string a surrogate can only arrive as the bytes of its CESU-8 form, which
	// are not UTF-8.
	cases = append(cases, refusal{name: "search q", tool: "search", args: `{"q":"\ud800"}`,
		method: "GET", path: "/v1/search?q=%ED%A0%80", status: 400, code: "bad_request", param: "q"})
	e.refuse(t, cs, e.Live, cases)

	r := e.do("POST", "/v1/contacts", e.Live, []byte(`{"first_name":"\ud83d\ude00","last_name":"caf\u00e9"}`)).must(t, http.StatusCreated)
	res := rawTool(t, cs, "create_contact", `{"first_name":"\ud83d\ude00","last_name":"caf\u00e9"}`)
	m := decode(t, text(t, res))
	if r.Body["first_name"] != "😀" || r.Body["last_name"] != "café" || res.IsError || m["first_name"] != "😀" || m["last_name"] != "café" {
		t.Fatalf("escaped pairs: REST %s, MCP %s", r.Raw, text(t, res))
	}
}

// TestDuplicateKeysRefused sends objects that give a key twice, at any depth and however
// the key is escaped: both surfaces refuse them naming the key's path, and write nothing.
func TestDuplicateKeysRefused(t *testing.T) {
	t.Parallel()
	e := setup(t)
	cs := e.mcpSession(e.Live, "")
	id := e.create("contacts", e.Live, map[string]any{"first_name": "Target"})
	e.refuse(t, cs, e.Live, []refusal{
		{name: "top level", tool: "create_contact", args: `{"email":"a@x.com","email":"b@x.com"}`,
			method: "POST", path: "/v1/contacts", body: `{"email":"a@x.com","email":"b@x.com"}`, status: 400, code: "bad_request", param: "email"},
		{name: "escaped key", tool: "create_contact", args: `{"email":"a@x.com","\u0065mail":"b@x.com"}`,
			method: "POST", path: "/v1/contacts", body: `{"email":"a@x.com","\u0065mail":"b@x.com"}`, status: 400, code: "bad_request", param: "email"},
		{name: "same value twice", tool: "create_contact", args: `{"email":"a@x.com","email":"a@x.com"}`,
			method: "POST", path: "/v1/contacts", body: `{"email":"a@x.com","email":"a@x.com"}`, status: 400, code: "bad_request", param: "email"},
		{name: "metadata", tool: "create_contact", args: `{"first_name":"x","metadata":{"plan":"pro","seats":3,"plan":"free"}}`,
			method: "POST", path: "/v1/contacts", body: `{"first_name":"x","metadata":{"plan":"pro","seats":3,"plan":"free"}}`, status: 400, code: "bad_request", param: "metadata.plan"},
		{name: "batch row", tool: "batch_upsert_contacts", args: `{"contacts":[{"email":"a@x.com"},{"email":"b@x.com","phone":"1","phone":"2"}]}`,
			method: "POST", path: "/v1/contacts/batch", body: `{"contacts":[{"email":"a@x.com"},{"email":"b@x.com","phone":"1","phone":"2"}]}`, status: 400, code: "bad_request", param: "contacts.1.phone"},
		{name: "update", tool: "update_contact", args: `{"id":"` + id + `","first_name":"a","first_name":null}`,
			method: "PATCH", path: "/v1/contacts/" + id, body: `{"first_name":"a","first_name":null}`, status: 400, code: "bad_request", param: "first_name"},
		{name: "nested in metadata", tool: "create_contact", args: `{"first_name":"x","metadata":{"a":[{"b":1,"b":2}]}}`,
			method: "POST", path: "/v1/contacts", body: `{"first_name":"x","metadata":{"a":[{"b":1,"b":2}]}}`, status: 400, code: "bad_request", param: "metadata.a.0.b"},
	})
	// The filter of a list arrives as an MCP object; REST query strings have their own rule
	// for a parameter given twice.
	res := rawTool(t, cs, "list_contacts", `{"filter":{"email":"a@x.com","email":"b@x.com"}}`)
	if got := decode(t, text(t, res))["error"].(map[string]any); got["code"] != "bad_request" || got["param"] != "filter.email" {
		t.Errorf("MCP filter: %v", got)
	}
	expectError(t, e.do("GET", "/v1/contacts?email=a@x.com&email=b@x.com", e.Live, nil), http.StatusBadRequest, "bad_request", "email")
	// The MCP-only idempotency_key argument too.
	res = rawTool(t, cs, "create_contact", `{"first_name":"x","idempotency_key":"k1","idempotency_key":"k2"}`)
	if got := decode(t, text(t, res))["error"].(map[string]any); got["code"] != "bad_request" || got["param"] != "idempotency_key" {
		t.Errorf("MCP idempotency_key twice: %v", got)
	}
	if n := e.count("contacts", e.Live); n != 1 {
		t.Fatalf("%d contacts, want only the target", n)
	}
}

// TestNotFoundNamesKindsInPlural checks that messages name kinds by their real plurals on
// both surfaces ("list companies", never "companys").
func TestNotFoundNamesKindsInPlural(t *testing.T) {
	t.Parallel()
	e := setup(t)
	cs := e.mcpSession(e.Live, "")
	for _, c := range []struct{ tool, path, id, plural string }{
		{"get_company", "/v1/companies/", "cmp_aaaaaaaaaaaaaaaaaaaaaaaaaa", "list companies"},
		{"get_activity", "/v1/activities/", "act_aaaaaaaaaaaaaaaaaaaaaaaaaa", "list activities"},
		{"delete_custom_field", "/v1/schema/fields/", "fld_aaaaaaaaaaaaaaaaaaaaaaaaaa", "list custom fields"},
		{"revoke_api_key", "/v1/api_keys/", "key_aaaaaaaaaaaaaaaaaaaaaaaaaa", "list API keys"},
	} {
		method := "GET"
		if strings.HasPrefix(c.tool, "delete") || strings.HasPrefix(c.tool, "revoke") {
			method = "DELETE"
		}
		rest := expectError(t, e.do(method, c.path+c.id, e.Live, nil), http.StatusNotFound, "not_found", "id")
		mcp := decode(t, text(t, rawTool(t, cs, c.tool, `{"id":"`+c.id+`"}`)))["error"].(map[string]any)
		if msg, _ := rest["message"].(string); !strings.Contains(msg, c.plural) || mcp["message"] != msg {
			t.Errorf("%s: REST %q, MCP %q; want %q", c.tool, msg, mcp["message"], c.plural)
		}
	}
}
