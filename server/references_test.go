package server_test

import (
	"net/http"
	"testing"
)

// TestDeleteLeavesNoDanglingReferences: deleting a record clears every reference to it
// (recording the updates) and deletes the activities that concerned only it.
func TestDeleteLeavesNoDanglingReferences(t *testing.T) {
	t.Parallel()
	e := setup(t)
	company := e.create("companies", e.Live, map[string]any{"name": "Acme", "domain": "acme.com"})
	contact := e.create("contacts", e.Live, map[string]any{"email": "wile@acme.com", "company_id": company})
	deal := e.create("deals", e.Live, map[string]any{"title": "Rockets", "company_id": company, "primary_contact_id": contact})
	onlyCompany := e.create("activities", e.Live, map[string]any{"type": "note", "company_id": company})
	shared := e.create("activities", e.Live, map[string]any{"type": "call", "company_id": company, "deal_id": deal})
	onlyContact := e.create("activities", e.Live, map[string]any{"type": "email", "contact_id": contact})

	e.call("DELETE", "/v1/companies/"+company, e.Live, nil).must(t, http.StatusOK)
	if c := e.call("GET", "/v1/contacts/"+contact, e.Live, nil).must(t, 200).Body; c["company_id"] != nil {
		t.Fatalf("contact still points at the deleted company: %v", c)
	}
	if d := e.call("GET", "/v1/deals/"+deal, e.Live, nil).must(t, 200).Body; d["company_id"] != nil || d["primary_contact_id"] != contact {
		t.Fatalf("deal: %v", d)
	}
	e.call("GET", "/v1/activities/"+onlyCompany, e.Live, nil).must(t, http.StatusNotFound)
	if a := e.call("GET", "/v1/activities/"+shared, e.Live, nil).must(t, 200).Body; a["company_id"] != nil || a["deal_id"] != deal {
		t.Fatalf("shared activity: %v", a)
	}
	upd := e.lastEvent(e.Live, "contact.updated")["data"].(map[string]any)
	if upd["previous_attributes"].(map[string]any)["company_id"] != company {
		t.Fatalf("unlink event: %v", upd)
	}

	e.call("DELETE", "/v1/contacts/"+contact, e.Live, nil).must(t, http.StatusOK)
	e.call("GET", "/v1/activities/"+onlyContact, e.Live, nil).must(t, http.StatusNotFound)
	if d := e.call("GET", "/v1/deals/"+deal, e.Live, nil).must(t, 200).Body; d["primary_contact_id"] != nil {
		t.Fatalf("deal keeps deleted contact: %v", d)
	}

	e.call("DELETE", "/v1/deals/"+deal, e.Live, nil).must(t, http.StatusOK)
	e.call("GET", "/v1/activities/"+shared, e.Live, nil).must(t, http.StatusNotFound)

	want := []string{"company.created", "contact.created", "deal.created", "activity.created", "activity.created", "activity.created",
		"activity.deleted", "contact.updated", "deal.updated", "activity.updated", "company.deleted",
		"activity.deleted", "deal.updated", "contact.deleted",
		"activity.deleted", "deal.deleted"}
	if got := e.events(e.Live); !equal(got, want) {
		t.Fatalf("events:\n got %v\nwant %v", got, want)
	}
}

func TestActivities(t *testing.T) {
	t.Parallel()
	e := setup(t)
	contact := e.create("contacts", e.Live, map[string]any{"first_name": "Ada"})
	deal := e.create("deals", e.Live, map[string]any{"title": "Engine"})
	expectError(t, e.call("POST", "/v1/activities", e.Live, map[string]any{"type": "note"}), 422, "validation_failed", "")
	expectError(t, e.call("POST", "/v1/activities", e.Live, map[string]any{"type": "fax", "contact_id": contact}), 422, "validation_failed", "type")
	expectError(t, e.call("POST", "/v1/activities", e.Live, map[string]any{"type": "note", "deal_id": "deal_aaaaaaaaaaaaaaaaaaaaaaaaaa"}), 422, "invalid_reference", "deal_id")
	expectError(t, e.call("POST", "/v1/activities", e.Live, map[string]any{"type": "note", "contact_id": contact, "occurred_at": "yesterday"}), 422, "validation_failed", "occurred_at")

	a := e.call("POST", "/v1/activities", e.Live, map[string]any{"type": "call", "subject": "Intro", "contact_id": contact}).must(t, 201).Body
	if a["occurred_at"] == nil || a["type"] != "call" {
		t.Fatalf("activity: %v", a)
	}
	old := e.create("activities", e.Live, map[string]any{"type": "meeting", "contact_id": contact, "deal_id": deal, "occurred_at": "2020-01-02T03:04:05Z"})
	got := e.call("GET", "/v1/contacts/"+contact, e.Live, nil).must(t, 200).Body
	recent := got["recent_activities"].([]any)
	if len(recent) != 2 || recent[0].(map[string]any)["id"] != a["id"] || recent[1].(map[string]any)["id"] != old {
		t.Fatalf("recent_activities: %v", recent)
	}
	if byDeal := ids(e.call("GET", "/v1/activities?deal_id="+deal, e.Live, nil).must(t, 200)); !equal(byDeal, []string{old}) {
		t.Fatalf("by deal: %v", byDeal)
	}
	// The last link cannot be removed.
	expectError(t, e.call("PATCH", "/v1/activities/"+a["id"].(string), e.Live, map[string]any{"contact_id": nil}), 422, "validation_failed", "")
	e.call("PATCH", "/v1/activities/"+old, e.Live, map[string]any{"contact_id": nil}).must(t, 200)
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
