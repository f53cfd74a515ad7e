package server_test

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
)

// revertedEvent returns the one event a revert recorded of type typ, checking it names the
// event it reverts.
func revertedEvent(t *testing.T, r resp, typ, reverted string) map[string]any {
	t.Helper()
	for _, ev := range r.Body["events"].([]any) {
		ev := ev.(map[string]any)
		if ev["type"] == typ {
			if got := ev["data"].(map[string]any)["reverted_event_id"]; got != reverted {
				t.Fatalf("reverted_event_id %v, want %s", got, reverted)
			}
			return ev
		}
	}
	t.Fatalf("no %s event in %s", typ, r.Raw)
	return nil
}

// An update is reverted to its previous attributes over REST; the revert is an event of its
// own that can be reverted in turn, over MCP.
func TestUndoUpdate(t *testing.T) {
	t.Parallel()
	e := setup(t)
	con := e.create("contacts", e.Live, map[string]any{"email": "u@x.com", "first_name": "Ada", "metadata": map[string]any{"plan": "pro"}})
	e.call("PATCH", "/v1/contacts/"+con, e.Live, map[string]any{"first_name": "Wrong", "metadata": map[string]any{"plan": nil}}).must(t, 200)
	upd := e.lastEvent(e.Live, "contact.updated")["id"].(string)

	r := e.call("POST", "/v1/events/"+upd+"/revert", e.Live, map[string]any{}).must(t, 200)
	if !slices.Equal(strs(r.Body["reverted_event_ids"]), []string{upd}) {
		t.Fatalf("reverted: %s", r.Raw)
	}
	back := revertedEvent(t, r, "contact.updated", upd)
	got := e.call("GET", "/v1/contacts/"+con, e.Live, nil).must(t, 200).Body
	if got["first_name"] != "Ada" || got["metadata"].(map[string]any)["plan"] != "pro" || got["version"] != float64(3) {
		t.Fatalf("after revert: %v", got)
	}
	// Reverting the same update again finds the record changed since: conflict, nothing written.
	again := e.call("POST", "/v1/events/"+upd+"/revert", e.Live, map[string]any{})
	ce := expectError(t, again, http.StatusConflict, "conflict", "force")
	if len(ce["differences"].([]any)) == 0 {
		t.Fatalf("no differences: %s", again.Raw)
	}
	if v := e.call("GET", "/v1/contacts/"+con, e.Live, nil).Body["version"]; v != float64(3) {
		t.Fatalf("a refused revert wrote: version %v", v)
	}
	// The revert's own event is reverted over MCP: the mistaken value comes back.
	res := e.rpc(e.Live, toolCall("undo_change", `{"id":"`+back["id"].(string)+`"}`))
	if res.Status != 200 || res.Body["result"].(map[string]any)["isError"] == true {
		t.Fatalf("undo_change over MCP: %s", res.Raw)
	}
	if got := e.call("GET", "/v1/contacts/"+con, e.Live, nil).Body["first_name"]; got != "Wrong" {
		t.Fatalf("first_name %v after reverting the revert", got)
	}
}

// A record changed since the event answers conflict with the differences, on both surfaces,
// and writes nothing; force reverts the fields the change set and keeps the later ones.
func TestUndoConflictAndForce(t *testing.T) {
	t.Parallel()
	e := setup(t)
	con := e.create("contacts", e.Live, map[string]any{"email": "c@x.com", "first_name": "Ada"})
	e.call("PATCH", "/v1/contacts/"+con, e.Live, map[string]any{"first_name": "Wrong"}).must(t, 200)
	upd := e.lastEvent(e.Live, "contact.updated")["id"].(string)
	e.call("PATCH", "/v1/contacts/"+con, e.Live, map[string]any{"last_name": "Later"}).must(t, 200)
	events := e.count("events", e.Live)

	r := e.call("POST", "/v1/events/"+upd+"/revert", e.Live, map[string]any{})
	ce := expectError(t, r, http.StatusConflict, "conflict", "force")
	d := ce["differences"].([]any)[0].(map[string]any)
	if len(ce["differences"].([]any)) != 1 || d["field"] != "last_name" || d["current"] != "Later" || d["event"] != nil || d["id"] != con {
		t.Fatalf("differences: %v", ce["differences"])
	}
	expectToolError(t, e.rpc(e.Live, toolCall("undo_change", `{"id":"`+upd+`"}`)), "conflict")
	if n := e.count("events", e.Live); n != events {
		t.Fatalf("a refused revert recorded %d events", n-events)
	}
	if v := e.call("GET", "/v1/contacts/"+con, e.Live, nil).Body["version"]; v != float64(3) {
		t.Fatalf("a refused revert wrote: version %v", v)
	}

	e.call("POST", "/v1/events/"+upd+"/revert", e.Live, map[string]any{"force": true}).must(t, 200)
	got := e.call("GET", "/v1/contacts/"+con, e.Live, nil).Body
	if got["first_name"] != "Ada" || got["last_name"] != "Later" {
		t.Fatalf("after a forced revert: %v", got)
	}
}

