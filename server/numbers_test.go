package server_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// exactNumbers are metadata values a float64 would round: 64-bit ids, integers beyond
// 2^64, a long decimal and a large exponent. They must come back equal in value (PostgreSQL
// writes numbers out in full: 1.5e300 comes back as 15 followed by 299 zeros).
var exactNumbers = map[string]string{
	"id":      "9007199254740993",
	"min":     "-9223372036854775808",
	"max":     "18446744073709551615",
	"big":     "12345678901234567890",
	"decimal": "0.1000000000000000055511151231257827",
	"huge":    "1.5e300",
}

// exactMetadata is exactNumbers as a JSON object, also nested in an array and an object.
func exactMetadata() string {
	var parts []string
	for k, v := range exactNumbers {
		parts = append(parts, fmt.Sprintf("%q:%s", k, v))
	}
	return `{` + strings.Join(parts, ",") + `,"list":[9007199254740993,1.5e300],"nested":{"big":12345678901234567890}}`
}

// checkExact asserts that metadata holds exactNumbers unrounded.
func checkExact(t *testing.T, what string, md any) {
	t.Helper()
	m, _ := md.(map[string]any)
	for k, want := range exactNumbers {
		if !sameNumber(m[k], want) {
			t.Errorf("%s: metadata.%s = %v, want %s", what, k, m[k], want)
		}
	}
	list, _ := m["list"].([]any)
	nested, _ := m["nested"].(map[string]any)
	if len(list) != 2 || !sameNumber(list[0], "9007199254740993") || !sameNumber(list[1], "1.5e300") || !sameNumber(nested["big"], "12345678901234567890") {
		t.Errorf("%s: nested numbers rounded: %v %v", what, m["list"], m["nested"])
	}
}

// surfaceCall runs a capability on one surface with raw JSON arguments and returns the
// JSON result, decoded exactly, failing the test on an error. REST puts the listed path
// parameters in the path and the other arguments in the query (GET) or the body.
type surfaceCall func(t *testing.T, tool, method, path, args string) map[string]any

func (e *env) surfaces(t *testing.T, key string) map[string]surfaceCall {
	cs := e.mcpSession(key, "")
	return map[string]surfaceCall{
		"REST": func(t *testing.T, _, method, path, args string) map[string]any {
			t.Helper()
			var body []byte
			if method != http.MethodGet && args != "" {
				obj := decodeExact(t, []byte(args))
				for k := range obj {
					if strings.Contains(path, "/"+fmt.Sprint(obj[k])) {
						delete(obj, k) // a path parameter
					}
				}
				body = must(jsonMarshal(obj))
			}
			r := e.with(t).do(method, path, key, body)
			if r.Status >= 300 {
				t.Fatalf("%s %s: %d %s", method, path, r.Status, r.Raw)
			}
			return decodeExact(t, r.Raw)
		},
		"MCP": func(t *testing.T, tool, _, _, args string) map[string]any {
			t.Helper()
			res := rawTool(t, cs, tool, args)
			if res.IsError {
				t.Fatalf("%s: %s", tool, text(t, res))
			}
			return decodeExact(t, []byte(text(t, res)))
		},
	}
}

