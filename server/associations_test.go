package server_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// setPlan moves a workspace made by setup to plan, as `relm workspaces set-plan` does.
func (e *env) setPlan(workspace, plan string) {
	e.t.Helper()
	if err := e.Admin.SetWorkspacePlan(e.t.Context(), workspace, plan); err != nil {
		e.t.Fatal(err)
	}
}

// link creates an association through REST and returns its id.
func (e *env) link(key, fromType, fromID, toType, toID string, label ...string) string {
	e.t.Helper()
	body := map[string]any{"from_type": fromType, "from_id": fromID, "to_type": toType, "to_id": toID}
	if len(label) > 0 {
		body["label"] = label[0]
	}
	return e.create("associations", key, body)
}

// edges lists the ids of the associations a query selects.
func (e *env) edges(key, query string) []string {
	e.t.Helper()
	return ids(e.call("GET", "/v1/associations?"+query, key, nil).must(e.t, http.StatusOK))
}

// crm is one record of each kind an association can link.
type crm struct{ contact, company, deal, activity string }

func (e *env) crm(key, name string) crm {
	e.t.Helper()
	var c crm
	c.company = e.create("companies", key, map[string]any{"name": name + " Inc"})
	c.contact = e.create("contacts", key, map[string]any{"first_name": name})
	c.deal = e.create("deals", key, map[string]any{"title": name + " deal"})
	c.activity = e.create("activities", key, map[string]any{"type": "note", "subject": name, "deal_id": c.deal})
	return c
}

func TestAssociationsREST(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.setPlan("acme", "team")
	r := e.crm(e.Live, "Ada")

	a := e.call("POST", "/v1/associations", e.Live, map[string]any{
		"from_type": "contact", "from_id": r.contact, "to_type": "deal", "to_id": r.deal, "label": "champion"}).must(t, http.StatusCreated).Body
	if a["object"] != "association" || !strings.HasPrefix(a["id"].(string), "asc_") || a["from_type"] != "contact" ||
		a["from_id"] != r.contact || a["to_type"] != "deal" || a["to_id"] != r.deal || a["label"] != "champion" ||
		a["mode"] != "live" || a["created_at"] == nil {
		t.Fatalf("association: %v", a)
	}
	champion := a["id"].(string)
	if ev := e.lastEvent(e.Live, "association.created")["data"].(map[string]any)["object"].(map[string]any); ev["id"] != champion {
		t.Fatalf("association.created: %v", ev)
	}
	// Every kind links to every other kind; an unlabelled edge has label null.
	plain := e.link(e.Live, "contact", r.contact, "deal", r.deal)
	works := e.link(e.Live, "contact", r.contact, "company", r.company, "works at")
	about := e.link(e.Live, "activity", r.activity, "company", r.company)
	owns := e.link(e.Live, "company", r.company, "deal", r.deal)
	back := e.link(e.Live, "deal", r.deal, "contact", r.contact, "champion") // the reverse edge is another edge
	notes := e.link(e.Live, "activity", r.activity, "contact", r.contact)
	if l := e.call("GET", "/v1/associations?from_id="+r.contact+"&to_id="+r.deal, e.Live, nil).must(t, 200).Body["data"].([]any); len(l) != 2 ||
		l[0].(map[string]any)["label"] != nil || l[0].(map[string]any)["id"] != plain {
		t.Fatalf("unlabelled edge: %v", l)
	}

	for q, want := range map[string][]string{
		"from_type=contact&from_id=" + r.contact:       {works, plain, champion},
		"to_type=deal&to_id=" + r.deal:                 {owns, plain, champion},
		"to_id=" + r.contact:                           {notes, back},
		"from_type=activity":                           {notes, about},
		"label=champion":                               {back, champion},
		"filter[label][ilike]=%25at":                   {works},
		"filter[to_type][in]=company,contact":          {notes, back, about, works},
		"from_id=" + r.company + "&filter[id]=" + owns: {owns},
		"": {notes, back, owns, about, works, plain, champion},
	} {
		if got := e.edges(e.Live, q); !equal(got, want) {
			t.Errorf("?%s: got %v, want %v", q, got, want)
		}
	}
	// Keyset pagination like every list.
	page := e.call("GET", "/v1/associations?limit=3", e.Live, nil).must(t, 200).Body
	if page["object"] != "list" || page["has_more"] != true || len(page["data"].([]any)) != 3 {
		t.Fatalf("page: %v", page)
	}
	var all []string
	cursor := ""
	for {
		p := e.call("GET", "/v1/associations?limit=3"+cursor, e.Live, nil).must(t, 200)
		all = append(all, ids(p)...)
		if p.Body["has_more"] != true {
			break
		}
		cursor = "&cursor=" + url.QueryEscape(p.Body["next_cursor"].(string))
	}
	if !equal(all, []string{notes, back, owns, about, works, plain, champion}) {
		t.Fatalf("paged: %v", all)
	}
	expectError(t, e.call("GET", "/v1/associations?cursor=bad", e.Live, nil), 400, "invalid_cursor", "cursor")
	expectError(t, e.call("GET", "/v1/associations?filter[colour]=red", e.Live, nil), 400, "invalid_filter", "filter[colour]")
	expectError(t, e.call("GET", "/v1/associations?from_type=deal&from_id="+r.contact, e.Live, nil), 422, "validation_failed", "from_id")

	del := e.call("DELETE", "/v1/associations/"+champion, e.Live, nil).must(t, 200).Body
	if del["id"] != champion || del["object"] != "association" || del["deleted"] != true {
		t.Fatalf("delete: %v", del)
	}
	if ev := e.lastEvent(e.Live, "association.deleted")["data"].(map[string]any)["object"].(map[string]any); ev["id"] != champion || ev["label"] != "champion" {
		t.Fatalf("association.deleted: %v", ev)
	}
	expectError(t, e.call("DELETE", "/v1/associations/"+champion, e.Live, nil), 404, "not_found", "id")
	expectError(t, e.call("DELETE", "/v1/associations/asc_nope", e.Live, nil), 404, "not_found", "id")
	// The linked records are untouched, and the edge can be made again.
	e.call("GET", "/v1/contacts/"+r.contact, e.Live, nil).must(t, 200)
	e.link(e.Live, "contact", r.contact, "deal", r.deal, "champion")
}