// Unknown events, events of another kind and derived events are refused, writing nothing.
func TestUndoRefusals(t *testing.T) {
	t.Parallel()
	e := setup(t)
	expectError(t, e.call("POST", "/v1/events/evt_aaaaaaaaaaaaaaaaaaaaaaaaaa/revert", e.Live, map[string]any{}), http.StatusNotFound, "not_found", "id")
	e.call("POST", "/v1/pipelines", e.Live, map[string]any{"key": "p2", "label": "P2",
		"stages": []any{map[string]any{"key": "s1", "label": "S1"}}}).must(t, http.StatusCreated)
	pipe := e.lastEvent(e.Live, "pipeline.created")["id"].(string)
	deal := e.create("deals", e.Live, map[string]any{"title": "D"})
	e.call("PATCH", "/v1/deals/"+deal, e.Live, map[string]any{"stage": "won"}).must(t, 200)
	moved := e.lastEvent(e.Live, "deal.stage_changed")["id"].(string)
	events := e.count("events", e.Live)
	expectError(t, e.call("POST", "/v1/events/"+pipe+"/revert", e.Live, map[string]any{}), http.StatusUnprocessableEntity, "validation_failed", "id")
	expectError(t, e.call("POST", "/v1/events/"+moved+"/revert", e.Live, map[string]any{}), http.StatusUnprocessableEntity, "validation_failed", "id")
	expectToolError(t, e.rpc(e.Live, toolCall("undo_change", `{"id":"`+pipe+`"}`)), "validation_failed")
	expectError(t, e.call("POST", "/v1/request_logs/req_aaaaaaaaaaaaaaaaaaaaaaaaaa/revert", e.Live, map[string]any{}), http.StatusNotFound, "not_found", "request_id")
	expectToolError(t, e.rpc(e.Live, toolCall("undo_request", `{"request_id":"req_aaaaaaaaaaaaaaaaaaaaaaaaaa"}`)), "not_found")
	expectError(t, e.call("POST", "/v1/request_logs/nothing/revert", e.Live, map[string]any{}), http.StatusNotFound, "not_found", "request_id")
	expectToolError(t, e.rpc(e.Live, toolCall("undo_request", `{"request_id":"nothing"}`)), "validation_failed")
	if n := e.count("events", e.Live); n != events {
		t.Fatalf("refused reverts recorded %d events", n-events)
	}
}

// Reverting a creation deletes the record; reverting that deletion restores it with its id.
func TestUndoCreate(t *testing.T) {
	t.Parallel()
	e := setup(t)
	cmp := e.create("companies", e.Live, map[string]any{"name": "Acme"})
	created := e.lastEvent(e.Live, "company.created")["id"].(string)
	r := e.call("POST", "/v1/events/"+created+"/revert", e.Live, map[string]any{}).must(t, 200)
	del := revertedEvent(t, r, "company.deleted", created)
	e.call("GET", "/v1/companies/"+cmp, e.Live, nil).must(t, http.StatusNotFound)
	expectError(t, e.call("POST", "/v1/events/"+created+"/revert", e.Live, map[string]any{}), http.StatusConflict, "conflict", "")
	e.call("POST", "/v1/events/"+del["id"].(string)+"/revert", e.Live, map[string]any{}).must(t, 200)
	if got := e.call("GET", "/v1/companies/"+cmp, e.Live, nil).must(t, 200).Body; got["name"] != "Acme" {
		t.Fatalf("restored: %v", got)
	}
	expectError(t, e.call("POST", "/v1/events/"+del["id"].(string)+"/revert", e.Live, map[string]any{}), http.StatusConflict, "conflict", "")
}

