package server_test

import (
	"encoding/json"
	"fmt"
	"github.com/relmcrm/relm/auth"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/relmcrm/relm/email"
	"github.com/relmcrm/relm/email/resendtest"
	"github.com/relmcrm/relm/secrets"
	"github.com/relmcrm/relm/server"
	"github.com/relmcrm/relm/tools"
)

// pagingSamples gives every list arguments under which it holds at least two items once
// TestEveryListPages has made its records; {webhook} and {automation} stand for ids. A list
// without a sample fails the test, so none ships without paging.
var pagingSamples = map[string]string{
	"list_contacts":           `{}`,
	"list_companies":          `{}`,
	"list_deals":              `{}`,
	"list_pipelines":          `{}`,
	"list_pipeline_stages":    `{"pipeline":"sales"}`,
	"list_activities":         `{}`,
	"list_custom_fields":      `{}`,
	"list_associations":       `{}`,
	"search":                  `{"q":"paging"}`,
	"list_events":             `{}`,
	"list_webhooks":           `{}`,
	"list_webhook_deliveries": `{"id":"{webhook}"}`,
	"list_emails":             `{}`,
	"list_automations":        `{}`,
	"list_automation_runs":    `{"id":"{automation}"}`,
	"list_api_keys":           `{}`,
	"list_sandboxes":          `{}`,
	"list_request_logs":       `{"filter":{"tool":"create_company"}}`,
	"list_email_domains":      `{}`,
	"list_oauth_grants":       `{}`,
	"find_duplicates":         `{"object_type":"contact"}`,
}

// TestEveryListPages walks every list capability (every output that is an object "list")
// on both surfaces, like a generic paginating client: limit=1, then next_cursor until
// has_more is false. Each page holds one item, and the pages together are the whole list,
// in order, without repeats.
func TestEveryListPages(t *testing.T) {
	t.Parallel()
	fake := resendtest.NewServer(t)
	fake.AddKey(fullKey, true)
	e := setupWith(t, func(c *server.Config) {
		box, err := secrets.NewBox(c.SecretKey)
		if err != nil {
			t.Fatal(err)
		}
		c.Email = &tools.EmailServices{Box: box, Resend: email.NewClient(fake.URL, "relm-test", nil)}
	})
	if err := e.Admin.SetWorkspacePlan(t.Context(), "acme", "team"); err != nil {
		t.Fatal(err)
	}
	webhook := e.create("webhooks", e.Live, map[string]any{"url": "https://paging.example.com/hook", "events": []string{"*"}})
	e.create("webhooks", e.Live, map[string]any{"url": "https://paging.example.com/other", "events": []string{"deal.created"}})
	auto := map[string]any{"name": "Paging", "trigger_event": "*", "actions": []any{map[string]any{"type": "create_activity", "activity_type": "note"}}}
	automation := e.create("automations", e.Live, auto)
	e.create("automations", e.Live, auto)
	var contacts []string
	for i := range 2 {
		company := e.create("companies", e.Live, map[string]any{"name": fmt.Sprintf("Paging %d", i)})
		contacts = append(contacts, e.create("contacts", e.Live, map[string]any{"first_name": "Paging", "company_id": company}))
		deal := e.create("deals", e.Live, map[string]any{"title": fmt.Sprintf("Paging deal %d", i)})
		e.create("activities", e.Live, map[string]any{"type": "note", "subject": "Paging", "deal_id": deal})
		e.create("associations", e.Live, map[string]any{"from_type": "contact", "from_id": contacts[i], "to_type": "deal", "to_id": deal})
		e.defineField(e.Live, map[string]any{"object_type": "deal", "key": fmt.Sprintf("paging_%d", i), "label": "Paging", "type": "text"})
		e.exec(`INSERT INTO emails (id, workspace_id, mode, from_email, to_emails, subject, body_text, status, resend_idempotency_key)
			VALUES ($1, $2, 'live', 'ada@example.com', '{bob@example.com}', 'Paging', 'x', 'sent', $1)`,
			fmt.Sprintf("eml_paging%020d", i), e.workspaceID("acme"))
	}
	e.create("contacts", e.Live, map[string]any{"first_name": "Paging"}) // a third namesake: three duplicate pairs
	e.call("POST", "/v1/pipelines", e.Live, map[string]any{"key": "paging", "label": "Paging"}).must(t, http.StatusCreated)
	e.create("api_keys", e.Live, map[string]any{})
	e.oauthGrants("acme", auth.Live, 2)
	e.sandbox(e.Live, nil)
	e.sandbox(e.Live, nil)
	e.call("PUT", "/v1/integrations/email", e.Live, map[string]any{"api_key": fullKey, "from_email": "ada@mail.example.com"}).must(t, 200)
	for _, d := range []string{"one.example.com", "two.example.com"} {
		e.call("POST", "/v1/email/domains", e.Live, map[string]any{"name": d}).must(t, http.StatusCreated)
	}

	cs := e.mcpSession(e.Live, "")
	for _, entry := range e.Srv.Registry.Entries() {
		obj, _ := entry.OutputSchema["properties"].(map[string]any)["object"].(map[string]any)
		if fmt.Sprint(obj["enum"]) != "[list]" {
			continue
		}
		sample, ok := pagingSamples[entry.Name]
		if !ok {
			t.Errorf("%s is a list without a paging sample: add one to pagingSamples", entry.Name)
			continue
		}
		sample = strings.NewReplacer("{webhook}", webhook, "{automation}", automation).Replace(sample)
		var args map[string]any
		if err := json.Unmarshal([]byte(sample), &args); err != nil {
			t.Fatal(err)
		}
		t.Run(entry.Name, func(t *testing.T) {
			e := e.with(t)
			restPage := func(a map[string]any) map[string]any {
				return e.restCall(entry.REST.Method, entry.REST.Path, e.Live, shorthandFilter(a)).must(t, 200).Body
			}
			all := itemKeys(t, restPage(withArgs(args, "limit", 200)))
			if len(all) < 2 {
				t.Fatalf("the list holds %d items; the test needs at least 2", len(all))
			}
			for surface, page := range map[string]func(map[string]any) map[string]any{
				"REST": restPage,
				"MCP":  func(a map[string]any) map[string]any { return mcpPage(t, cs, entry.Name, a) },
			} {
				if got := walkPages(t, page, args); !slices.Equal(got, all) {
					t.Errorf("%s: paging with limit=1 gave %v, the whole list is %v", surface, got, all)
				}
			}
		})
	}
}

