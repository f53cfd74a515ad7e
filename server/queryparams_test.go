package server_test

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/relmcrm/relm/tools"
)

var routeParam = regexp.MustCompile(`\{([a-z_]+)\}`)

// TestEveryRouteRefusesStrayQueryParameters walks every REST route of the registry
// (aliases included) with a query parameter it does not take and, where it has path
// parameters (or is an alias leaving some to their default), with each of them in the
// query naming another record: each answers
// 400 bad_request naming the parameter, before anything runs. GET and DELETE routes list
// the parameters they take in valid_options. The MCP tool given the same unknown argument
// refuses it as validation_failed. Nothing changes: every record the DELETE routes aim at
// still exists.
func TestEveryRouteRefusesStrayQueryParameters(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.setPlan("acme", "team")
	webhook, _ := e.webhook(e.Live, "https://hooks.example.com/query")
	automation := e.call("POST", "/v1/automations", e.Live, map[string]any{"name": "Q", "trigger_event": "*",
		"actions": []any{map[string]any{"type": "create_activity", "activity_type": "note"}}}).must(t, http.StatusCreated).Body["id"].(string)
	company := e.create("companies", e.Live, map[string]any{"name": "Query Co"})
	contact := e.create("contacts", e.Live, map[string]any{"first_name": "Query"})
	other := e.create("contacts", e.Live, map[string]any{"first_name": "Other"})
	deal := e.create("deals", e.Live, map[string]any{"title": "Query deal"})
	activity := e.create("activities", e.Live, map[string]any{"type": "note", "contact_id": contact})
	association := e.link(e.Live, "contact", contact, "deal", deal)
	field := e.defineField(e.Live, map[string]any{"object_type": "contact", "key": "tier", "label": "Tier", "type": "text"})
	e.call("POST", "/v1/pipelines", e.Live, map[string]any{"key": "qp", "label": "Query",
		"stages": []any{map[string]any{"key": "qs", "label": "Query stage"}}}).must(t, http.StatusCreated)
	spare := e.key("acme", "live")
	keys, err := e.Admin.ListAPIKeys(t.Context(), e.workspaceID("acme"), "live")
	if err != nil {
		t.Fatal(err)
	}
	apiKey := keys[0].ID // the newest: spare
	sandbox, _ := e.sandbox(e.Live, nil)
	event := e.lastEvent(e.Live, "contact.created")["id"].(string)
	delivery := e.call("GET", "/v1/webhooks/"+webhook+"/deliveries", e.Live, nil).must(t, 200).Body["data"].([]any)[0].(map[string]any)["id"].(string)
	// samples fill the path parameters of each route; a route with path parameters and no
	// sample fails the test, so a new route cannot skip the rule.
	samples := map[string]string{
		"/v1/contacts/{id}":                          "/v1/contacts/" + contact,
		"/v1/companies/{id}":                         "/v1/companies/" + company,
		"/v1/deals/{id}":                             "/v1/deals/" + deal,
		"/v1/deals/{id}/move_stage":                  "/v1/deals/" + deal + "/move_stage",
		"/v1/activities/{id}":                        "/v1/activities/" + activity,
		"/v1/associations/{id}":                      "/v1/associations/" + association,
		"/v1/schema/fields/{id}":                     "/v1/schema/fields/" + field,
		"/v1/events/{id}":                            "/v1/events/" + event,
		"/v1/events/{id}/revert":                     "/v1/events/" + event + "/revert",
		"/v1/request_logs/{request_id}/revert":       "/v1/request_logs/" + e.lastEvent(e.Live, "contact.created")["request_id"].(string) + "/revert",
		"/v1/contacts/{into}/merge":                  "/v1/contacts/" + contact + "/merge",
		"/v1/companies/{into}/merge":                 "/v1/companies/" + company + "/merge",
		"/v1/api_keys/{id}":                          "/v1/api_keys/" + apiKey,
		"/v1/pipelines/{pipeline}":                   "/v1/pipelines/qp",
		"/v1/pipelines/{pipeline}/stages":            "/v1/pipelines/qp/stages",
		"/v1/pipelines/{pipeline}/stages/{stage}":    "/v1/pipelines/qp/stages/qs",
		"/v1/pipeline/stages/{stage}":                "/v1/pipeline/stages/lead",
		"/v1/webhooks/{id}":                          "/v1/webhooks/" + webhook,
		"/v1/webhooks/{id}/rotate_secret":            "/v1/webhooks/" + webhook + "/rotate_secret",
		"/v1/webhooks/{id}/deliveries":               "/v1/webhooks/" + webhook + "/deliveries",
		"/v1/webhooks/{id}/deliveries/{delivery_id}": "/v1/webhooks/" + webhook + "/deliveries/" + delivery,
		"/v1/webhooks/{id}/replay/{delivery_id}":     "/v1/webhooks/" + webhook + "/replay/" + delivery,
		"/v1/emails/{id}":                            "/v1/emails/eml_aaaaaaaaaaaaaaaaaaaaaaaaaa",
		"/v1/oauth_grants/{id}":                      "/v1/oauth_grants/oag_aaaaaaaaaaaaaaaaaaaaaaaaaa",
		"/v1/automations/{id}":                       "/v1/automations/" + automation,
		"/v1/automations/{id}/runs":                  "/v1/automations/" + automation + "/runs",
		"/v1/email/domains/{id}":                     "/v1/email/domains/4dd369bc-aa82-4ff3-97de-514ae3000ee0",
		"/v1/email/domains/{id}/verify":              "/v1/email/domains/4dd369bc-aa82-4ff3-97de-514ae3000ee0/verify",
		"/v1/sandboxes/{id}":                         "/v1/sandboxes/" + sandbox,
		"/v1/chatgpt/fetch/{id}":                     "/v1/chatgpt/fetch/" + contact,
	}
	// elsewhere names, for each path parameter, a record other than the sample's.
	elsewhere := map[string]string{"id": other, "pipeline": "sales", "stage": "won", "delivery_id": "whdl_aaaaaaaaaaaaaaaaaaaaaaaaaa"}
	before := e.written(e.Live)
	sessions := e.entrySessions(e.Live, "")
	routes := 0
	for _, entry := range e.Srv.Registry.Entries() {
		for _, b := range append([]tools.Route{*entry.REST}, entry.Aliases...) {
			path := b.Path
			if strings.Contains(path, "{") {
				if path = samples[b.Path]; path == "" {
					t.Errorf("%s %s has no sample: add one", b.Method, b.Path)
					continue
				}
			}
			routes++
			var body []byte
			if b.Method != http.MethodGet && b.Method != http.MethodDelete {
				body = []byte(`{}`)
			}
			r := e.do(b.Method, path+"?zz_unknown=1", e.Live, body)
			eb := expectErrorOf(t, b.Method+" "+b.Path+"?zz_unknown", r, http.StatusBadRequest, "bad_request", "zz_unknown")
			if msg, _ := eb["message"].(string); !strings.Contains(msg, `"zz_unknown"`) || slices.Contains(strsOrNil(eb["valid_options"]), "zz_unknown") {
				t.Errorf("%s %s: %s", b.Method, b.Path, r.Raw)
			}
			// The canonical route's path parameters: an alias's own, and those it leaves to
			// their default.
			for _, m := range routeParam.FindAllStringSubmatch(entry.REST.Path, -1) {
				q := url.Values{m[1]: {elsewhere[m[1]]}}.Encode()
				r := e.do(b.Method, path+"?"+q, e.Live, body)
				expectErrorOf(t, b.Method+" "+b.Path+"?"+q, r, http.StatusBadRequest, "bad_request", m[1])
			}
		}
		cs, name := sessions.of(entry)
		res := rawTool(t, cs, name, `{"zz_unknown":1}`)
		got := decode(t, text(t, res))["error"].(map[string]any)
		if !res.IsError || got["code"] != "validation_failed" || !strings.Contains(toJSON(got["details"]), `"field":"zz_unknown"`) {
			t.Errorf("MCP %s with an unknown argument: %s", entry.Name, text(t, res))
		}
	}
	if routes < 50 {
		t.Fatalf("walked %d routes; the registry has more", routes)
	}
	if after := e.written(e.Live); after != before {
		t.Fatalf("a refused request changed something:\nbefore %s\nafter  %s", before, after)
	}
	for _, p := range []string{"/v1/contacts/" + contact, "/v1/companies/" + company, "/v1/deals/" + deal, "/v1/activities/" + activity,
		"/v1/pipelines/qp", "/v1/pipelines/qp/stages", "/v1/pipelines/sales"} {
		e.call("GET", p, e.Live, nil).must(t, http.StatusOK)
	}
	stages := e.call("GET", "/v1/pipelines/sales/stages", e.Live, nil).must(t, http.StatusOK)
	if got := strings.Join(keysOf(stages), ","); got != "lead,qualified,proposal,won,lost" {
		t.Errorf("default stages: %s", got)
	}
	for list, id := range map[string]string{"/v1/associations?from_id=" + contact: association, "/v1/schema/fields": field, "/v1/api_keys": apiKey} {
		if !strings.Contains(string(e.call("GET", list, e.Live, nil).must(t, http.StatusOK).Raw), id) {
			t.Errorf("%s no longer lists %s", list, id)
		}
	}
	e.call("GET", "/v1/usage", spare, nil).must(t, http.StatusOK) // the spare key was not revoked
}