// TestAssociationErrors: every refusal answers its status and code and writes nothing.
func TestAssociationErrors(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.setPlan("acme", "team")
	e.setPlan("globex", "team")
	r := e.crm(e.Live, "Ada")
	other := e.crm(e.Other, "Mallory")
	testMode := e.crm(e.Test, "Tess")
	missingDeal := "deal_aaaaaaaaaaaaaaaaaaaaaaaaaa"
	existing := e.link(e.Live, "contact", r.contact, "deal", r.deal, "champion")
	before := e.events(e.Live)

	body := func(fromType, fromID, toType, toID string) map[string]any {
		return map[string]any{"from_type": fromType, "from_id": fromID, "to_type": toType, "to_id": toID}
	}
	post := func(b map[string]any) resp { return e.call("POST", "/v1/associations", e.Live, b) }

	// A missing end, another workspace's record and the other mode's record answer alike.
	missing := expectError(t, post(body("contact", r.contact, "deal", missingDeal)), 422, "invalid_reference", "to_id")
	for name, id := range map[string]string{"other workspace": other.deal, "other mode": testMode.deal} {
		got := expectError(t, post(body("contact", r.contact, "deal", id)), 422, "invalid_reference", "to_id")
		if got["message"] != missing["message"] {
			t.Errorf("%s: %q differs from the missing record's %q", name, got["message"], missing["message"])
		}
	}
	expectError(t, post(body("contact", other.contact, "deal", r.deal)), 422, "invalid_reference", "from_id")
	expectError(t, post(body("contact", other.contact, "deal", missingDeal)), 422, "invalid_reference", "from_id")
	expectError(t, post(body("activity", testMode.activity, "company", r.company)), 422, "invalid_reference", "from_id")
	if m := missing["message"].(string); !strings.Contains(m, "to_id does not name a deal") {
		t.Errorf("message: %s", m)
	}

	// A type that does not match the id's prefix, the same record twice, bad shapes.
	expectError(t, post(body("deal", r.contact, "deal", r.deal)), 422, "validation_failed", "from_id")
	mismatch := expectError(t, post(body("contact", r.contact, "company", r.deal)), 422, "validation_failed", "to_id")
	if !strings.Contains(mismatch["message"].(string), "to_id is a deal id, but to_type is company") {
		t.Errorf("mismatch message: %s", mismatch["message"])
	}
	expectError(t, post(body("contact", r.contact, "contact", r.contact)), 422, "validation_failed", "to_id")
	expectError(t, post(body("event", r.contact, "deal", r.deal)), 422, "validation_failed", "from_type")
	expectError(t, post(body("contact", "evt_aaaaaaaaaaaaaaaaaaaaaaaaaa", "deal", r.deal)), 422, "validation_failed", "from_id")
	expectError(t, post(map[string]any{"from_type": "contact", "from_id": r.contact, "to_type": "deal"}), 422, "validation_failed", "to_id")
	expectError(t, post(map[string]any{"from_type": "contact", "from_id": r.contact, "to_type": "deal", "to_id": r.deal, "label": ""}), 422, "validation_failed", "label")
	expectError(t, post(map[string]any{"from_type": "contact", "from_id": r.contact, "to_type": "deal", "to_id": r.deal, "label": strings.Repeat("x", 101)}), 422, "validation_failed", "label")

	// The same from, to and label is a duplicate; labels are part of an edge's identity.
	dup := expectError(t, post(map[string]any{"from_type": "contact", "from_id": r.contact, "to_type": "deal", "to_id": r.deal, "label": "champion"}), 409, "already_exists", "")
	if dup["existing_id"] != existing {
		t.Fatalf("existing_id: %v", dup)
	}
	if got := e.events(e.Live); !equal(got, before) {
		t.Fatalf("refused creates recorded events: %v", got[len(before):])
	}
	if n := e.count("associations", e.Live); n != 1 {
		t.Fatalf("%d associations after refusals", n)
	}
	unlabelled := e.link(e.Live, "contact", r.contact, "deal", r.deal)
	dup = expectError(t, post(body("contact", r.contact, "deal", r.deal)), 409, "already_exists", "")
	if dup["existing_id"] != unlabelled {
		t.Fatalf("unlabelled existing_id: %v", dup)
	}
	e.link(e.Live, "contact", r.contact, "deal", r.deal, "Champion") // labels compare exactly
	e.link(e.Live, "deal", r.deal, "contact", r.contact, "champion") // direction matters
}