// TestExactNumbersRoundTrip writes numbers a float64 would round into metadata, on both
// surfaces, and reads them back unchanged through create, get, list (and metadata
// filters), update, batch import, events and idempotent replays.
func TestExactNumbersRoundTrip(t *testing.T) {
	t.Parallel()
	e := setup(t)
	md := exactMetadata()
	// A contact whose id differs only beyond float64's precision: a rounded filter finds it.
	decoy := e.do("POST", "/v1/contacts", e.Live, []byte(`{"email":"decoy@x.com","metadata":{"id":9007199254740992,"big":12345678901234567000}}`))
	decoy.must(t, http.StatusCreated)
	for surface, call := range e.surfaces(t, e.Live) {
		t.Run(surface, func(t *testing.T) {
			e := e.with(t)
			email := strings.ToLower(surface) + "@x.com"
			c := call(t, "create_contact", "POST", "/v1/contacts", `{"email":"`+email+`","metadata":`+md+`}`)
			checkExact(t, "create", c["metadata"])
			id := c["id"].(string)
			checkExact(t, "get", call(t, "get_contact", "GET", "/v1/contacts/"+id, `{"id":"`+id+`"}`)["metadata"])

			created := e.lastEventOf(t, "contact.created", id)
			checkExact(t, "contact.created event", created["object"].(map[string]any)["metadata"])

			// Metadata filters compare the exact values: the decoy never matches.
			for _, f := range []struct {
				field, op, value string
				want             int
			}{
				{"id", "eq", "9007199254740993", 1}, {"big", "eq", "12345678901234567890", 1},
				{"big", "gt", "12345678901234567000", 1}, {"max", "gte", "18446744073709551615", 1},
				{"decimal", "lt", "0.10000000000000000555111512312578271", 1},
				{"id", "eq", "9007199254740992", 0}, {"big", "lte", "12345678901234567000", 0}, {"huge", "gt", "1.5e300", 0},
			} {
				query := escapeQuery(fmt.Sprintf("email=%s&filter[metadata->>%s][%s]=%s", email, f.field, f.op, f.value))
				args := fmt.Sprintf(`{"email":%q,"filter":{"metadata->>%s":{%q:%s}}}`, email, f.field, f.op, f.value)
				data := call(t, "list_contacts", "GET", "/v1/contacts?"+query, args)["data"].([]any)
				if len(data) != f.want {
					t.Errorf("filter %s %s %s: %d contacts, want %d", f.field, f.op, f.value, len(data), f.want)
				} else if f.want == 1 {
					checkExact(t, "list", data[0].(map[string]any)["metadata"])
				}
			}

			u := call(t, "update_contact", "PATCH", "/v1/contacts/"+id, `{"id":"`+id+`","metadata":{"id":9007199254740995}}`)
			if m := u["metadata"].(map[string]any); !sameNumber(m["id"], "9007199254740995") || !sameNumber(m["big"], exactNumbers["big"]) {
				t.Errorf("update: %v", m)
			}
			updated := e.lastEventOf(t, "contact.updated", id)
			prev := updated["previous_attributes"].(map[string]any)["metadata"]
			checkExact(t, "previous_attributes", prev)

			batchEmail := strings.ToLower(surface) + "-batch@x.com"
			b := call(t, "batch_upsert_contacts", "POST", "/v1/contacts/batch", `{"contacts":[{"email":"`+batchEmail+`","metadata":`+md+`}]}`)
			row := b["data"].([]any)[0].(map[string]any)["contact"].(map[string]any)
			checkExact(t, "batch create", row["metadata"])
			b = call(t, "batch_upsert_contacts", "POST", "/v1/contacts/batch", `{"dedup_on":["email"],"contacts":[{"email":"`+batchEmail+`","metadata":{"id":1}}]}`)
			row = b["data"].([]any)[0].(map[string]any)["contact"].(map[string]any)
			if m := row["metadata"].(map[string]any); !sameNumber(m["id"], "1") || !sameNumber(m["max"], exactNumbers["max"]) {
				t.Errorf("batch update: %v", m)
			}
			checkExact(t, "batch previous_attributes", e.lastEventOf(t, "contact.updated", row["id"].(string))["previous_attributes"].(map[string]any)["metadata"])
		})
	}
}

// lastEventOf returns the data of the newest event of type typ about record id.
func (e *env) lastEventOf(t *testing.T, typ, id string) map[string]any {
	t.Helper()
	r := e.call("GET", "/v1/events?type="+url.QueryEscape(typ)+"&limit=200", e.Live, nil).must(t, http.StatusOK)
	for _, ev := range decodeExact(t, r.Raw)["data"].([]any) {
		data := ev.(map[string]any)["data"].(map[string]any)
		if data["object"].(map[string]any)["id"] == id {
			return data
		}
	}
	t.Fatalf("no %s event for %s", typ, id)
	return nil
}

// TestExactNumbersReplayedAndTyped checks that an idempotent replay and a custom field of
// type number keep numbers exact on both surfaces.
func TestExactNumbersReplayedAndTyped(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.defineField(e.Live, map[string]any{"object_type": "contact", "key": "score", "label": "Score", "type": "number"})
	body := `{"first_name":"Replay","metadata":` + exactMetadata() + `}`
	first := e.post("/v1/contacts", e.Live, "exact-1", body).must(t, http.StatusCreated)
	again := e.post("/v1/contacts", e.Live, "exact-1", body).must(t, http.StatusCreated)
	if string(first.Raw) != string(again.Raw) || again.Header.Get(replayedHeader) != "true" {
		t.Fatalf("replay differs:\n%s\n%s", first.Raw, again.Raw)
	}
	checkExact(t, "REST replay", decodeExact(t, again.Raw)["metadata"])
	cs := e.mcpSession(e.Live, "")
	args := `{"first_name":"Replay MCP","idempotency_key":"exact-2","metadata":` + exactMetadata() + `}`
	one, two := text(t, rawTool(t, cs, "create_contact", args)), text(t, rawTool(t, cs, "create_contact", args))
	if one != two {
		t.Fatalf("MCP replay differs:\n%s\n%s", one, two)
	}
	checkExact(t, "MCP replay", decodeExact(t, []byte(two))["metadata"])

	for surface, call := range e.surfaces(t, e.Live) {
		c := call(t, "create_contact", "POST", "/v1/contacts", `{"first_name":"Typed `+surface+`","metadata":{"score":12345678901234567890}}`)
		if !sameNumber(c["metadata"].(map[string]any)["score"], "12345678901234567890") {
			t.Errorf("%s: typed number rounded: %v", surface, c["metadata"])
		}
		args := `{"filter":{"first_name":"Typed ` + surface + `","metadata->>score":{"gt":12345678901234567889}}}`
		list := call(t, "list_contacts", "GET", "/v1/contacts?"+escapeQuery("filter[first_name]=Typed "+surface+"&filter[metadata->>score][gt]=12345678901234567889"), args)
		if len(list["data"].([]any)) != 1 {
			t.Errorf("%s: typed filter beyond 2^64: %v", surface, list["data"])
		}
	}
}

