package server_test

import "testing"

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