// TestQueryParametersOfListsAndSearch checks the rule's answers where query parameters are
// richest: lists take their own parameters, filterable fields and filter[...]; search and
// list_events theirs; a typo gets a suggestion.
func TestQueryParametersOfListsAndSearch(t *testing.T) {
	t.Parallel()
	e := setup(t)
	r := e.do("GET", "/v1/contacts?emal=a@x.com", e.Live, nil)
	eb := expectError(t, r, http.StatusBadRequest, "bad_request", "emal")
	if eb["suggestion"] != "email" || !slices.Contains(strs(eb["valid_options"]), "last_name") || !strings.Contains(eb["message"].(string), "filter[field][op]") {
		t.Errorf("list: %s", r.Raw)
	}
	r = e.do("GET", "/v1/search?q=ada&type=contact", e.Live, nil)
	eb = expectError(t, r, http.StatusBadRequest, "bad_request", "type")
	if eb["suggestion"] != "types" || strings.Join(strs(eb["valid_options"]), ",") != "cursor,limit,q,types" {
		t.Errorf("search: %s", r.Raw)
	}
	expectError(t, e.do("GET", "/v1/events?"+escapeQuery("filter[type]=contact.created&kind=x"), e.Live, nil), http.StatusBadRequest, "bad_request", "kind")
	expectError(t, e.do("GET", "/v1/search?q=ada&filter[name]=x", e.Live, nil), http.StatusBadRequest, "bad_request", "filter[name]")
	r = e.do("POST", "/v1/contacts?first_name=Ada", e.Live, []byte(`{"first_name":"Eve"}`))
	if eb = expectError(t, r, http.StatusBadRequest, "bad_request", "first_name"); eb["valid_options"] != nil || !strings.Contains(eb["message"].(string), "JSON body") {
		t.Errorf("body route: %s", r.Raw)
	}
	// Known parameters still work, and so do filterable fields given as field=value.
	e.create("contacts", e.Live, map[string]any{"first_name": "Ada", "email": "ada@x.com"})
	for _, q := range []string{"email=ada@x.com", "first_name=Ada", "filter[first_name]=Ada&limit=1", "limit=5&cursor="} {
		if n := len(ids(e.do("GET", "/v1/contacts?"+escapeQuery(q), e.Live, nil).must(t, http.StatusOK))); n != 1 {
			t.Errorf("%s: %d contacts", q, n)
		}
	}
}

// expectErrorOf is expectError that reports what was sent and carries on.
func expectErrorOf(t *testing.T, what string, r resp, status int, code, param string) map[string]any {
	t.Helper()
	eb := errOf(r)
	if r.Status != status || eb == nil || eb["code"] != code || paramOf(eb) != param {
		t.Errorf("%s: want %d %s on %q, got %d %s", what, status, code, param, r.Status, r.Raw)
	}
	return eb
}

func strsOrNil(v any) []string {
	if v == nil {
		return nil
	}
	return strs(v)
}

// keysOf lists the key of each item of a list response's data.
func keysOf(r resp) []string {
	var out []string
	for _, d := range r.Body["data"].([]any) {
		out = append(out, d.(map[string]any)["key"].(string))
	}
	return out
}