// walkPages follows next_cursor from the first page with limit 1, as a generic client
// does, and returns the keys of every item seen.
func walkPages(t *testing.T, page func(map[string]any) map[string]any, args map[string]any) []string {
	t.Helper()
	var keys []string
	a := withArgs(args, "limit", 1)
	for range 1000 {
		body := page(a)
		k := itemKeys(t, body)
		if len(k) != 1 {
			t.Fatalf("a page of limit 1 holds %d items: %v", len(k), body)
		}
		keys = append(keys, k...)
		next, _ := body["next_cursor"].(string)
		if body["has_more"] != (next != "") {
			t.Fatalf("has_more and next_cursor disagree: %v", body)
		}
		if next == "" {
			return keys
		}
		a = withArgs(a, "cursor", next)
	}
	t.Fatal("the pages never end")
	return nil
}

// itemKeys lists the id (or, for pipelines and stages, the key) of every item of a page.
func itemKeys(t *testing.T, body map[string]any) []string {
	t.Helper()
	data, ok := body["data"].([]any)
	if !ok {
		t.Fatalf("not a list: %v", body)
	}
	var keys []string
	for _, d := range data {
		m := d.(map[string]any)
		k, _ := m["id"].(string)
		if k == "" {
			k, _ = m["key"].(string)
		}
		if ids, ok := m["ids"].([]any); ok && k == "" { // a duplicate pair
			k = fmt.Sprint(ids...)
		}
		if slices.Contains(keys, k) || k == "" {
			t.Fatalf("item without a key, or twice: %v", body)
		}
		keys = append(keys, k)
	}
	return keys
}

// shorthandFilter moves a filter's equalities to query parameters of their own (field=value).
func shorthandFilter(args map[string]any) map[string]any {
	f, _ := args["filter"].(map[string]any)
	out := withArgs(args, "filter", nil)
	delete(out, "filter")
	for k, v := range f {
		out[k] = v
	}
	return out
}

// withArgs is args with name set to v.
func withArgs(args map[string]any, name string, v any) map[string]any {
	out := map[string]any{name: v}
	for k, x := range args {
		if k != name {
			out[k] = x
		}
	}
	return out
}

// mcpPage calls a list tool and returns its structured result.
func mcpPage(t *testing.T, cs *mcp.ClientSession, name string, args map[string]any) map[string]any {
	t.Helper()
	res := tool(t, cs, name, args)
	if res.IsError {
		t.Fatalf("%s %v: %s", name, args, text(t, res))
	}
	return decode(t, text(t, res))
}

// oauthGrants gives workspace's mode n OAuth grants, written as the table owner (making
// them through the OAuth flow is dashboard/oauth_test.go's work).
func (e *env) oauthGrants(workspace string, mode auth.Mode, n int) {
	e.t.Helper()
	c := e.caller(workspace, mode)
	e.exec(`INSERT INTO users (id, email) VALUES ('usr_paging', 'paging@example.com') ON CONFLICT DO NOTHING`)
	e.exec(`INSERT INTO oauth_clients (id, auth_method, name, redirect_uris) VALUES ('rc_paging', 'none', 'Paging', '{https://example.com/cb}')
		ON CONFLICT DO NOTHING`)
	for i := range n {
		id := "oag_" + strings.Repeat("a", 25) + string(rune('b'+i))
		e.exec(`INSERT INTO api_keys (id, workspace_id, mode, secret_hash, prefix, last4, kind) VALUES ($1, $2, $3, sha256(convert_to(random()::text, 'UTF8')), 'oauth', '', 'oauth')`,
			id, c.WorkspaceID, c.Mode)
		e.exec(`INSERT INTO oauth_grants (workspace_id, mode, key_id, user_id, client_id, client_name, resource)
			VALUES ($1, $2, $3, 'usr_paging', 'rc_paging', 'Paging', 'https://example.com/mcp')`, c.WorkspaceID, c.Mode, id)
	}
}