// TestAssociationPlans: creating needs Team; reading and deleting work on Free; a plan
// change applies from the next request.
func TestAssociationPlans(t *testing.T) {
	t.Parallel()
	e := setup(t)
	r := e.crm(e.Live, "Ada")
	before := e.events(e.Live)
	refused := expectError(t, e.call("POST", "/v1/associations", e.Live, map[string]any{
		"from_type": "contact", "from_id": r.contact, "to_type": "deal", "to_id": r.deal}), 403, "plan_required", "")
	if m := refused["message"].(string); !strings.Contains(m, "Team plan") || !strings.Contains(m, "free plan") {
		t.Fatalf("message should name the plan needed: %s", m)
	}
	// The plan is checked before the ends, whichever workspace they belong to.
	expectError(t, e.call("POST", "/v1/associations", e.Test, map[string]any{
		"from_type": "contact", "from_id": r.contact, "to_type": "deal", "to_id": r.deal}), 403, "plan_required", "")
	if got := e.events(e.Live); !equal(got, before) || e.count("associations", e.Live) != 0 {
		t.Fatalf("a refused create wrote something: %v", got[len(before):])
	}
	e.call("GET", "/v1/associations?from_id="+r.contact, e.Live, nil).must(t, 200)
	if c := e.call("GET", "/v1/contacts/"+r.contact, e.Live, nil).must(t, 200).Body; len(c["associations"].([]any)) != 0 {
		t.Fatalf("associations: %v", c["associations"])
	}

	// Company and primary-contact links work on every plan.
	e.create("deals", e.Live, map[string]any{"title": "Free deal", "company_id": r.company, "primary_contact_id": r.contact})
	e.call("PATCH", "/v1/contacts/"+r.contact, e.Live, map[string]any{"company_id": r.company}).must(t, 200)

	e.setPlan("acme", "team")
	id := e.link(e.Live, "contact", r.contact, "deal", r.deal)
	e.link(e.Test, "contact", e.create("contacts", e.Test, map[string]any{"first_name": "T"}), "deal", e.create("deals", e.Test, map[string]any{"title": "T"}))
	e.setPlan("acme", "free")
	expectError(t, e.call("POST", "/v1/associations", e.Live, map[string]any{
		"from_type": "deal", "from_id": r.deal, "to_type": "company", "to_id": r.company}), 403, "plan_required", "")
	if got := e.edges(e.Live, "from_id="+r.contact); !equal(got, []string{id}) {
		t.Fatalf("list on free: %v", got)
	}
	if c := e.call("GET", "/v1/contacts/"+r.contact, e.Live, nil).must(t, 200).Body; len(c["associations"].([]any)) != 1 {
		t.Fatalf("get_contact on free: %v", c["associations"])
	}
	e.call("DELETE", "/v1/associations/"+id, e.Live, nil).must(t, 200)
	// Another workspace's plan is its own.
	other := e.crm(e.Other, "Mallory")
	expectError(t, e.call("POST", "/v1/associations", e.Other, map[string]any{
		"from_type": "contact", "from_id": other.contact, "to_type": "deal", "to_id": other.deal}), 403, "plan_required", "")
}

