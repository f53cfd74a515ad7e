package server_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/store"
)

// isolationSamples gives every capability arguments that aim at workspace A's records;
// {contact}, {company}, {deal}, {activity} and {event} stand for their ids. A capability
// without a sample fails TestEveryCapabilityIsIsolated, so none ships unchecked.
var isolationSamples = map[string]string{
	"create_contact":           `{"email":"iso@x.com","company_id":"{company}"}`,
	"get_contact":              `{"id":"{contact}"}`,
	"update_contact":           `{"id":"{contact}","first_name":"Mallory","expected_version":1}`,
	"delete_contact":           `{"id":"{contact}","expected_version":1}`,
	"list_contacts":            `{}`,
	"batch_upsert_contacts":    `{"contacts":[{"email":"iso@x.com","company_id":"{company}"}],"dedup_on":["email"]}`,
	"create_company":           `{"name":"Mallory Inc"}`,
	"get_company":              `{"id":"{company}"}`,
	"update_company":           `{"id":"{company}","name":"Mallory","expected_version":1}`,
	"delete_company":           `{"id":"{company}","expected_version":1}`,
	"list_companies":           `{}`,
	"create_deal":              `{"title":"x","primary_contact_id":"{contact}"}`,
	"get_deal":                 `{"id":"{deal}"}`,
	"update_deal":              `{"id":"{deal}","title":"Mallory","expected_version":1}`,
	"move_deal_stage":          `{"id":"{deal}","stage":"won","expected_version":1}`,
	"delete_deal":              `{"id":"{deal}","expected_version":1}`,
	"list_deals":               `{}`,
	"list_pipelines":           `{}`,
	"create_pipeline":          `{"key":"mallory","label":"Mallory"}`,
	"get_pipeline":             `{"pipeline":"{pipeline}"}`,
	"update_pipeline":          `{"pipeline":"{pipeline}","label":"Mallory","is_default":true}`,
	"delete_pipeline":          `{"pipeline":"{pipeline}"}`,
	"list_pipeline_stages":     `{"pipeline":"{pipeline}"}`,
	"create_pipeline_stage":    `{"pipeline":"{pipeline}","key":"mallory","label":"Mallory"}`,
	"update_pipeline_stage":    `{"pipeline":"{pipeline}","stage":"{stage}","label":"Mallory"}`,
	"delete_pipeline_stage":    `{"pipeline":"{pipeline}","stage":"{stage}"}`,
	"log_activity":             `{"type":"note","deal_id":"{deal}"}`,
	"get_activity":             `{"id":"{activity}"}`,
	"update_activity":          `{"id":"{activity}","subject":"Mallory","expected_version":1}`,
	"delete_activity":          `{"id":"{activity}","expected_version":1}`,
	"list_activities":          `{}`,
	"create_association":       `{"from_type":"contact","from_id":"{contact}","to_type":"deal","to_id":"{deal}"}`,
	"list_associations":        `{}`,
	"delete_association":       `{"id":"{association}"}`,
	"list_custom_fields":       `{}`,
	"create_custom_field":      `{"object_type":"contact","key":"iso_plan","label":"Mallory","type":"text"}`,
	"delete_custom_field":      `{"id":"{field}"}`,
	"get_schema":               `{}`,
	"search":                   `{"q":"isolation"}`,
	"chatgpt_search":           `{"query":"isolation"}`,
	"chatgpt_fetch":            `{"id":"{contact}"}`,
	"list_events":              `{}`,
	"get_event":                `{"id":"{event}"}`,
	"undo_change":              `{"id":"{event}"}`,
	"undo_request":             `{"request_id":"{request}"}`,
	"find_duplicates":          `{"object_type":"contact"}`,
	"preview_change":           `{"tool":"update_contact","arguments":{"id":"{contact}","first_name":"Mallory"}}`,
	"merge_contacts":           `{"into":"{contact}","from":["con_aaaaaaaaaaaaaaaaaaaaaaaaaa"]}`,
	"merge_companies":          `{"into":"{company}","from":["cmp_aaaaaaaaaaaaaaaaaaaaaaaaaa"]}`,
	"get_usage":                `{}`,
	"list_request_logs":        `{}`,
	"list_api_keys":            `{}`,
	"create_api_key":           `{}`,
	"revoke_api_key":           `{"id":"{apikey}"}`,
	"list_oauth_grants":        `{}`,
	"revoke_oauth_grant":       `{"id":"{grant}"}`,
	"create_webhook":           `{"url":"https://mallory.example.com/hook","events":["*"]}`,
	"list_webhooks":            `{}`,
	"get_webhook":              `{"id":"{webhook}"}`,
	"update_webhook":           `{"id":"{webhook}","description":"Mallory","enabled":false}`,
	"delete_webhook":           `{"id":"{webhook}"}`,
	"rotate_webhook_secret":    `{"id":"{webhook}"}`,
	"list_webhook_deliveries":  `{"id":"{webhook}"}`,
	"get_webhook_delivery":     `{"id":"{webhook}","delivery_id":"{delivery}"}`,
	"replay_webhook_delivery":  `{"id":"{webhook}","delivery_id":"{delivery}"}`,
	"get_email_integration":    `{}`,
	"set_email_integration":    `{"api_key":"re_Mallory0123456789","from_email":"mallory@example.com"}`,
	"delete_email_integration": `{}`,
	"send_email":               `{"to":["iso@x.com"],"subject":"Mallory","text":"x","from":"mallory@example.com"}`,
	"list_emails":              `{}`,
	"get_email":                `{"id":"{email}"}`,
	"list_email_domains":       `{}`,
	"add_email_domain":         `{"name":"mallory.example.com"}`,
	"get_email_domain":         `{"id":"4dd369bc-aa82-4ff3-97de-514ae3000ee0"}`,
	"verify_email_domain":      `{"id":"4dd369bc-aa82-4ff3-97de-514ae3000ee0"}`,
	"create_automation":        `{"name":"Mallory","trigger_event":"*","actions":[{"type":"create_activity","activity_type":"note"}]}`,
	"list_automations":         `{}`,
	"get_automation":           `{"id":"{automation}"}`,
	"update_automation":        `{"id":"{automation}","enabled":false}`,
	"delete_automation":        `{"id":"{automation}"}`,
	"list_automation_runs":     `{"id":"{automation}"}`,
	"create_sandbox":           `{"name":"Mallory"}`,
	"list_sandboxes":           `{}`,
	"get_sandbox":              `{"id":"{sandbox}"}`,
	"delete_sandbox":           `{"id":"{sandbox}"}`,
}

