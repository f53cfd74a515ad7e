package server_test

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
)

// pairsOf returns the pairs of a find_duplicates page as "newer|older" with their reasons.
func pairsOf(r resp) map[string][]string {
	out := map[string][]string{}
	for _, p := range r.Body["data"].([]any) {
		p := p.(map[string]any)
		ids := strs(p["ids"])
		out[ids[0]+"|"+ids[1]] = strs(p["reasons"])
	}
	return out
}

// find_duplicates pairs contacts with similar names or the same phone digits, and companies
// with the same domain (case-insensitive) or similar names, scored; it pages with a cursor.
func TestFindDuplicates(t *testing.T) {
	t.Parallel()
	e := setup(t)
	a := e.create("contacts", e.Live, map[string]any{"email": "ada@x.com", "first_name": "Ada", "last_name": "Lovelace", "phone": "+1 (415) 555-0100"})
	b := e.create("contacts", e.Live, map[string]any{"email": "ada.l@y.com", "first_name": "Ada", "last_name": "Lovelace"})
	c := e.create("contacts", e.Live, map[string]any{"first_name": "Augusta", "phone": "14155550100"})
	e.create("contacts", e.Live, map[string]any{"first_name": "Bob", "last_name": "Smith"})
	e.create("contacts", e.Test, map[string]any{"first_name": "Ada", "last_name": "Lovelace"}) // the other mode: never paired

	r := e.call("GET", "/v1/duplicates?object_type=contact", e.Live, nil).must(t, 200)
	got := pairsOf(r)
	want := map[string][]string{b + "|" + a: {"similar_name"}, c + "|" + a: {"same_phone"}}
	if len(got) != len(want) {
		t.Fatalf("pairs %v, want %v", got, want)
	}
	for k, v := range want {
		if !slices.Equal(got[k], v) {
			t.Fatalf("pair %s: reasons %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
	for _, p := range r.Body["data"].([]any) {
		if s := p.(map[string]any)["score"].(float64); s <= 0 || s > 1 {
			t.Fatalf("score %v", s)
		}
	}
	// Paging: one pair per page, the same pairs in the same order.
	first := e.call("GET", "/v1/duplicates?object_type=contact&limit=1", e.Live, nil).must(t, 200)
	if first.Body["has_more"] != true {
		t.Fatalf("first page: %s", first.Raw)
	}
	second := e.call("GET", "/v1/duplicates?object_type=contact&limit=1&cursor="+first.Body["next_cursor"].(string), e.Live, nil).must(t, 200)
	paged := []any{first.Body["data"].([]any)[0], second.Body["data"].([]any)[0]}
	if toJSON(paged) != toJSON(r.Body["data"]) || second.Body["has_more"] != false {
		t.Fatalf("pages %v, want %v", paged, r.Body["data"])
	}

	x := e.create("companies", e.Live, map[string]any{"name": "Acme", "domain": "acme.com"})
	y := e.create("companies", e.Live, map[string]any{"name": "Initech", "domain": "ACME.com"})
	z := e.create("companies", e.Live, map[string]any{"name": "Acme Inc"})
	got = pairsOf(e.call("GET", "/v1/duplicates?object_type=company", e.Live, nil).must(t, 200))
	if !slices.Equal(got[y+"|"+x], []string{"same_domain"}) || !slices.Equal(got[z+"|"+x], []string{"similar_name"}) || len(got) != 2 {
		t.Fatalf("company pairs %v", got)
	}
	expectError(t, e.call("GET", "/v1/duplicates?object_type=deal", e.Live, nil), http.StatusUnprocessableEntity, "validation_failed", "object_type")
}

// merge_contacts moves everything to the contact that stays, fills its empty fields and
// missing metadata keys, deletes the merged contact and records one contact.merged event;
// undo_change on that event takes it all back.
func TestMergeContactsAndUndo(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.setPlan("acme", "team")
	cmp := e.create("companies", e.Live, map[string]any{"name": "Acme"})
	into := e.create("contacts", e.Live, map[string]any{"email": "ada@x.com", "first_name": "Ada", "metadata": map[string]any{"plan": "pro"}})
	from := e.create("contacts", e.Live, map[string]any{"email": "ada@y.com", "first_name": "Augusta", "last_name": "King", "company_id": cmp,
		"metadata": map[string]any{"plan": "free", "source": "import"}})
	deal := e.create("deals", e.Live, map[string]any{"title": "D", "primary_contact_id": from})
	act := e.create("activities", e.Live, map[string]any{"type": "note", "contact_id": from})
	asc := e.create("associations", e.Live, map[string]any{"from_type": "contact", "from_id": from, "to_type": "deal", "to_id": deal})
	self := e.create("associations", e.Live, map[string]any{"from_type": "contact", "from_id": from, "to_type": "contact", "to_id": into})
	intoBefore := e.call("GET", "/v1/contacts/"+into, e.Live, nil).must(t, 200).Body

	r := e.call("POST", "/v1/contacts/"+into+"/merge", e.Live, map[string]any{"from": []string{from}}).must(t, 200)
	kept := r.Body["into"].(map[string]any)
	if kept["first_name"] != "Ada" || kept["last_name"] != "King" || kept["email"] != "ada@x.com" || kept["company_id"] != cmp ||
		fmt.Sprint(kept["metadata"]) != fmt.Sprint(map[string]any{"plan": "pro", "source": "import"}) {
		t.Fatalf("merged contact: %v", kept)
	}
	e.call("GET", "/v1/contacts/"+from, e.Live, nil).must(t, http.StatusNotFound)
	if p := e.call("GET", "/v1/deals/"+deal, e.Live, nil).Body["primary_contact_id"]; p != into {
		t.Fatalf("deal's primary contact %v", p)
	}
	if c := e.call("GET", "/v1/activities/"+act, e.Live, nil).Body["contact_id"]; c != into {
		t.Fatalf("activity's contact %v", c)
	}
	edges := e.call("GET", "/v1/associations?from_id="+into, e.Live, nil).must(t, 200).Body["data"].([]any)
	if len(edges) != 1 || edges[0].(map[string]any)["id"] != asc || edges[0].(map[string]any)["to_id"] != deal {
		t.Fatalf("associations after merge: %v", edges)
	}
	ev := e.lastEvent(e.Live, "contact.merged")
	if ev["id"] != r.Body["event_id"] {
		t.Fatalf("event %v, want %v", ev["id"], r.Body["event_id"])
	}

	u := e.call("POST", "/v1/events/"+ev["id"].(string)+"/revert", e.Live, map[string]any{}).must(t, 200)
	got := e.call("GET", "/v1/contacts/"+into, e.Live, nil).must(t, 200).Body
	if got["last_name"] != nil || got["company_id"] != nil || fmt.Sprint(got["metadata"]) != fmt.Sprint(intoBefore["metadata"]) {
		t.Fatalf("into after undo: %v (%s)", got, u.Raw)
	}
	back := e.call("GET", "/v1/contacts/"+from, e.Live, nil).must(t, 200).Body
	if back["email"] != "ada@y.com" || back["company_id"] != cmp {
		t.Fatalf("restored contact: %v", back)
	}
	if p := e.call("GET", "/v1/deals/"+deal, e.Live, nil).Body["primary_contact_id"]; p != from {
		t.Fatalf("deal's primary contact after undo %v", p)
	}
	if c := e.call("GET", "/v1/activities/"+act, e.Live, nil).Body["contact_id"]; c != from {
		t.Fatalf("activity's contact after undo %v", c)
	}
	edges = e.call("GET", "/v1/associations?from_id="+from, e.Live, nil).must(t, 200).Body["data"].([]any)
	ids := []string{}
	for _, a := range edges {
		ids = append(ids, a.(map[string]any)["id"].(string))
	}
	slices.Sort(ids)
	want := []string{asc, self}
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Fatalf("associations after undo %v, want %v", ids, want)
	}
}

// prefer: "from" lets the merged record's values win.
func TestMergePreferFrom(t *testing.T) {
	t.Parallel()
	e := setup(t)
	into := e.create("companies", e.Live, map[string]any{"name": "Acme", "metadata": map[string]any{"tier": "a"}})
	from := e.create("companies", e.Live, map[string]any{"name": "Acme Inc", "domain": "acme.com", "metadata": map[string]any{"tier": "b"}})
	con := e.create("contacts", e.Live, map[string]any{"email": "c@acme.com", "company_id": from})
	r := e.rpc(e.Live, toolCall("merge_companies", `{"into":"`+into+`","from":["`+from+`"],"prefer":"from"}`))
	if r.Status != 200 || r.Body["result"].(map[string]any)["isError"] == true {
		t.Fatalf("merge_companies: %s", r.Raw)
	}
	got := e.call("GET", "/v1/companies/"+into, e.Live, nil).must(t, 200).Body
	if got["name"] != "Acme Inc" || got["domain"] != "acme.com" || got["metadata"].(map[string]any)["tier"] != "b" {
		t.Fatalf("merged company: %v", got)
	}
	if c := e.call("GET", "/v1/contacts/"+con, e.Live, nil).Body["company_id"]; c != into {
		t.Fatalf("contact's company %v", c)
	}
}

// A merge the caller must fix is refused on both surfaces, and nothing is written.
func TestMergeRefusals(t *testing.T) {
	t.Parallel()
	e := setup(t)
	into := e.create("contacts", e.Live, map[string]any{"email": "i@x.com"})
	from := e.create("contacts", e.Live, map[string]any{"email": "f@x.com", "phone": "+1555"})
	events := e.count("events", e.Live)
	missing := "con_aaaaaaaaaaaaaaaaaaaaaaaaaa"
	expectError(t, e.call("POST", "/v1/contacts/"+into+"/merge", e.Live, map[string]any{"from": []string{into}}), http.StatusUnprocessableEntity, "validation_failed", "from")
	expectError(t, e.call("POST", "/v1/contacts/"+into+"/merge", e.Live, map[string]any{"from": []string{from, missing}}), http.StatusNotFound, "not_found", "from")
	expectError(t, e.call("POST", "/v1/contacts/"+missing+"/merge", e.Live, map[string]any{"from": []string{from}}), http.StatusNotFound, "not_found", "into")
	expectError(t, e.call("POST", "/v1/contacts/"+into+"/merge", e.Live, map[string]any{"from": []string{}}), http.StatusUnprocessableEntity, "validation_failed", "from")
	expectToolError(t, e.rpc(e.Live, toolCall("merge_contacts", `{"into":"`+into+`","from":["`+missing+`"]}`)), "not_found")
	if n := e.count("events", e.Live); n != events {
		t.Fatalf("refused merges recorded %d events", n-events)
	}
	e.call("GET", "/v1/contacts/"+from, e.Live, nil).must(t, 200)
	if p := e.call("GET", "/v1/contacts/"+into, e.Live, nil).Body["phone"]; p != nil {
		t.Fatalf("a refused merge filled phone: %v", p)
	}
}

// A merge racing an update of the merged record: either the update lands first and the
// merge takes its value, or the merge lands first and the update finds the record gone.
func TestMergeRacesUpdate(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for i := range 8 {
		into := e.create("contacts", e.Live, map[string]any{"email": fmt.Sprintf("i%d@x.com", i)})
		from := e.create("contacts", e.Live, map[string]any{"email": fmt.Sprintf("f%d@x.com", i), "last_name": "Old"})
		var wg sync.WaitGroup
		var merge, up resp
		wg.Add(2)
		go func() {
			defer wg.Done()
			merge = e.call("POST", "/v1/contacts/"+into+"/merge", e.Live, map[string]any{"from": []string{from}})
		}()
		go func() {
			defer wg.Done()
			up = e.call("PATCH", "/v1/contacts/"+from, e.Live, map[string]any{"last_name": "New"})
		}()
		wg.Wait()
		merge.must(t, 200)
		got := e.call("GET", "/v1/contacts/"+into, e.Live, nil).Body["last_name"]
		switch up.Status {
		case 200:
			if got != "New" {
				t.Fatalf("update landed first, merged last_name %v", got)
			}
		case http.StatusNotFound:
			if got != "Old" {
				t.Fatalf("merge landed first, merged last_name %v", got)
			}
		default:
			t.Fatalf("update: %s", up.Raw)
		}
	}
}