// TestDeletingRecordsRemovesAssociations: deleting any record kind deletes its edges (and
// those of the activities deleted with it) with events, in the deleting transaction.
func TestDeletingRecordsRemovesAssociations(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.setPlan("acme", "team")
	for _, kind := range []string{"contact", "company", "deal", "activity"} {
		r := e.crm(e.Live, kind)
		spare := e.crm(e.Live, kind+" spare")
		id := map[string]string{"contact": r.contact, "company": r.company, "deal": r.deal, "activity": r.activity}[kind]
		resource := map[string]string{"contact": "contacts", "company": "companies", "deal": "deals", "activity": "activities"}[kind]
		out := e.link(e.Live, kind, id, "contact", spare.contact, "out")
		in := e.link(e.Live, "deal", spare.deal, kind, id)
		kept := e.link(e.Live, "contact", spare.contact, "deal", spare.deal)
		n := len(e.events(e.Live))

		e.call("DELETE", "/v1/"+resource+"/"+id, e.Live, nil).must(t, 200)
		if got := e.edges(e.Live, "from_id="+id); len(got) != 0 {
			t.Fatalf("edges from the deleted %s remain: %v", kind, got)
		}
		if got := e.edges(e.Live, "to_id="+id); len(got) != 0 {
			t.Fatalf("edges to the deleted %s remain: %v", kind, got)
		}
		if got := e.edges(e.Live, "from_id="+spare.contact); !equal(got, []string{kept}) {
			t.Fatalf("deleting a %s changed other edges: %v", kind, got)
		}
		evs := e.call("GET", "/v1/events?limit=200", e.Live, nil).must(t, 200).Body["data"].([]any)
		var gone []string
		for i := len(evs) - n - 1; i >= 0; i-- {
			ev := evs[i].(map[string]any)
			if ev["type"] == "association.deleted" {
				gone = append(gone, ev["data"].(map[string]any)["object"].(map[string]any)["id"].(string))
			}
		}
		if !sameSet(gone, []string{out, in}) {
			t.Fatalf("deleting a %s: association.deleted for %v, want %v", kind, gone, []string{out, in})
		}
		if last := e.events(e.Live); last[len(last)-1] != kind+".deleted" {
			t.Fatalf("deleting a %s: its own event comes last: %v", kind, last[n:])
		}
	}

	// An activity deleted because its last linked record went takes its edges with it.
	contact := e.create("contacts", e.Live, map[string]any{"first_name": "Orphaning"})
	note := e.create("activities", e.Live, map[string]any{"type": "note", "contact_id": contact})
	company := e.create("companies", e.Live, map[string]any{"name": "Kept"})
	e.link(e.Live, "activity", note, "company", company)
	e.link(e.Live, "company", company, "contact", contact)
	n := len(e.events(e.Live))
	e.call("DELETE", "/v1/contacts/"+contact, e.Live, nil).must(t, 200)
	e.call("GET", "/v1/activities/"+note, e.Live, nil).must(t, http.StatusNotFound)
	if got := e.edges(e.Live, "to_id="+company); len(got) != 0 {
		t.Fatalf("the orphaned activity's edge remains: %v", got)
	}
	if got := e.events(e.Live)[n:]; !equal(got, []string{"association.deleted", "association.deleted", "activity.deleted", "contact.deleted"}) {
		t.Fatalf("events: %v", got)
	}
	if n := e.danglingAssociations(); n != 0 {
		t.Fatalf("%d dangling associations", n)
	}
}

