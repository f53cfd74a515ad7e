package tools

import (
	"maps"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/relmcrm/relm/store"
)

func TestFilterFromQuery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		query  string
		filter map[string]any
		rest   url.Values
	}{
		{"none", "limit=10&cursor=abc", map[string]any{}, url.Values{"limit": {"10"}, "cursor": {"abc"}}},
		{"shorthand", "filter[status]=open&limit=10", map[string]any{"status": "open"}, url.Values{"limit": {"10"}}},
		{"op", "filter[value_cents][gte]=100", map[string]any{"value_cents": map[string]any{"gte": "100"}}, url.Values{}},
		{"several ops", "filter[value_cents][gte]=100&filter[value_cents][lt]=500",
			map[string]any{"value_cents": map[string]any{"gte": "100", "lt": "500"}}, url.Values{}},
		{"shorthand and op", "filter[status][neq]=won&filter[status]=open",
			map[string]any{"status": map[string]any{"eq": "open", "neq": "won"}}, url.Values{}},
		{"several fields", "filter[status]=open&filter[title][ilike]=%25big%25",
			map[string]any{"status": "open", "title": map[string]any{"ilike": "%big%"}}, url.Values{}},
		{"in", "filter[status][in]=open,won", map[string]any{"status": map[string]any{"in": "open,won"}}, url.Values{}},
		{"empty value", "filter[title]=", map[string]any{"title": ""}, url.Values{}},
		{"metadata", "filter[metadata->>tier]=vip&filter[metadata->>score][gt]=3",
			map[string]any{"metadata->>tier": "vip", "metadata->>score": map[string]any{"gt": "3"}}, url.Values{}},
		{"escaped brackets", "filter%5Bstatus%5D=open", map[string]any{"status": "open"}, url.Values{}},
		{"unknown op kept for Compile", "filter[status][like]=o", map[string]any{"status": map[string]any{"like": "o"}}, url.Values{}},
		{"lookalikes pass through", "filters[a]=1&xfilter[a]=2&filter]=3&Filter[a]=4",
			map[string]any{}, url.Values{"filters[a]": {"1"}, "xfilter[a]": {"2"}, "filter]": {"3"}, "Filter[a]": {"4"}}},
		{"repeated other params pass through", "tag=a&tag=b&filter[id]=x", map[string]any{"id": "x"}, url.Values{"tag": {"a", "b"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			before := cloneValues(q)
			f, rest, ferr := FilterFromQuery(q)
			if ferr != nil {
				t.Fatalf("FromQuery: %v", ferr)
			}
			if !reflect.DeepEqual(f, tt.filter) {
				t.Errorf("filter = %#v, want %#v", f, tt.filter)
			}
			if !reflect.DeepEqual(rest, tt.rest) {
				t.Errorf("rest = %#v, want %#v", rest, tt.rest)
			}
			if !reflect.DeepEqual(q, before) {
				t.Errorf("FromQuery modified its input: %v, was %v", q, before)
			}
			for k := range rest {
				rest[k][0] = "changed"
			}
			if !reflect.DeepEqual(q, before) {
				t.Error("the remaining parameters share storage with the input")
			}
		})
	}
}

func TestFilterFromQueryErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		query url.Values
		param string
	}{
		{"unclosed", url.Values{"filter[": {"x"}}, "filter["},
		{"unclosed name", url.Values{"filter[a": {"x"}}, "filter[a"},
		{"three parts", url.Values{"filter[a][b][c]": {"x"}}, "filter[a][b][c]"},
		{"four parts", url.Values{"filter[a][b][c][d]": {"x"}}, "filter[a][b][c][d]"},
		{"empty name", url.Values{"filter[]": {"x"}}, "filter[]"},
		{"empty op", url.Values{"filter[a][]": {"x"}}, "filter[a][]"},
		{"bare filter", url.Values{"filter": {"status=open"}}, "filter"},
		{"text after brackets", url.Values{"filter[a]b": {"x"}}, "filter[a]b"},
		{"nested bracket", url.Values{"filter[a[b]]": {"x"}}, "filter[a[b]]"},
		{"stray bracket", url.Values{"filter[a]]": {"x"}}, "filter[a]]"},
		{"given twice", url.Values{"filter[a]": {"x", "y"}}, "filter[a]"},
		{"op given twice", url.Values{"filter[a][gt]": {"1", "2"}}, "filter[a][gt]"},
		{"no value", url.Values{"filter[a]": {}}, "filter[a]"},
		{"eq given two ways", url.Values{"filter[a]": {"x"}, "filter[a][eq]": {"y"}}, "filter[a][eq]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, rest, err := FilterFromQuery(tt.query)
			if err == nil {
				t.Fatalf("FilterFromQuery(%v) = %v, %v; want an error", tt.query, f, rest)
			}
			if err.Param != tt.param || err.Message == "" || err.Code != CodeInvalidFilter {
				t.Errorf("error = %+v, want %s with Param %q and a message", err, CodeInvalidFilter, tt.param)
			}
		})
	}
}

