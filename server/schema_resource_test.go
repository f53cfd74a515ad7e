package server_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/relmcrm/relm/internal/testkit"
)

func TestSchemaResource(t *testing.T) {
	t.Parallel()
	e := setup(t)
	plan := e.defineField(e.Live, map[string]any{"object_type": "contact", "key": "plan", "label": "Plan", "type": "select",
		"options": []string{"free", "pro"}, "description": "Billing plan"})
	renewal := e.defineField(e.Live, map[string]any{"object_type": "deal", "key": "renewal", "label": "Renewal", "type": "date"})
	// A second pipeline, written straight to the tables (managing pipelines is another
	// capability's job), with stages inserted out of order.
	conn := testkit.Conn(t, e.DB)
	ws := e.workspaceID("acme")
	for _, sql := range []string{
		`INSERT INTO pipelines (workspace_id, mode, key, label, position) VALUES ($1, 'live', 'renewals', 'Renewals', 1)`,
		`INSERT INTO pipeline_stages (workspace_id, mode, pipeline, key, label, position, is_won)
		 VALUES ($1, 'live', 'renewals', 'renewed', 'Renewed', 1, true), ($1, 'live', 'renewals', 'due', 'Due', 0, false)`,
	} {
		if _, err := conn.Exec(context.Background(), sql, ws); err != nil {
			t.Fatal(err)
		}
	}

	rest := e.call("GET", "/v1/schema", e.Live, nil).must(t, http.StatusOK)
	cs := e.mcpSession(e.Live, "2025-06-18")
	list, err := cs.ListResources(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range list.Resources {
		found = found || (r.URI == "relm://schema" && r.MIMEType == "application/json" && r.Description != "")
	}
	if !found {
		t.Fatalf("relm://schema is not listed: %+v", list.Resources)
	}
	res, err := cs.ReadResource(t.Context(), &mcp.ReadResourceParams{URI: "relm://schema"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Contents) != 1 || res.CacheScope != "private" || res.Contents[0].MIMEType != "application/json" {
		t.Fatalf("read: %+v", res)
	}
	if !jsonEqual(t, []byte(res.Contents[0].Text), rest.Raw) {
		t.Fatalf("the resource %s differs from GET /v1/schema %s", res.Contents[0].Text, rest.Raw)
	}
	if m := text(t, tool(t, cs, "get_schema", map[string]any{})); !jsonEqual(t, []byte(m), rest.Raw) {
		t.Fatalf("get_schema %s differs from GET /v1/schema", m)
	}

	doc := decode(t, res.Contents[0].Text)
	if doc["object"] != "schema" || doc["mode"] != "live" {
		t.Fatalf("schema: %v", doc)
	}
	objects := map[string]map[string]any{}
	var order []string
	for _, o := range doc["objects"].([]any) {
		obj := o.(map[string]any)
		objects[obj["object_type"].(string)] = obj
		order = append(order, obj["object_type"].(string))
	}
	if !equal(order, []string{"contact", "company", "deal", "activity"}) || objects["contact"]["id_prefix"] != "con_" {
		t.Fatalf("objects: %v", order)
	}
	field := func(objectType, name string) map[string]any {
		for _, f := range objects[objectType]["fields"].([]any) {
			if f.(map[string]any)["name"] == name {
				return f.(map[string]any)
			}
		}
		t.Fatalf("%s has no field %s", objectType, name)
		return nil
	}
	for _, c := range []struct {
		objectType, name, typ string
		nullable              bool
		ops                   []string
	}{
		{"contact", "email", "text", true, []string{"eq", "neq", "ilike", "in"}},
		{"contact", "company_id", "id", true, []string{"eq", "neq", "in"}},
		{"contact", "metadata", "object", false, nil},
		{"deal", "value_cents", "integer", true, []string{"eq", "neq", "gt", "gte", "lt", "lte", "in"}},
		{"deal", "close_date", "date", true, []string{"eq", "neq", "gt", "gte", "lt", "lte", "in"}},
		{"deal", "created_at", "timestamp", false, []string{"eq", "neq", "gt", "gte", "lt", "lte", "in"}},
		{"activity", "type", "enum", false, []string{"eq", "neq", "in"}},
		{"activity", "body", "text", true, nil},
	} {
		f := field(c.objectType, c.name)
		if f["type"] != c.typ || f["nullable"] != c.nullable || !equal(strs(f["filter_ops"]), c.ops) {
			t.Errorf("%s.%s: %v", c.objectType, c.name, f)
		}
	}
	if vals := strs(field("activity", "type")["values"]); !equal(vals, []string{"note", "email", "call", "meeting", "task"}) {
		t.Errorf("activity types: %v", vals)
	}
	custom := objects["contact"]["custom_fields"].([]any)
	if len(custom) != 1 || custom[0].(map[string]any)["id"] != plan || !equal(strs(custom[0].(map[string]any)["options"]), []string{"free", "pro"}) ||
		custom[0].(map[string]any)["description"] != "Billing plan" {
		t.Fatalf("contact custom fields: %v", custom)
	}
	if dc := objects["deal"]["custom_fields"].([]any); len(dc) != 1 || dc[0].(map[string]any)["id"] != renewal {
		t.Fatalf("deal custom fields: %v", dc)
	}
	if cc := objects["company"]["custom_fields"].([]any); len(cc) != 0 {
		t.Fatalf("company custom fields: %v", cc)
	}

	var pipelines []string
	for _, p := range doc["pipelines"].([]any) {
		pm := p.(map[string]any)
		var stages []string
		for _, s := range pm["stages"].([]any) {
			stages = append(stages, s.(map[string]any)["key"].(string))
		}
		pipelines = append(pipelines, pm["key"].(string))
		want := map[string][]string{"sales": {"lead", "qualified", "proposal", "won", "lost"}, "renewals": {"due", "renewed"}}[pm["key"].(string)]
		if !equal(stages, want) {
			t.Errorf("%s stages %v, want %v", pm["key"], stages, want)
		}
		if pm["key"] == "sales" && pm["is_default"] != true {
			t.Errorf("sales is the default: %v", pm)
		}
	}
	if !equal(pipelines, []string{"sales", "renewals"}) {
		t.Fatalf("pipelines %v", pipelines)
	}

	// Other tenants read their own schema: none of workspace A's custom fields.
	for _, key := range []string{e.Other, e.Test} {
		res, err := e.mcpSession(key, "2025-06-18").ReadResource(t.Context(), &mcp.ReadResourceParams{URI: "relm://schema"})
		if err != nil {
			t.Fatal(err)
		}
		other := decode(t, res.Contents[0].Text)
		for _, o := range other["objects"].([]any) {
			if n := len(o.(map[string]any)["custom_fields"].([]any)); n != 0 {
				t.Fatalf("another tenant sees %d custom fields", n)
			}
		}
		if n := len(other["pipelines"].([]any)); n != 1 {
			t.Fatalf("another tenant sees %d pipelines", n)
		}
	}
}