// danglingAssociations counts the associations, of any tenant, with an end that is gone.
func (e *env) danglingAssociations() int64 {
	e.t.Helper()
	return e.exec(`SELECT 1 FROM associations a, LATERAL (VALUES (a.from_id), (a.to_id)) AS ends (id)
		WHERE NOT EXISTS (SELECT 1 FROM contacts c WHERE c.id = ends.id AND c.workspace_id = a.workspace_id AND c.mode = a.mode)
		  AND NOT EXISTS (SELECT 1 FROM companies c WHERE c.id = ends.id AND c.workspace_id = a.workspace_id AND c.mode = a.mode)
		  AND NOT EXISTS (SELECT 1 FROM deals d WHERE d.id = ends.id AND d.workspace_id = a.workspace_id AND d.mode = a.mode)
		  AND NOT EXISTS (SELECT 1 FROM activities x WHERE x.id = ends.id AND x.workspace_id = a.workspace_id AND x.mode = a.mode)`)
}

// raceDelete deletes the record at path in a goroutine of wg; it must succeed.
func (e *env) raceDelete(wg *sync.WaitGroup, path string) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		if r := e.call("DELETE", path, e.Live, nil); r.Status != 200 {
			e.t.Errorf("delete: %d %s", r.Status, r.Raw)
		}
	}()
}

// raceLink creates the association body in a goroutine of wg; it must succeed, or find an
// end already deleted.
func (e *env) raceLink(wg *sync.WaitGroup, body map[string]any) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		if r := e.call("POST", "/v1/associations", e.Live, body); r.Status != 201 && r.errCode() != "invalid_reference" {
			e.t.Errorf("create: %d %s", r.Status, r.Raw)
		}
	}()
}

// TestAssociationsRaceDeletes creates edges to records while they are being deleted: no
// edge may outlive its end, and no request may fail.
func TestAssociationsRaceDeletes(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.setPlan("acme", "team")
	hub := e.create("companies", e.Live, map[string]any{"name": "Hub"})
	var wg sync.WaitGroup
	for i := range 20 {
		contact := e.create("contacts", e.Live, map[string]any{"first_name": fmt.Sprint("Racer ", i)})
		note := e.create("activities", e.Live, map[string]any{"type": "note", "contact_id": contact})
		e.raceDelete(&wg, "/v1/contacts/"+contact)
		for _, b := range []map[string]any{
			{"from_type": "contact", "from_id": contact, "to_type": "company", "to_id": hub},
			{"from_type": "contact", "from_id": contact, "to_type": "activity", "to_id": note},
			{"from_type": "activity", "from_id": note, "to_type": "contact", "to_id": contact, "label": "about"},
		} {
			e.raceLink(&wg, b)
		}
	}
	wg.Wait()
	if got := e.edges(e.Live, "limit=200"); len(got) != 0 || e.danglingAssociations() != 0 {
		t.Fatalf("edges outlived their records: %v", got)
	}
}

