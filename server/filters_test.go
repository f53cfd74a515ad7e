package server_test

import (
	"net/http"
	"net/url"
	"testing"
)

func TestListFilters(t *testing.T) {
	t.Parallel()
	e := setup(t)
	acme := e.create("companies", e.Live, map[string]any{"name": "Acme", "domain": "Acme.com"})
	small := e.create("deals", e.Live, map[string]any{"title": "Small", "value_cents": 50000, "stage": "won", "close_date": "2026-01-15", "metadata": map[string]any{"seats": 3, "plan": "pro"}})
	big := e.create("deals", e.Live, map[string]any{"title": "Big", "value_cents": 2000000, "stage": "won", "company_id": acme, "close_date": "2026-06-30", "metadata": map[string]any{"seats": 40, "plan": "enterprise"}})
	lost := e.create("deals", e.Live, map[string]any{"title": "Lost one", "value_cents": 900000, "stage": "lost", "metadata": map[string]any{"seats": "many"}})
	none := e.create("deals", e.Live, map[string]any{"title": "No value"})

	for _, c := range []struct {
		query string
		want  []string
	}{
		{"filter[stage]=won&filter[value_cents][gte]=1000000", []string{big}},
		{"stage=won", []string{small, big}},
		{"filter[stage][neq]=won", []string{lost, none}},
		{"filter[stage][in]=won,lost", []string{small, big, lost}},
		{"filter[value_cents][lt]=1000000", []string{small, lost}},
		{"filter[value_cents][gt]=50000&filter[value_cents][lte]=900000", []string{lost}},
		{"filter[value_cents][in]=50000,2000000", []string{small, big}},
		{"filter[title][ilike]=%25ONE%25", []string{lost}},
		{"filter[title]=Big", []string{big}},
		{"filter[close_date][gte]=2026-02-01", []string{big}},
		{"filter[close_date][lt]=2026-02-01", []string{small}},
		{"filter[company_id]=" + acme, []string{big}},
		{"company_id=" + acme, []string{big}},
		{"filter[metadata->>plan]=pro", []string{small}},
		{"filter[metadata->>seats][gte]=10", []string{big}},
		{"filter[metadata->>seats]=3", []string{small}},
		{"filter[metadata->>seats][in]=3,many", []string{small, lost}},
		{"filter[metadata->>plan][ilike]=ENT%25", []string{big}},
		{"filter[created_at][gte]=2000-01-01", []string{small, big, lost, none}},
		{"filter[created_at][lt]=2000-01-01T00:00:00Z", nil},
		{"title=Big", []string{big}},
	} {
		r := e.call("GET", "/v1/deals?"+c.query, e.Live, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("%s: %d %s", c.query, r.Status, r.Raw)
		}
		if got := ids(r); !sameSet(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.query, got, c.want)
		}
	}

	// The MCP tool takes the same filters as a structured argument and gives the same answer.
	cs := e.mcpSession(e.Live, "2025-06-18")
	res := decode(t, text(t, tool(t, cs, "list_deals", map[string]any{"stage": "won",
		"filter": map[string]any{"value_cents": map[string]any{"gte": 1000000}, "metadata->>plan": "enterprise"}})))
	if data := res["data"].([]any); len(data) != 1 || data[0].(map[string]any)["id"] != big {
		t.Fatalf("MCP filter: %v", res)
	}
	// Companies: case-insensitive domain.
	if got := ids(e.call("GET", "/v1/companies?domain=ACME.COM", e.Live, nil).must(t, 200)); !equal(got, []string{acme}) {
		t.Fatalf("domain filter: %v", got)
	}
}

func TestBadFilters(t *testing.T) {
	t.Parallel()
	e := setup(t)
	cs := e.mcpSession(e.Live, "2025-06-18")
	for _, c := range []struct {
		query  string
		mcp    map[string]any // the same filter as an MCP argument
		param  string
		option string // one of valid_options
	}{
		{"filter[colour]=red", map[string]any{"colour": "red"}, "filter[colour]", "value_cents"},
		{"filter[value_cents][about]=5", map[string]any{"value_cents": map[string]any{"about": 5}}, "filter[value_cents][about]", "gte"},
		{"filter[value_cents][gte]=lots", map[string]any{"value_cents": map[string]any{"gte": "lots"}}, "filter[value_cents][gte]", ""},
		{"filter[close_date][lt]=soon", map[string]any{"close_date": map[string]any{"lt": "soon"}}, "filter[close_date][lt]", ""},
		{"filter[title][gt]=a", map[string]any{"title": map[string]any{"gt": "a"}}, "filter[title][gt]", "ilike"},
		{"filter[stage][in]=", map[string]any{"stage": map[string]any{"in": []any{}}}, "filter[stage][in]", ""},
		{"filter[metadata->>bad key]=1", map[string]any{"metadata->>bad key": "1"}, "filter[metadata->>bad key]", ""},
		{url.Values{"filter[title]": {"'; DROP TABLE deals; --"}, "filter[stage][ilike]": {"'"}}.Encode(), nil, "", ""},
	} {
		r := e.call("GET", "/v1/deals?"+escapeQuery(c.query), e.Live, nil)
		if c.param == "" { // SQL-looking values are just values
			r.must(t, http.StatusOK)
			continue
		}
		eb := expectError(t, r, http.StatusBadRequest, "invalid_filter", c.param)
		if c.option != "" && !contains(strs(eb["valid_options"]), c.option) {
			t.Fatalf("%s: valid_options %v lack %s", c.query, eb["valid_options"], c.option)
		}
		res := tool(t, cs, "list_deals", map[string]any{"filter": c.mcp})
		me := decode(t, text(t, res))["error"].(map[string]any)
		if !res.IsError || me["code"] != "invalid_filter" || me["param"] != c.param || me["message"] != eb["message"] {
			t.Fatalf("MCP answers %v differently from REST %v", me, eb)
		}
	}
	e.call("GET", "/v1/deals", e.Live, nil).must(t, http.StatusOK) // the table is still there
}

func escapeQuery(q string) string {
	vals, err := url.ParseQuery(q)
	if err != nil {
		panic(err)
	}
	return vals.Encode()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
