package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/relmcrm/relm/server"
)

// hostileCase is one malformed body and the exact refusal every write route gives it.
type hostileCase struct {
	name, body string
	status     int
	code       string
	// clash, when set, is the refusal instead on routes whose path names a parameter
	// (id, stage) that the body also names.
	clash *hostileCase
}

// TestHostileInputToEveryWriteRoute sends malformed JSON, wrong types, huge numbers,
// invalid UTF-8, deep nesting and SQL-looking strings to every write route, aimed at
// records that exist: each malformed body gets the exact status and code its case names,
// and none writes anything (SQL-looking strings are just text: written or refused, never a 5xx).
func TestHostileInputToEveryWriteRoute(t *testing.T) {
	t.Parallel()
	e := setupWith(t, limits(server.Limits{RateLimit: 10_000})) // a request per route and case
	// A webhook first, so that the records below give it a delivery to replay.
	webhook := e.call("POST", "/v1/webhooks", e.Live, map[string]any{"url": "https://hostile.example.com/hook", "events": []string{"*"}}).must(t, http.StatusCreated).Body["id"].(string)
	automation := e.call("POST", "/v1/automations", e.Live, map[string]any{"name": "Hostile", "trigger_event": "deal.stage_changed",
		"actions": []any{map[string]any{"type": "create_activity", "activity_type": "note"}}}).must(t, http.StatusCreated).Body["id"].(string)
	e.call("POST", "/v1/pipelines", e.Live, map[string]any{"key": "hostile", "label": "Hostile",
		"stages": []any{map[string]any{"key": "target", "label": "Target"}}}).must(t, http.StatusCreated)
	contact := e.create("contacts", e.Live, map[string]any{"first_name": "Target"})
	delivery := e.call("GET", "/v1/webhooks/"+webhook+"/deliveries", e.Live, nil).must(t, http.StatusOK).Body["data"].([]any)[0].(map[string]any)["id"].(string)
	params := strings.NewReplacer(
		"/v1/contacts/{id}", "/v1/contacts/"+contact,
		"/v1/companies/{id}", "/v1/companies/"+e.create("companies", e.Live, map[string]any{"name": "Target Co"}),
		"/v1/deals/{id}", "/v1/deals/"+e.create("deals", e.Live, map[string]any{"title": "Target deal"}),
		"/v1/activities/{id}", "/v1/activities/"+e.create("activities", e.Live, map[string]any{"type": "note", "contact_id": contact}),
		"/v1/api_keys/{id}", "/v1/api_keys/key_aaaaaaaaaaaaaaaaaaaaaaaaaa",
		"/v1/webhooks/{id}", "/v1/webhooks/"+webhook,
		"/v1/automations/{id}", "/v1/automations/"+automation,
		// An email domain lives at Resend: no integration is set up, so its id is any.
		"/v1/email/domains/{id}", "/v1/email/domains/4dd369bc-aa82-4ff3-97de-514ae3000ee0",
		"{pipeline}", "hostile", "{stage}", "target", "{delivery_id}", delivery,
		"/v1/events/{id}", "/v1/events/"+e.lastEvent(e.Live, "contact.created")["id"].(string),
		"/v1/request_logs/{request_id}", "/v1/request_logs/"+e.lastEvent(e.Live, "contact.created")["request_id"].(string),
		"/v1/contacts/{into}", "/v1/contacts/"+contact,
		"/v1/companies/{into}", "/v1/companies/"+e.create("companies", e.Live, map[string]any{"name": "Into Co"}),
	)
	written := func() string {
		b := e.written(e.Live)
		for _, p := range []string{"/v1/webhooks/" + webhook, "/v1/webhooks/" + webhook + "/deliveries", "/v1/automations/" + automation, "/v1/pipelines/hostile"} {
			b += string(e.call("GET", p, e.Live, nil).must(t, http.StatusOK).Raw)
		}
		return b
	}
	before := written()
	deep := strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 40)
	const bad, invalid = "bad_request", "validation_failed"
	cases := []hostileCase{
		{name: "truncated JSON", body: `{"name":`, status: 400, code: bad},
		{name: "not an object", body: `[1,2,3]`, status: 400, code: bad},
		{name: "a bare string", body: `"hello"`, status: 400, code: bad},
		{name: "wrong types", body: `{"id":5,"name":7,"title":[],"email":{},"type":false,"contacts":"x","stage":1}`, status: 422, code: invalid,
			clash: &hostileCase{status: 400, code: bad}},
		{name: "huge numbers", body: `{"value_cents":1e999,"limit":123456789012345678901234567890,"name":1e308}`, status: 422, code: invalid},
		{name: "invalid UTF-8", body: "{\"name\":\"\xff\xfe\",\"first_name\":\"\xc3\x28\"}", status: 400, code: bad},
		{name: "deep nesting", body: `{"metadata":` + deep + `}`, status: 400, code: bad},
		{name: "unknown fields", body: `{"zzz_not_a_field":1}`, status: 422, code: invalid},
		{name: "duplicate JSON", body: `{"name":"a"} {"name":"b"}`, status: 400, code: bad},
		{name: "null body", body: `null`, status: 422, code: invalid},
		{name: "number body", body: `42`, status: 400, code: bad},
		{name: "control chars", body: "{\"name\":\"a\u0000b\"}", status: 400, code: bad},
		{name: "empty object", body: `{}`, status: 422, code: invalid},
		{name: "empty key names", body: `{"":1}`, status: 422, code: invalid},
	}
	// Routes where no body is a valid request: no changes, or an action without arguments.
	bodyOptional := map[string]bool{"create_api_key": true, "create_sandbox": true, "rotate_webhook_secret": true, "replay_webhook_delivery": true, "verify_email_domain": true,
		"undo_change": true, "undo_request": true}
	for _, entry := range e.Srv.Registry.Entries() {
		r := entry.REST
		if r.Method == http.MethodGet || r.Method == http.MethodDelete {
			continue // reads, and deletes, which take no body
		}
		path := params.Replace(r.Path)
		if strings.Contains(path, "{") {
			t.Fatalf("%s: no record for a parameter of %s", entry.Name, path)
		}
		for _, c := range cases {
			if c.name == "empty object" && !strings.HasPrefix(entry.Name, "create_") && entry.Name != "log_activity" && entry.Name != "batch_upsert_contacts" {
				continue // an empty PATCH, or a POST without fields, may be valid
			}
			if c.name == "null body" && (bodyOptional[entry.Name] || strings.HasPrefix(entry.Name, "update_")) {
				continue
			}
			if c.name == "empty object" && bodyOptional[entry.Name] {
				continue
			}
			res := e.do(r.Method, path, e.Live, []byte(c.body))
			want := c
			if c.clash != nil && (strings.Contains(r.Path, "{id}") || strings.Contains(r.Path, "{stage}")) {
				want = *c.clash
			}
			if res.Status != want.status || res.errCode() != want.code {
				t.Errorf("%s %s with %s: got %d %s, want %d %s: %s", r.Method, r.Path, c.name, res.Status, res.errCode(), want.status, want.code, res.Raw)
			}
		}
	}
	if after := written(); after != before {
		t.Errorf("a malformed body wrote something:\nbefore %s\nafter  %s", before, after)
	}
	// SQL-looking names and titles are just text: written or refused, never a 5xx.
	for _, entry := range e.Srv.Registry.Entries() {
		r := entry.REST
		if r.Method == http.MethodGet || r.Method == http.MethodDelete {
			continue
		}
		path := params.Replace(r.Path)
		for _, sqlish := range []string{`'; DROP TABLE contacts; --`, `" OR 1=1 --`, `\'; SELECT pg_sleep(10); --`} {
			body := `{"name":` + jsonString(sqlish) + `,"title":` + jsonString(sqlish) + `}`
			if res := e.do(r.Method, path, e.Live, []byte(body)); res.Status >= 500 {
				t.Errorf("%s %s with SQL-looking text: %d %s", r.Method, path, res.Status, res.Raw)
			}
		}
	}
	e.call("GET", "/v1/contacts", e.Live, nil).must(t, http.StatusOK) // the table is still there
}

func jsonString(s string) string { return string(must(jsonMarshal(s))) }