func TestGetContactAssociations(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.setPlan("acme", "team")
	contact := e.create("contacts", e.Live, map[string]any{"first_name": "Hub"})
	var want []string
	for i := range 12 {
		deal := e.create("deals", e.Live, map[string]any{"title": fmt.Sprint("Deal ", i)})
		if i%2 == 0 {
			want = append([]string{e.link(e.Live, "contact", contact, "deal", deal)}, want...)
		} else {
			want = append([]string{e.link(e.Live, "deal", deal, "contact", contact, "buyer")}, want...)
		}
	}
	e.link(e.Live, "deal", e.create("deals", e.Live, map[string]any{"title": "x"}), "company", e.create("companies", e.Live, map[string]any{"name": "y"}))
	c := e.call("GET", "/v1/contacts/"+contact, e.Live, nil).must(t, 200).Body
	var got []string
	for _, a := range c["associations"].([]any) {
		got = append(got, a.(map[string]any)["id"].(string))
	}
	if !equal(got, want[:10]) {
		t.Fatalf("associations:\n got %v\nwant %v", got, want[:10])
	}
	first := c["associations"].([]any)[0].(map[string]any)
	if first["object"] != "association" || first["to_id"] != contact || first["label"] != "buyer" {
		t.Fatalf("newest association: %v", first)
	}
	if c["recent_activities"] == nil {
		t.Fatalf("recent_activities went missing: %v", c)
	}
}

func TestAssociationsMCP(t *testing.T) {
	t.Parallel()
	e := setup(t)
	r := e.crm(e.Live, "Ada")
	cs := e.mcpSession(e.Live, "")
	args := map[string]any{"from_type": "contact", "from_id": r.contact, "to_type": "company", "to_id": r.company, "label": "works at"}

	refused := tool(t, cs, "create_association", args)
	if !refused.IsError || decode(t, text(t, refused))["error"].(map[string]any)["code"] != "plan_required" {
		t.Fatalf("free plan: %s", text(t, refused))
	}
	e.setPlan("acme", "team")
	created := tool(t, cs, "create_association", args)
	if created.IsError {
		t.Fatalf("create: %s", text(t, created))
	}
	a := decode(t, text(t, created))
	id := a["id"].(string)
	dup := decode(t, text(t, tool(t, cs, "create_association", args)))["error"].(map[string]any)
	if dup["code"] != "already_exists" || dup["existing_id"] != id {
		t.Fatalf("duplicate: %v", dup)
	}
	bad := decode(t, text(t, tool(t, cs, "create_association", map[string]any{
		"from_type": "contact", "from_id": r.contact, "to_type": "deal", "to_id": "deal_aaaaaaaaaaaaaaaaaaaaaaaaaa"})))["error"].(map[string]any)
	if bad["code"] != "invalid_reference" || bad["param"] != "to_id" {
		t.Fatalf("missing end: %v", bad)
	}

	// The same list and contact over both surfaces are the same JSON.
	list := tool(t, cs, "list_associations", map[string]any{"from_type": "contact", "from_id": r.contact})
	rest := e.call("GET", "/v1/associations?from_type=contact&from_id="+r.contact, e.Live, nil).must(t, 200)
	if !jsonEqual(t, rest.Raw, []byte(text(t, list))) || len(decode(t, text(t, list))["data"].([]any)) != 1 {
		t.Fatalf("list: MCP %s, REST %s", text(t, list), rest.Raw)
	}
	filtered := decode(t, text(t, tool(t, cs, "list_associations", map[string]any{"filter": map[string]any{"to_type": "deal"}})))
	if len(filtered["data"].([]any)) != 0 {
		t.Fatalf("filter: %v", filtered)
	}
	contact := tool(t, cs, "get_contact", map[string]any{"id": r.contact})
	if got := decode(t, text(t, contact))["associations"].([]any); len(got) != 1 || got[0].(map[string]any)["id"] != id {
		t.Fatalf("get_contact associations: %v", got)
	}
	if !jsonEqual(t, e.call("GET", "/v1/contacts/"+r.contact, e.Live, nil).must(t, 200).Raw, []byte(text(t, contact))) {
		t.Fatal("get_contact differs between REST and MCP")
	}

	// create_association takes an idempotency key like every POST tool.
	keyed := map[string]any{"from_type": "deal", "from_id": r.deal, "to_type": "company", "to_id": r.company, "idempotency_key": "link-1"}
	first, again := text(t, tool(t, cs, "create_association", keyed)), text(t, tool(t, cs, "create_association", keyed))
	if first != again || decode(t, first)["object"] != "association" {
		t.Fatalf("idempotent replay: %s then %s", first, again)
	}

	del := decode(t, text(t, tool(t, cs, "delete_association", map[string]any{"id": id})))
	if del["deleted"] != true || del["object"] != "association" {
		t.Fatalf("delete: %v", del)
	}
	miss := tool(t, cs, "delete_association", map[string]any{"id": id})
	if !miss.IsError || decode(t, text(t, miss))["error"].(map[string]any)["code"] != "not_found" {
		t.Fatalf("second delete: %s", text(t, miss))
	}
	if evs := e.events(e.Live); evs[len(evs)-1] != "association.deleted" {
		t.Fatalf("events: %v", evs)
	}
}