// Reverting a deletion restores the record with its id, its creation time and its links
// where the linked records still exist: associations, deals' references, activities
// deleted with it.
func TestUndoDeleteRestoresLinks(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.setPlan("acme", "team")
	cmp := e.create("companies", e.Live, map[string]any{"name": "Acme"})
	gone := e.create("companies", e.Live, map[string]any{"name": "Gone"})
	con := e.create("contacts", e.Live, map[string]any{"email": "d@x.com", "company_id": cmp})
	deal := e.create("deals", e.Live, map[string]any{"title": "D", "primary_contact_id": con})
	note := e.create("activities", e.Live, map[string]any{"type": "note", "subject": "only about her", "contact_id": con})
	call := e.create("activities", e.Live, map[string]any{"type": "call", "contact_id": con, "deal_id": deal})
	e.create("associations", e.Live, map[string]any{"from_type": "contact", "from_id": con, "to_type": "company", "to_id": gone})
	asc := e.create("associations", e.Live, map[string]any{"from_type": "contact", "from_id": con, "to_type": "deal", "to_id": deal})
	before := e.call("GET", "/v1/contacts/"+con, e.Live, nil).must(t, 200).Body

	e.call("DELETE", "/v1/contacts/"+con, e.Live, nil).must(t, 200)
	deleted := e.lastEvent(e.Live, "contact.deleted")
	e.call("DELETE", "/v1/companies/"+gone, e.Live, nil).must(t, 200)

	r := e.call("POST", "/v1/events/"+deleted["id"].(string)+"/revert", e.Live, map[string]any{}).must(t, 200)
	if n := len(strs(r.Body["reverted_event_ids"])); n != 4 { // the deletion, the note, the deal's and the call's references, one association
		t.Logf("reverted %d events: %s", n, r.Raw)
	}
	got := e.call("GET", "/v1/contacts/"+con, e.Live, nil).must(t, 200).Body
	if got["created_at"] != before["created_at"] || got["company_id"] != cmp || got["email"] != "d@x.com" {
		t.Fatalf("restored contact: %v (before %v)", got, before)
	}
	if p := e.call("GET", "/v1/deals/"+deal, e.Live, nil).Body["primary_contact_id"]; p != con {
		t.Fatalf("deal's primary_contact_id %v", p)
	}
	if c := e.call("GET", "/v1/activities/"+call, e.Live, nil).Body["contact_id"]; c != con {
		t.Fatalf("call's contact_id %v", c)
	}
	e.call("GET", "/v1/activities/"+note, e.Live, nil).must(t, 200)
	edges := e.call("GET", "/v1/associations?from_id="+con, e.Live, nil).must(t, 200).Body["data"].([]any)
	if len(edges) != 1 || edges[0].(map[string]any)["id"] != asc {
		t.Fatalf("associations after restore (the one to the deleted company stays gone): %v", edges)
	}
}

// undo_request reverts every change of one request, newest first, in one transaction; one
// conflict leaves everything as it was.
func TestUndoRequest(t *testing.T) {
	t.Parallel()
	e := setup(t)
	a := e.create("contacts", e.Live, map[string]any{"email": "a@x.com", "first_name": "A"})
	b := e.create("contacts", e.Live, map[string]any{"email": "b@x.com", "first_name": "B"})
	e.call("POST", "/v1/contacts/batch", e.Live, map[string]any{"dedup_on": []string{"email"}, "contacts": []any{
		map[string]any{"email": "a@x.com", "first_name": "A2"}, map[string]any{"email": "b@x.com", "first_name": "B2"}}}).must(t, 200)
	req := e.lastEvent(e.Live, "contact.updated")["request_id"].(string)
	// A later change of b makes the request's revert a conflict: nothing is reverted.
	e.call("PATCH", "/v1/contacts/"+b, e.Live, map[string]any{"phone": "+1555"}).must(t, 200)
	events := e.count("events", e.Live)
	expectError(t, e.call("POST", "/v1/request_logs/"+req+"/revert", e.Live, map[string]any{}), http.StatusConflict, "conflict", "force")
	if n := e.count("events", e.Live); n != events {
		t.Fatalf("a refused revert recorded %d events", n-events)
	}
	if got := e.call("GET", "/v1/contacts/"+a, e.Live, nil).Body["first_name"]; got != "A2" {
		t.Fatalf("a was reverted alone: %v", got)
	}
	r := e.call("POST", "/v1/request_logs/"+req+"/revert", e.Live, map[string]any{"force": true}).must(t, 200)
	if len(strs(r.Body["reverted_event_ids"])) != 2 {
		t.Fatalf("reverted: %s", r.Raw)
	}
	for id, want := range map[string]string{a: "A", b: "B"} {
		if got := e.call("GET", "/v1/contacts/"+id, e.Live, nil).Body["first_name"]; got != want {
			t.Fatalf("%s first_name %v, want %s", id, got, want)
		}
	}
}