// outsideIDs are the tools whose id names something outside Relm's tenant data (a domain
// of the caller's own Resend account): any refusal will do, there is nothing of another
// tenant to find.
var outsideIDs = map[string]bool{"get_email_domain": true, "verify_email_domain": true}

var recordID = regexp.MustCompile(`(con|cmp|deal|act|asc|evt|fld|key|oag|whep|whdl|eml|auto|arun|sbx)_[a-z2-7]{26}`)

// TestEveryCapabilityIsIsolated walks every MCP tool and every REST route with another
// workspace's key, the other mode's key and a key of its own sandbox, aimed at one
// workspace's records: reads and writes by id answer not_found, references answer
// invalid_reference, lists and search show none of them, and the records are unchanged.
func TestEveryCapabilityIsIsolated(t *testing.T) {
	t.Parallel()
	e := setup(t)
	// Both workspaces are on Team, so create_association gets as far as checking its ends.
	e.setPlan("acme", "team")
	e.setPlan("globex", "team")
	_, sandbox := e.sandbox(e.Live, nil) // before the records and the schema below: it has none of them
	walkIsolation(t, e, tenant{key: e.Live, workspace: e.workspaceID("acme"), mode: "live"}, e.Other, e.Test, sandbox)
}

// TestSandboxIsIsolated is the same walk aimed at a sandbox's records, with the keys of the
// workspace that made it (both modes), another workspace's and another sandbox's.
func TestSandboxIsIsolated(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.setPlan("acme", "team")
	e.setPlan("globex", "team")
	id, key := e.sandbox(e.Live, nil)
	_, sibling := e.sandbox(e.Live, nil)
	walkIsolation(t, e, tenant{key: key, workspace: id, mode: "test"}, e.Live, e.Test, e.Other, sibling)
}