// TestAssociationsIsolated: another workspace or mode never sees, deletes or links to an
// association or its ends.
func TestAssociationsIsolated(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for _, ws := range []string{"acme", "globex"} {
		e.setPlan(ws, "team")
	}
	r := e.crm(e.Live, "Ada")
	id := e.link(e.Live, "contact", r.contact, "deal", r.deal, "champion")
	mine := e.crm(e.Other, "Mallory")
	e.link(e.Other, "contact", mine.contact, "deal", mine.deal, "champion")
	testMode := e.crm(e.Test, "Tess")

	for name, key := range map[string]string{"other workspace": e.Other, "test mode": e.Test} {
		for _, q := range []string{"", "from_id=" + r.contact, "to_id=" + r.deal, "filter[id]=" + id} {
			if body := e.call("GET", "/v1/associations?"+q, key, nil).must(t, 200).Raw; strings.Contains(string(body), id) || strings.Contains(string(body), r.contact) {
				t.Errorf("%s sees live associations of acme (?%s): %s", name, q, body)
			}
		}
		expectError(t, e.call("DELETE", "/v1/associations/"+id, key, nil), 404, "not_found", "id")
		expectError(t, e.call("POST", "/v1/associations", key, map[string]any{
			"from_type": "contact", "from_id": r.contact, "to_type": "deal", "to_id": r.deal}), 422, "invalid_reference", "from_id")
	}
	// A tenant may link its own records to each other only.
	expectError(t, e.call("POST", "/v1/associations", e.Test, map[string]any{
		"from_type": "contact", "from_id": testMode.contact, "to_type": "deal", "to_id": r.deal}), 422, "invalid_reference", "to_id")
	e.link(e.Test, "contact", testMode.contact, "deal", testMode.deal, "champion")
	// Deleting a record in one tenant leaves the others' edges alone.
	e.call("DELETE", "/v1/contacts/"+mine.contact, e.Other, nil).must(t, 200)
	if got := e.edges(e.Live, "from_id="+r.contact); !equal(got, []string{id}) {
		t.Fatalf("acme's edges after globex deleted a contact: %v", got)
	}
	for _, key := range []string{e.Live, e.Test} {
		for _, ev := range e.events(key) {
			if ev == "association.deleted" {
				t.Fatalf("acme lost an edge: %v", e.events(key))
			}
		}
	}
}

// TestAssociationsRaceDeletesLinkedActivities links two activities of a contact to each
// other, in both directions, while the contact's deletion deletes both: whichever order the
// rows are reached in, no request may fail (this deadlocked before locks were taken in id
// order).
func TestAssociationsRaceDeletesLinkedActivities(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.setPlan("acme", "team")
	var wg sync.WaitGroup
	for i := range 15 {
		contact := e.create("contacts", e.Live, map[string]any{"first_name": fmt.Sprint("Racer ", i)})
		a := e.create("activities", e.Live, map[string]any{"type": "note", "contact_id": contact})
		b := e.create("activities", e.Live, map[string]any{"type": "call", "contact_id": contact})
		e.raceDelete(&wg, "/v1/contacts/"+contact)
		for _, ends := range [][2]string{{a, b}, {b, a}} {
			e.raceLink(&wg, map[string]any{"from_type": "activity", "from_id": ends[0], "to_type": "activity", "to_id": ends[1]})
		}
	}
	wg.Wait()
	if got := e.edges(e.Live, "limit=200"); len(got) != 0 || e.danglingAssociations() != 0 {
		t.Fatalf("edges outlived their records: %v", got)
	}
}