// A revert racing an update of the same record: one wins cleanly. Either the revert applied
// and the update came after it, or the update came first and the revert is a conflict;
// never a half-applied revert.
func TestUndoRacesUpdate(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for i := range 8 {
		con := e.create("contacts", e.Live, map[string]any{"email": "r" + string(rune('a'+i)) + "@x.com", "first_name": "Ada", "last_name": "L"})
		e.call("PATCH", "/v1/contacts/"+con, e.Live, map[string]any{"first_name": "Wrong", "last_name": "Wrong"}).must(t, 200)
		upd := e.lastEvent(e.Live, "contact.updated")["id"].(string)
		var wg sync.WaitGroup
		var rev, up resp
		wg.Add(2)
		go func() { defer wg.Done(); rev = e.call("POST", "/v1/events/"+upd+"/revert", e.Live, map[string]any{}) }()
		go func() {
			defer wg.Done()
			up = e.call("PATCH", "/v1/contacts/"+con, e.Live, map[string]any{"phone": "+1555"})
		}()
		wg.Wait()
		up.must(t, 200)
		got := e.call("GET", "/v1/contacts/"+con, e.Live, nil).Body
		switch rev.Status {
		case 200:
			if got["first_name"] != "Ada" || got["last_name"] != "L" || got["phone"] != "+1555" {
				t.Fatalf("revert won, then the update: %v", got)
			}
		case http.StatusConflict:
			if got["first_name"] != "Wrong" || got["last_name"] != "Wrong" || got["phone"] != "+1555" {
				t.Fatalf("update won, revert refused: %v", got)
			}
		default:
			t.Fatalf("revert: %s", rev.Raw)
		}
	}
}

// undo_request racing an update of one of the request's records: all or nothing. Either
// the whole request is reverted and the update lands after, or the update lands first and
// the revert is a conflict that changes nothing, the other record included.
func TestUndoRequestRacesUpdate(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for i := range 8 {
		a, b := fmt.Sprintf("ra%d@x.com", i), fmt.Sprintf("rb%d@x.com", i)
		idA := e.create("contacts", e.Live, map[string]any{"email": a, "first_name": "A"})
		idB := e.create("contacts", e.Live, map[string]any{"email": b, "first_name": "B"})
		e.call("POST", "/v1/contacts/batch", e.Live, map[string]any{"dedup_on": []string{"email"}, "contacts": []any{
			map[string]any{"email": a, "first_name": "A2"}, map[string]any{"email": b, "first_name": "B2"}}}).must(t, 200)
		req := e.lastEvent(e.Live, "contact.updated")["request_id"].(string)
		var wg sync.WaitGroup
		var rev resp
		wg.Add(2)
		go func() {
			defer wg.Done()
			rev = e.call("POST", "/v1/request_logs/"+req+"/revert", e.Live, map[string]any{})
		}()
		go func() {
			defer wg.Done()
			e.call("PATCH", "/v1/contacts/"+idA, e.Live, map[string]any{"first_name": "Other"}).must(t, 200)
		}()
		wg.Wait()
		gotA := e.call("GET", "/v1/contacts/"+idA, e.Live, nil).Body["first_name"]
		gotB := e.call("GET", "/v1/contacts/"+idB, e.Live, nil).Body["first_name"]
		switch rev.Status {
		case 200: // reverted first; the update came after
			if gotA != "Other" || gotB != "B" {
				t.Fatalf("round %d: revert won, then the update: a=%v b=%v", i, gotA, gotB)
			}
		case http.StatusConflict: // the update came first; nothing reverted
			if gotA != "Other" || gotB != "B2" {
				t.Fatalf("round %d: update won and the revert was refused, yet a=%v b=%v", i, gotA, gotB)
			}
		default:
			t.Fatalf("round %d: revert: %s", i, rev.Raw)
		}
	}
}