// tenant is a workspace and mode that owns records, with one of its keys.
type tenant struct {
	key, workspace string
	mode           auth.Mode
}

// walkIsolation gives owner one record of every kind, then calls every capability on both
// surfaces with each of the attackers' keys, aimed at those records.
func walkIsolation(t *testing.T, e *env, owner tenant, attackers ...string) {
	// A webhook endpoint first, so that the records below give it deliveries (no engine runs
	// here: they stay pending).
	webhook := e.call("POST", "/v1/webhooks", owner.key, map[string]any{"url": "https://isolation.example.com/hook", "events": []string{"*"}}).must(t, http.StatusCreated).Body["id"].(string)
	// An automation too, whose runs the records below start (none works them here).
	automation := e.call("POST", "/v1/automations", owner.key, map[string]any{"name": "Isolation", "trigger_event": "*",
		"actions": []any{map[string]any{"type": "create_activity", "activity_type": "note"}}}).must(t, http.StatusCreated).Body["id"].(string)
	company := e.create("companies", owner.key, map[string]any{"name": "Isolation Inc", "domain": "isolation.example"})
	contact := e.create("contacts", owner.key, map[string]any{"first_name": "Isolation", "email": "isolation@example.com", "company_id": company})
	deal := e.create("deals", owner.key, map[string]any{"title": "Isolation deal", "company_id": company})
	activity := e.create("activities", owner.key, map[string]any{"type": "note", "subject": "Isolation note", "deal_id": deal})
	created := e.lastEvent(owner.key, "activity.created")
	event, request := created["id"].(string), created["request_id"].(string)
	association := e.create("associations", owner.key, map[string]any{"from_type": "contact", "from_id": contact, "to_type": "deal", "to_id": deal})
	keys, err := e.Admin.ListAPIKeys(t.Context(), owner.workspace, owner.mode)
	if err != nil || len(keys) == 0 {
		t.Fatalf("keys: %v %v", keys, err)
	}
	deliveries := e.call("GET", "/v1/webhooks/"+webhook+"/deliveries", owner.key, nil).must(t, 200).Body["data"].([]any)
	// An email of the owner's ({email}), as a send through its Resend account leaves it.
	email := "eml_isolationisolationisolatio"
	e.exec(`INSERT INTO emails (id, workspace_id, mode, from_email, to_emails, subject, body_text, status, resend_idempotency_key)
		VALUES ($1, $2, $3, 'ada@example.com', '{bob@example.com}', 'Isolation', 'x', 'sent', 'k')`, email, owner.workspace, owner.mode)
	// A sandbox of the owner's ({sandbox}); a sandbox owner has none, so a well-formed id stands in.
	sandbox := "sbx_" + strings.Repeat("a", 26)
	if owner.mode == "live" {
		sandbox, _ = e.sandbox(owner.key, nil)
	}
	// An OAuth grant of the owner's ({grant}): a connector a member allowed (docs/oauth.md).
	grant := store.NewID("oag_")
	e.exec(`INSERT INTO users (id, email) VALUES ('usr_isolation', 'isolation@example.com') ON CONFLICT DO NOTHING;
		INSERT INTO oauth_clients (id, auth_method, name, redirect_uris) VALUES ('rc_isolation', 'none', 'Isolation', '{https://claude.ai/api/mcp/auth_callback}') ON CONFLICT DO NOTHING`)
	e.exec(`INSERT INTO api_keys (id, workspace_id, mode, secret_hash, prefix, last4, kind) VALUES ($1, $2, $3, $4, 'oauth', '', 'oauth')`,
		grant, owner.workspace, owner.mode, auth.HashKey(grant))
	e.exec(`INSERT INTO oauth_grants (workspace_id, mode, key_id, user_id, client_id, client_name, resource)
		VALUES ($1, $2, $3, 'usr_isolation', 'rc_isolation', 'Isolation', 'http://127.0.0.1/mcp')`, owner.workspace, owner.mode, grant)
	ownIDs := map[string]string{"{grant}": grant, "{contact}": contact, "{company}": company, "{deal}": deal, "{activity}": activity, "{event}": event, "{email}": email, "{automation}": automation,
		"{apikey}": keys[0].ID, "{association}": association, "{webhook}": webhook, "{delivery}": deliveries[0].(map[string]any)["id"].(string), "{sandbox}": sandbox, "{request}": request}
	// Pipelines are keyed, not id'd: the owner's own pipeline, with a key no other tenant has,
	// stands for them ({pipeline}, {stage}); naming it is like naming an id.
	e.call("POST", "/v1/pipelines", owner.key, map[string]any{"key": "iso_pipeline", "label": "Isolation",
		"stages": []any{map[string]any{"key": "iso_stage", "label": "Isolation"}}}).must(t, http.StatusCreated)
	ownIDs["{pipeline}"], ownIDs["{stage}"] = "iso_pipeline", "iso_stage"
	// A custom field of the owner's ({field}); other tenants may define the same key.
	ownIDs["{field}"] = e.defineField(owner.key, map[string]any{"object_type": "contact", "key": "iso_plan", "label": "Isolation", "type": "select", "options": []string{"pro"}})
	snapshot := func() string {
		var b strings.Builder
		for _, p := range []string{"/v1/contacts/" + contact, "/v1/companies/" + company, "/v1/deals/" + deal, "/v1/activities/" + activity, "/v1/events/" + event, "/v1/schema/fields", "/v1/pipelines", "/v1/associations?from_id=" + contact,
			"/v1/webhooks/" + webhook, "/v1/webhooks/" + webhook + "/deliveries", "/v1/emails/" + email, "/v1/integrations/email",
			"/v1/automations/" + automation, "/v1/automations/" + automation + "/runs", "/v1/sandboxes", "/v1/oauth_grants"} {
			b.Write(e.call("GET", p, owner.key, nil).must(t, 200).Raw)
		}
		return b.String()
	}
	before := snapshot()

	for _, key := range attackers {
		sessions := e.entrySessions(key, "2025-06-18")
		cs, _ := sessions.of(e.Srv.Registry.Entries()[0])
		for _, entry := range e.Srv.Registry.Entries() {
			sample, ok := isolationSamples[entry.Name]
			if !ok {
				t.Errorf("%s has no isolation sample: add one to isolationSamples", entry.Name)
				continue
			}
			for k, v := range ownIDs {
				sample = strings.ReplaceAll(sample, k, v)
			}
			var args map[string]any
			if err := json.Unmarshal([]byte(sample), &args); err != nil {
				t.Fatal(err)
			}
			entryCS, name := sessions.of(entry)
			mcpRes := tool(t, entryCS, name, args)
			mcpBody := []byte(text(t, mcpRes))
			r := e.restCall(entry.REST.Method, entry.REST.Path, key, args)
			for surface, body := range map[string][]byte{"MCP": mcpBody, "REST": r.Raw} {
				if outsideIDs[entry.Name] {
					if !strings.Contains(string(body), `"error"`) {
						t.Errorf("%s via %s: %s", entry.Name, surface, body)
					}
					continue
				}
				checkIsolated(t, entry.Name+" via "+surface, args, body, ownIDs)
			}
		}
		checkMCPExtrasIsolated(t, cs, ownIDs)
	}
	if after := snapshot(); after != before {
		t.Fatalf("another tenant changed workspace A's records:\nbefore %s\nafter  %s", before, after)
	}
}