// TestFilterFromQueryThenCompile follows a REST request through both steps: the query
// string to the structured filter here, the structured filter to SQL in the store.
func TestFilterFromQueryThenCompile(t *testing.T) {
	t.Parallel()
	q, _ := url.ParseQuery("filter[value_cents][gte]=100&filter[value_cents][lt]=500&filter[title]=big&filter[metadata->>tier]=3&limit=5")
	f, rest, err := FilterFromQuery(q)
	if err != nil {
		t.Fatal(err)
	}
	var args []any
	bind := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	sql, ferr := store.Deals.Filters.Compile(f, bind)
	if ferr != nil {
		t.Fatal(ferr)
	}
	want := []string{
		"(metadata @> $1::jsonb OR metadata @> $2::jsonb)",
		"title = $3",
		"value_cents >= $4::bigint",
		"value_cents < $5::bigint",
	}
	if !reflect.DeepEqual(sql, want) || len(args) != 5 || rest.Get("limit") != "5" {
		t.Errorf("got %q %v %v", sql, args, rest)
	}
	q, _ = url.ParseQuery("filter[value_cents][gte]=abc")
	f, _, _ = FilterFromQuery(q)
	if _, ferr := store.Deals.Filters.Compile(f, bind); ferr == nil || ferr.Param != "filter[value_cents][gte]" {
		t.Errorf("bad value: got %v", ferr)
	}
}

func FuzzFilterFromQuery(f *testing.F) {
	for _, seed := range []string{
		"filter[status]=open&limit=10",
		"filter[value_cents][gte]=100&filter[value_cents][lt]=500",
		"filter[metadata->>tier]=3&filter[metadata->>score][gt]=1.5",
		"filter[metadata->>tier][in]=a,true,3&filter[metadata->>t][ilike]=%25x",
		"filter[title][ilike]=%25a%5C&filter[email][in]=A,B",
		"filter[close_date][in]=2026-01-31,2026-02-30&filter[created_at][lt]=2026-01-31T09:30:00Z",
		"filter[archived]=true&filter[archived][neq]=false&filter[id]=deal_x",
		"filter[a][b][c]=1&filter[=2&filter[]=3",
		"filter[status]=a&filter[status]=b&filter[status][eq]=c",
		"filter[title]=%FF%00&filter[metadata->>a%20b]=1",
		"filter[value_cents]=9223372036854775808&filter[value_cents][in]=1,,2",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, _ := url.ParseQuery(raw) // keeps the well-formed pairs of a malformed query
		before := cloneValues(q)
		filter, rest, err := FilterFromQuery(q)
		if !maps.EqualFunc(q, before, slices.Equal) {
			t.Fatalf("FilterFromQuery modified its input")
		}
		if err != nil {
			if err.Param == "" || err.Message == "" || filter != nil || rest != nil {
				t.Fatalf("FilterFromQuery(%q): %+v, %v, %v", raw, err, filter, rest)
			}
			return
		}
		for k := range rest {
			if k == "filter" || strings.HasPrefix(k, "filter[") {
				t.Fatalf("filter parameter %q left in the rest", k)
			}
		}
		var n int
		conds, ferr := store.Deals.Filters.Compile(filter, func(any) string { n++; return "$" + strconv.Itoa(n) })
		if ferr != nil && (ferr.Param == "" || ferr.Message == "" || conds != nil) {
			t.Fatalf("Compile(%#v): error %+v, returned %q", filter, ferr, conds)
		}
	})
}

func cloneValues(q url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	return out
}
