package dashboard_test

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// idOf is the id of the first record of prefix (con, cmp, deal, act) linked from the page.
func idOf(t *testing.T, p page, prefix string) string {
	t.Helper()
	m := regexp.MustCompile(`/[a-z]+/(` + prefix + `_[a-z2-7]{26})"`).FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no %s_ link on %s:\n%s", prefix, p.URL, p.Body)
	}
	return m[1]
}

// nextLink is the page's Next page link, "" for none.
func nextLink(p page) string {
	m := regexp.MustCompile(`<a href="([^"]+)" rel="next">`).FindStringSubmatch(p.Body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// TestRecordLists: each kind's list renders; a record made with the create form is listed
// and links to its page; filters and search narrow the list; an invalid create writes nothing.
func TestRecordLists(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := e.owner("rita@example.com", "Records")
	must(t, b.post("/actions/create_company", url.Values{"name": {"Acme Corp"}, "domain": {"acme.example"},
		"back": {"/companies"}, "_done": {"The company was created."}}), http.StatusOK, "The company was created.", "Acme Corp", "acme.example")
	cmp := idOf(t, b.get("/companies"), "cmp")
	for _, c := range [][3]string{{"Ada", "Lovelace", "ada@example.com"}, {"Alan", "Turing", "alan@example.com"}} {
		must(t, b.post("/actions/create_contact", url.Values{"first_name": {c[0]}, "last_name": {c[1]}, "email": {c[2]},
			"company_id": {cmp}, "back": {"/contacts"}, "_done": {"The contact was created."}}), http.StatusOK, "The contact was created.")
	}
	p := b.get("/contacts")
	must(t, p, http.StatusOK, "Ada Lovelace", "Alan Turing", `href="/companies/`+cmp+`"`, `aria-current="page">Contacts`)

	must(t, b.get("/contacts?last_name=lov"), http.StatusOK, "Ada Lovelace")
	if p := b.get("/contacts?last_name=lov"); strings.Contains(p.Body, "Alan Turing") {
		t.Fatal("the last-name filter kept Alan Turing")
	}
	if p := b.get("/contacts?email=alan%40example.com"); !strings.Contains(p.Body, "Alan Turing") || strings.Contains(p.Body, "Ada Lovelace") {
		t.Fatalf("the email filter: %s", p.Body)
	}
	if p := b.get("/contacts?q=ada"); !strings.Contains(p.Body, "Ada Lovelace") || strings.Contains(p.Body, "Alan Turing") {
		t.Fatalf("search for ada: %s", p.Body)
	}
	must(t, b.get("/contacts?company_id=nope"), http.StatusOK, `role="alert"`)
	must(t, b.get("/companies/"+cmp), http.StatusOK, "<h1>Acme Corp</h1>", `href="/contacts?company_id=`+cmp+`"`)
	must(t, b.get("/contacts?company_id="+cmp), http.StatusOK, "Ada Lovelace", "Alan Turing")

	// A bad email: the capability's message comes back, and nothing is written.
	p = b.post("/actions/create_contact", url.Values{"first_name": {"Bad"}, "email": {"not-an-email"}, "back": {"/contacts"}})
	must(t, p, http.StatusOK, "flash-error", "email must be a valid email")
	if strings.Contains(p.Body, ">Bad<") || strings.Count(p.Body, `href="/contacts/con_`) != 2 {
		t.Fatalf("an invalid contact was listed:\n%s", p.Body)
	}

	must(t, b.post("/actions/create_deal", url.Values{"title": {"Big deal"}, "value_cents": {"1250000"}, "company_id": {cmp},
		"back": {"/deals"}}), http.StatusOK, "Big deal", "12,500.00 USD", `aria-current="page">Deals`)
	must(t, b.get("/deals?title=big"), http.StatusOK, "Big deal")
	must(t, b.get("/deals?title=small"), http.StatusOK, "No deals found.")
	must(t, b.get("/deals?q=big"), http.StatusOK, "Big deal")
	must(t, b.post("/actions/log_activity", url.Values{"type": {"call"}, "subject": {"Intro call"}, "company_id": {cmp}, "back": {"/activities"}}),
		http.StatusOK, "Intro call", `aria-current="page">Activities`)
	must(t, b.get("/activities?type=call"), http.StatusOK, "Intro call")
	must(t, b.get("/activities?type=note"), http.StatusOK, "No activities found.")
	must(t, b.get("/activities/"+idOf(t, b.get("/activities"), "act")), http.StatusOK, "<h1>Intro call</h1>", `href="/companies/`+cmp+`"`,
		`<option selected>call</option>`)
	must(t, b.get("/companies?name=acm"), http.StatusOK, "Acme Corp")
}

// TestRecordPaging: Next page links follow the cursor, keeping the filters, to the end.
func TestRecordPaging(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := e.owner("pat@example.com", "Paging")
	for _, name := range []string{"Pa1", "Pa2", "Pa3", "Pa4", "Pa5", "Other"} {
		must(t, b.post("/actions/create_company", url.Values{"name": {name}, "back": {"/companies"}}), http.StatusOK)
	}
	seen := map[string]bool{}
	path := "/companies?name=pa&limit=2"
	for pages := 0; path != ""; pages++ {
		if pages > 3 {
			t.Fatal("too many pages")
		}
		p := b.get(path)
		must(t, p, http.StatusOK)
		if pages > 0 {
			must(t, p, http.StatusOK, `<a href="/companies?limit=2&amp;name=pa">First page</a>`)
		}
		for _, m := range regexp.MustCompile(`>(Pa\d|Other)</a>`).FindAllStringSubmatch(p.Body, -1) {
			if seen[m[1]] {
				t.Fatalf("%s on two pages", m[1])
			}
			seen[m[1]] = true
		}
		path = nextLink(p)
		if path != "" && !strings.Contains(path, "name=pa") {
			t.Fatalf("the next link dropped the filter: %s", path)
		}
	}
	if len(seen) != 5 || seen["Other"] {
		t.Fatalf("paged through %v", seen)
	}
}

// TestRecordDetail: a record's page shows every field and its custom fields; the edit form
// changes and clears fields; delete removes it and goes back to the list.
func TestRecordDetail(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := e.owner("dora@example.com", "Detail")
	must(t, b.post("/actions/create_contact", url.Values{"first_name": {"Grace"}, "last_name": {"Hopper"}, "phone": {"+1 555 0100"},
		"metadata": {`{"tier": "gold"}`}, "back": {"/contacts"}}), http.StatusOK)
	id := idOf(t, b.get("/contacts"), "con")
	p := b.get("/contacts/" + id)
	must(t, p, http.StatusOK, "<h1>Grace Hopper</h1>", "555 0100", "tier", "gold", id, `name="expected_version" value="1"`)

	p = b.post("/contacts/"+id, url.Values{"expected_version": {"1"}, "first_name": {"Grace M."}, "last_name": {"Hopper"},
		"phone": {""}, "metadata": {`{"tier": null, "team": "navy"}`}})
	must(t, p, http.StatusOK, "Saved.", "Grace M. Hopper", "navy")
	if strings.Contains(p.Body, "555 0100") || strings.Contains(p.Body, "<dd>gold</dd>") {
		t.Fatalf("the emptied phone or removed key stayed:\n%s", p.Body)
	}
	// A stale version is refused with the capability's message.
	must(t, b.post("/contacts/"+id, url.Values{"expected_version": {"1"}, "first_name": {"Late"}}), http.StatusOK, "flash-error", "Grace M. Hopper")

	p = b.post("/actions/delete_contact", url.Values{"id": {id}, "back": {"/contacts"}, "_done": {"The contact was deleted."}})
	must(t, p, http.StatusOK, "The contact was deleted.", "No contacts found.")
	if p.URL != "/contacts" {
		t.Fatalf("after delete at %s", p.URL)
	}
	must(t, b.get("/contacts/"+id), http.StatusNotFound, "role=\"alert\"")
}

// TestDealBoard: the board shows a pipeline's deals in their stage columns; moving one with
// its form changes its stage and records a deal.stage_changed event.
func TestDealBoard(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := e.owner("bo@example.com", "Board")
	must(t, b.post("/actions/create_deal", url.Values{"title": {"Rocket"}, "value_cents": {"99"}, "back": {"/deals"}}), http.StatusOK)
	deal := idOf(t, b.get("/deals"), "deal")
	p := b.get("/board")
	must(t, p, http.StatusOK, `aria-current="page">Deal board`, `data-deal="`+deal+`"`, "0.99 USD", `action="/actions/move_deal_stage"`)
	cols := regexp.MustCompile(`data-stage="([^"]+)"`).FindAllStringSubmatch(p.Body, -1)
	if len(cols) < 2 {
		t.Fatalf("want 2+ stage columns:\n%s", p.Body)
	}
	first, second := cols[0][1], cols[1][1]
	if i := strings.Index(p.Body, `data-deal="`+deal+`"`); i < strings.Index(p.Body, `data-stage="`+first+`"`) ||
		i > strings.Index(p.Body, `data-stage="`+second+`"`) {
		t.Fatalf("the new deal is not in the first stage %s", first)
	}
	back := regexp.MustCompile(`name="back" value="(/board\?pipeline=[^"]+)"`).FindStringSubmatch(p.Body)
	if back == nil {
		t.Fatalf("no back field on the board")
	}
	p = b.post("/actions/move_deal_stage", url.Values{"id": {deal}, "stage": {second}, "back": {html.UnescapeString(back[1])}})
	must(t, p, http.StatusOK, "Done.")
	if i := strings.Index(p.Body, `data-deal="`+deal+`"`); i < strings.Index(p.Body, `data-stage="`+second+`"`) {
		t.Fatalf("the deal did not move to %s:\n%s", second, p.Body)
	}
	must(t, b.get("/deals/"+deal), http.StatusOK, second, "Rocket")
	pipeline := strings.TrimPrefix(html.UnescapeString(back[1]), "/board?pipeline=")
	must(t, b.get("/deals?pipeline="+pipeline+"&stage="+second), http.StatusOK, "Rocket")
	must(t, b.get("/deals?stage="+first), http.StatusOK, "No deals found.")

	p = b.post("/api-keys", url.Values{"mode": {"test"}})
	m := regexp.MustCompile(`value="(sk_test_[^"]+)" data-testid="new-secret"`).FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no new key:\n%s", p.Body)
	}
	req, _ := http.NewRequest(http.MethodGet, e.URL+"/v1/events?type=deal.stage_changed", nil)
	req.Header.Set("Authorization", "Bearer "+m[1])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var events struct{ Data []map[string]any }
	if err := json.NewDecoder(res.Body).Decode(&events); err != nil || len(events.Data) != 1 {
		t.Fatalf("events: %v %v", events, err)
	}
	if s, _ := json.Marshal(events.Data[0]); !strings.Contains(string(s), deal) {
		t.Fatalf("the event is not about the deal: %s", s)
	}
}

// TestMemberCreatesRecords: a member (not an owner or admin) creates records.
func TestMemberCreatesRecords(t *testing.T) {
	t.Parallel()
	e := setup(t)
	owner := e.owner("olga@example.com", "Team")
	must(t, owner.post("/members/invite", url.Values{"email": {"mo@example.com"}, "role": {"member"}}), http.StatusOK, "Invitation sent")
	u, _ := url.Parse(linkIn(t, e, e.mailTo("mo@example.com")))
	m := e.signIn("mo@example.com")
	must(t, m.post("/invitations/accept", url.Values{"token": {u.Query().Get("token")}}), http.StatusOK, "You joined the workspace.")
	must(t, m.post("/actions/create_company", url.Values{"name": {"Member Co"}, "back": {"/companies"}}), http.StatusOK, "Done.", "Member Co")
	must(t, owner.get("/companies"), http.StatusOK, "Member Co")
}