// checkMCPExtrasIsolated asserts that the MCP session cs of another tenant reads none of
// the owner's records as resources, lists none, and completes none of its ids or keys.
func checkMCPExtrasIsolated(t *testing.T, cs *mcp.ClientSession, own map[string]string) {
	t.Helper()
	for kind, id := range map[string]string{"contacts": own["{contact}"], "companies": own["{company}"], "deals": own["{deal}"], "activities": own["{activity}"]} {
		if res, err := cs.ReadResource(t.Context(), &mcp.ReadResourceParams{URI: "relm://" + kind + "/" + id}); err == nil {
			t.Errorf("resources/read of another tenant's %s: %+v", kind, res)
		}
	}
	listed, err := cs.ListResources(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	seen := []string{toJSON(listed)}
	for _, c := range []struct{ ref, arg, value string }{
		{"log_interaction", "contact", "Isolation"}, {"log_interaction", "contact", "con_"},
		{"pipeline_review", "pipeline", "iso"}, {"follow_up_stale_deals", "stage", "iso"},
		{"relm://deals/{id}", "id", "Isolation"}, {"relm://companies/{id}", "id", "cmp_"},
	} {
		ref := &mcp.CompleteReference{Type: "ref/prompt", Name: c.ref}
		if strings.HasPrefix(c.ref, "relm://") {
			ref = &mcp.CompleteReference{Type: "ref/resource", URI: c.ref}
		}
		seen = append(seen, strings.Join(complete(t, cs, ref, c.arg, c.value, nil), ","))
	}
	for _, got := range seen {
		for name, id := range own {
			if strings.Contains(got, id) {
				t.Errorf("another tenant's MCP session lists or completes %s (%s): %s", name, id, got)
			}
		}
	}
}

// checkIsolated asserts the outcome of one call aimed at another tenant's records.
func checkIsolated(t *testing.T, what string, args map[string]any, body []byte, own map[string]string) {
	t.Helper()
	var parsed map[string]any
	if err := json.Unmarshal(body, &parsed); err != nil {
		t.Fatalf("%s: %s", what, body)
	}
	code := ""
	if e, ok := parsed["error"].(map[string]any); ok {
		code, _ = e["code"].(string)
	}
	_, byID := args["id"]
	if _, byInto := args["into"]; byInto {
		byID = true // a merge names the record it changes as into
	}
	if inner, ok := args["arguments"].(map[string]any); ok && inner["id"] != nil {
		byID = true // a preview of a change by id
	}
	if _, byKey := args["pipeline"]; byKey {
		byID = true // a pipeline key is how pipelines and stages are named
	}
	refs := false
	for k, v := range args {
		if k != "id" && recordID.MatchString(strings.Join(strings.Fields(toJSON(v)), "")) {
			refs = true
		}
	}
	switch {
	case byID && code != "not_found":
		t.Errorf("%s: want not_found, got %s", what, body)
	case !byID && refs && code != "invalid_reference":
		t.Errorf("%s: want invalid_reference, got %s", what, body)
	case !byID && !refs:
		for _, id := range own {
			if strings.Contains(string(body), id) {
				t.Errorf("%s leaks %s: %s", what, id, body)
			}
		}
	}
}

// restCall calls a REST route with args the way a client would: path parameters in the
// path, the rest in the query (GET, DELETE) or the JSON body.
func (e *env) restCall(method, path, key string, args map[string]any) resp {
	e.t.Helper()
	rest := map[string]any{}
	for k, v := range args {
		if strings.Contains(path, "{"+k+"}") {
			path = strings.ReplaceAll(path, "{"+k+"}", url.PathEscape(v.(string)))
		} else {
			rest[k] = v
		}
	}
	if method == http.MethodGet || method == http.MethodDelete {
		q := url.Values{}
		for k, v := range rest {
			q.Set(k, strings.Trim(toJSON(v), `"`))
		}
		if len(q) > 0 {
			path += "?" + q.Encode()
		}
		return e.call(method, path, key, nil)
	}
	return e.call(method, path, key, rest)
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