// TestNumbersRelmCannotStore refuses, on both surfaces and wherever they appear, numbers
// that written out in full would exceed schemas.MaxNumberDigits, naming the field; nothing
// is written.
func TestNumbersRelmCannotStore(t *testing.T) {
	t.Parallel()
	e := setup(t)
	// From protocol 2026-07-28 the go-sdk's transport decodes the arguments itself (to check
	// the Mcp-Name header) and answers 400 for a number beyond float64's range before any
	// tool runs; Relm's own answer is what earlier protocols get.
	cs := e.mcpSession(e.Live, "2025-11-25")
	id := e.create("contacts", e.Live, map[string]any{"first_name": "Target"})
	var cases []refusal
	for _, n := range []string{"1e1000000", "1e1000", "-1e-1000", "1e-1000000", "1" + strings.Repeat("0", 1000)} {
		short := n[:min(len(n), 12)]
		cases = append(cases,
			refusal{name: "create " + short, tool: "create_contact", args: `{"first_name":"x","metadata":{"x":` + n + `}}`,
				method: "POST", path: "/v1/contacts", body: `{"first_name":"x","metadata":{"x":` + n + `}}`,
				status: 422, code: "validation_failed", param: "metadata.x"},
			refusal{name: "update " + short, tool: "update_contact", args: `{"id":"` + id + `","metadata":{"a":{"b":[1,` + n + `]}}}`,
				method: "PATCH", path: "/v1/contacts/" + id, body: `{"metadata":{"a":{"b":[1,` + n + `]}}}`,
				status: 422, code: "validation_failed", param: "metadata.a.b.1"},
			refusal{name: "batch " + short, tool: "batch_upsert_contacts", args: `{"contacts":[{"email":"n@x.com","metadata":{"x":` + n + `}}]}`,
				method: "POST", path: "/v1/contacts/batch", body: `{"contacts":[{"email":"n@x.com","metadata":{"x":` + n + `}}]}`,
				status: 422, code: "validation_failed", param: "contacts.0.metadata.x"},
			refusal{name: "deal value " + short, tool: "create_deal", args: `{"title":"x","value_cents":` + n + `}`,
				method: "POST", path: "/v1/deals", body: `{"title":"x","value_cents":` + n + `}`,
				status: 422, code: "validation_failed", param: "value_cents"},
		)
	}
	cases = append(cases, refusal{name: "limit", tool: "list_contacts", args: `{"limit":1e1000}`,
		method: "GET", path: "/v1/contacts?limit=1e1000", status: 422, code: "validation_failed", param: "limit"})
	e.refuse(t, cs, e.Live, cases)
	// A filter value: a JSON number is refused like any input number; the same text (REST
	// query values are all text) is a filter value that is not a number Relm can compare.
	res := rawTool(t, cs, "list_contacts", `{"filter":{"metadata->>x":{"gt":1e1000}}}`)
	if got := decode(t, text(t, res))["error"].(map[string]any); got["code"] != "validation_failed" || got["param"] != "filter.metadata->>x.gt" {
		t.Errorf("MCP filter number: %v", got)
	}
	r := e.do("GET", "/v1/contacts?"+escapeQuery("filter[metadata->>x][gt]=1e1000"), e.Live, nil)
	expectError(t, r, http.StatusBadRequest, "invalid_filter", "filter[metadata->>x][gt]")
	res = rawTool(t, cs, "list_contacts", `{"filter":{"metadata->>x":{"gt":"1e1000"}}}`)
	if got := decode(t, text(t, res))["error"].(map[string]any); got["code"] != "invalid_filter" || got["message"] != errOf(r)["message"] {
		t.Errorf("MCP with the same text: %v, REST: %v", got, errOf(r))
	}
}
