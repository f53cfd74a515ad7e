package server_test

import (
	"slices"
	"testing"

	"github.com/relmcrm/relm/tools"
)

// TestEveryWriteRecordsItsEvent: creates, updates and deletes of every resource record one
// event each, with the record and, for updates, the previous values of changed fields.
func TestEveryWriteRecordsItsEvent(t *testing.T) {
	t.Parallel()
	e := setup(t)
	company := e.create("companies", e.Live, map[string]any{"name": "Ev Co"})
	contact := e.create("contacts", e.Live, map[string]any{"first_name": "Eve"})
	deal := e.create("deals", e.Live, map[string]any{"title": "Ev deal", "value_cents": 100})
	act := e.create("activities", e.Live, map[string]any{"type": "task", "contact_id": contact})
	e.call("PATCH", "/v1/companies/"+company, e.Live, map[string]any{"domain": "ev.co"}).must(t, 200)
	e.call("PATCH", "/v1/contacts/"+contact, e.Live, map[string]any{"first_name": "Eva", "metadata": map[string]any{"k": "v"}}).must(t, 200)
	e.call("PATCH", "/v1/deals/"+deal, e.Live, map[string]any{"value_cents": 200}).must(t, 200)
	e.call("PATCH", "/v1/activities/"+act, e.Live, map[string]any{"subject": "Call back"}).must(t, 200)
	e.call("PATCH", "/v1/contacts/"+contact, e.Live, map[string]any{}).must(t, 200) // no change, no event
	e.call("DELETE", "/v1/activities/"+act, e.Live, nil).must(t, 200)
	e.call("DELETE", "/v1/deals/"+deal, e.Live, nil).must(t, 200)
	e.call("DELETE", "/v1/contacts/"+contact, e.Live, nil).must(t, 200)
	e.call("DELETE", "/v1/companies/"+company, e.Live, nil).must(t, 200)

	want := []string{"company.created", "contact.created", "deal.created", "activity.created",
		"company.updated", "contact.updated", "deal.updated", "activity.updated",
		"activity.deleted", "deal.deleted", "contact.deleted", "company.deleted"}
	if got := e.events(e.Live); !equal(got, want) {
		t.Fatalf("events:\n got %v\nwant %v", got, want)
	}
	ev := e.lastEvent(e.Live, "contact.updated")
	data := ev["data"].(map[string]any)
	prev := data["previous_attributes"].(map[string]any)
	if prev["first_name"] != "Eve" || len(prev["metadata"].(map[string]any)) != 0 || len(prev) != 2 ||
		data["object"].(map[string]any)["first_name"] != "Eva" || ev["mode"] != "live" {
		t.Fatalf("contact.updated: %v", ev)
	}
	if del := e.lastEvent(e.Live, "deal.deleted")["data"].(map[string]any); del["object"].(map[string]any)["id"] != deal {
		t.Fatalf("deal.deleted carries the record: %v", del)
	}
	got := e.call("GET", "/v1/events/"+ev["id"].(string), e.Live, nil).must(t, 200).Body
	if got["type"] != "contact.updated" {
		t.Fatalf("get event: %v", got)
	}
	// Filters and isolation.
	if n := len(ids(e.call("GET", "/v1/events?filter[type][ilike]=deal.%25", e.Live, nil).must(t, 200))); n != 3 {
		t.Fatalf("deal events: %d", n)
	}
	if n := len(ids(e.call("GET", "/v1/events", e.Test, nil).must(t, 200))); n != 0 {
		t.Fatalf("test mode sees %d live events", n)
	}
}

// TestUnknownEventTypesRefused: list_events, webhooks and automations check event types
// against the one list (tools.EventTypes): an unknown type is validation_failed with every
// type as valid_options and the closest as suggestion, never an empty list or a rule that
// never fires. Known types are accepted everywhere.
func TestUnknownEventTypesRefused(t *testing.T) {
	t.Parallel()
	e := setup(t)
	cs := e.mcpSession(e.Live, "")
	e.create("contacts", e.Live, map[string]any{"first_name": "Eve"})
	auto := func(trigger string) map[string]any {
		return map[string]any{"name": "x", "trigger_event": trigger, "actions": []any{map[string]any{"type": "create_activity", "activity_type": "note"}}}
	}
	for _, c := range []struct {
		name, method, path string
		body               any
		tool               string
		args               map[string]any
		param              string
	}{
		{"list_events", "GET", "/v1/events?type=contact.craeted", nil, "list_events", map[string]any{"type": "contact.craeted"}, "type"},
		{"webhook", "POST", "/v1/webhooks", map[string]any{"url": "https://ev.example.com/h", "events": []string{"contact.craeted"}},
			"create_webhook", map[string]any{"url": "https://ev.example.com/h", "events": []any{"contact.craeted"}}, "events.0"},
		{"automation", "POST", "/v1/automations", auto("contact.craeted"), "create_automation", auto("contact.craeted"), "trigger_event"},
	} {
		eb := expectError(t, e.call(c.method, c.path, e.Live, c.body), 422, "validation_failed", c.param)
		res := tool(t, cs, c.tool, c.args)
		mb, _ := decode(t, text(t, res))["error"].(map[string]any)
		for surface, b := range map[string]map[string]any{"REST": eb, "MCP": mb} {
			opts := strs(b["valid_options"])
			if b["code"] != "validation_failed" || b["suggestion"] != "contact.created" || !slices.Contains(opts, "email.sent") || !slices.Contains(opts, "deal.stage_changed") {
				t.Errorf("%s via %s: %v", c.name, surface, b)
			}
		}
	}
	for _, typ := range tools.EventTypes {
		e.call("GET", "/v1/events?type="+typ, e.Live, nil).must(t, 200)
	}
	if n := len(ids(e.call("GET", "/v1/events?type=contact.created", e.Live, nil).must(t, 200))); n != 1 {
		t.Fatalf("contact.created events: %d", n)
	}
}
