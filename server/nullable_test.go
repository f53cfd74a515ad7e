package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

// nullableFactories make, for each update capability with nullable fields, a fresh record
// with every such field set (and every link an activity may lose but one), returning its
// REST path and the MCP arguments naming it. An update capability with a nullable field and
// no factory fails TestEveryNullableFieldAcceptsNull.
var nullableFactories = map[string]func(e *env) (path string, args map[string]any){
	"update_contact": func(e *env) (string, map[string]any) {
		company := e.create("companies", e.Live, map[string]any{"name": "Null Co"})
		id := e.create("contacts", e.Live, map[string]any{"email": fmt.Sprintf("null%d@example.com", nullSeq.Add(1)), "first_name": "Nul",
			"last_name": "Able", "phone": "+1 555 0100", "company_id": company, "metadata": map[string]any{"k": "v"}})
		return "/v1/contacts/" + id, map[string]any{"id": id}
	},
	"update_company": func(e *env) (string, map[string]any) {
		id := e.create("companies", e.Live, map[string]any{"name": "Null Co", "domain": "null.example.com", "metadata": map[string]any{"k": "v"}})
		return "/v1/companies/" + id, map[string]any{"id": id}
	},
	"update_deal": func(e *env) (string, map[string]any) {
		company := e.create("companies", e.Live, map[string]any{"name": "Null Co"})
		contact := e.create("contacts", e.Live, map[string]any{"first_name": "Nul"})
		id := e.create("deals", e.Live, map[string]any{"title": "Null deal", "value_cents": 100, "close_date": "2027-01-31",
			"company_id": company, "primary_contact_id": contact, "metadata": map[string]any{"k": "v"}})
		return "/v1/deals/" + id, map[string]any{"id": id}
	},
	"update_activity": func(e *env) (string, map[string]any) {
		company := e.create("companies", e.Live, map[string]any{"name": "Null Co"})
		contact := e.create("contacts", e.Live, map[string]any{"first_name": "Nul"})
		deal := e.create("deals", e.Live, map[string]any{"title": "Null deal"})
		id := e.create("activities", e.Live, map[string]any{"type": "call", "subject": "Hi", "body": "Text", "contact_id": contact,
			"deal_id": deal, "company_id": company, "metadata": map[string]any{"k": "v"}})
		return "/v1/activities/" + id, map[string]any{"id": id}
	},
	"update_webhook": func(e *env) (string, map[string]any) {
		id := e.create("webhooks", e.Live, map[string]any{"url": "https://null.example.com/h", "events": []string{"*"}, "description": "Mine"})
		return "/v1/webhooks/" + id, map[string]any{"id": id}
	},
}

// nullSeq keeps the factories' emails unique.
var nullSeq atomic.Int64

// TestEveryNullableFieldAcceptsNull walks the input schema of every update capability:
// each field whose schema admits null accepts null, over REST PATCH and over MCP, on a
// fresh record, and the field is then null (metadata: empty). A field that must not be
// null is published without null, so schemas tell the truth.
func TestEveryNullableFieldAcceptsNull(t *testing.T) {
	t.Parallel()
	e := setup(t)
	cs := e.mcpSession(e.Live, "")
	checked := 0
	for _, entry := range e.Srv.Registry.Entries() {
		if !strings.HasPrefix(entry.Name, "update_") {
			continue
		}
		props, _ := entry.InputSchema["properties"].(map[string]any)
		var nullable []string
		for name, p := range props {
			typ, _ := p.(map[string]any)["type"].([]any)
			if slices.Contains(typ, any("null")) {
				nullable = append(nullable, name)
			}
		}
		slices.Sort(nullable)
		if len(nullable) == 0 {
			continue
		}
		fresh, ok := nullableFactories[entry.Name]
		if !ok {
			t.Errorf("%s has nullable fields %v but no factory in nullableFactories", entry.Name, nullable)
			continue
		}
		for _, field := range nullable {
			checked++
			path, _ := fresh(e)
			r := e.call(entry.REST.Method, path, e.Live, map[string]any{field: nil})
			if r.Status != http.StatusOK {
				t.Errorf("REST %s %s {%q: null}: %d %s", entry.REST.Method, path, field, r.Status, r.Raw)
			} else {
				checkCleared(t, "REST "+entry.Name, field, r.Body)
			}
			_, args := fresh(e)
			args[field] = nil
			res := tool(t, cs, entry.Name, args)
			if res.IsError {
				t.Errorf("MCP %s %v: %s", entry.Name, args, text(t, res))
			} else {
				checkCleared(t, "MCP "+entry.Name, field, decode(t, text(t, res)))
			}
		}
	}
	if checked < 20 {
		t.Fatalf("only %d nullable fields checked", checked)
	}
}

// checkCleared asserts that field is null in the updated record (metadata: empty).
func checkCleared(t *testing.T, what, field string, rec map[string]any) {
	t.Helper()
	v, ok := rec[field]
	if field == "metadata" {
		if m, _ := v.(map[string]any); m == nil || len(m) != 0 {
			t.Errorf("%s: metadata: null left %v", what, v)
		}
		return
	}
	if !ok || v != nil {
		raw, _ := json.Marshal(rec)
		t.Errorf("%s: %s: null left %s", what, field, raw)
	}
}
