package filter

import (
	"net/url"
	"reflect"
	"testing"
)

func TestFromQuery(t *testing.T) {
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
			f, rest, ferr := FromQuery(q)
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

func TestFromQueryErrors(t *testing.T) {
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
			f, rest, err := FromQuery(tt.query)
			if err == nil {
				t.Fatalf("FromQuery(%v) = %v, %v; want an error", tt.query, f, rest)
			}
			if err.Param != tt.param || err.Message == "" {
				t.Errorf("error = %+v, want Param %q and a message", err, tt.param)
			}
		})
	}
}

// TestFromQueryThenCompile follows a REST request through both steps.
func TestFromQueryThenCompile(t *testing.T) {
	t.Parallel()
	q, _ := url.ParseQuery("filter[value_cents][gte]=100&filter[value_cents][lt]=500&filter[status]=open&filter[metadata->>tier]=3&limit=5")
	f, rest, err := FromQuery(q)
	if err != nil {
		t.Fatal(err)
	}
	sql, args, err := compile(t, deals, f)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"(d.metadata @> $1::jsonb OR d.metadata @> $2::jsonb)",
		"d.status = $3",
		"d.value_cents >= $4::bigint",
		"d.value_cents < $5::bigint",
	}
	if !reflect.DeepEqual(sql, want) || len(args) != 5 || rest.Get("limit") != "5" {
		t.Errorf("got %q %v %v", sql, args, rest)
	}
	q, _ = url.ParseQuery("filter[value_cents][gte]=abc")
	f, _, _ = FromQuery(q)
	if _, _, err := compile(t, deals, f); err == nil || err.Param != "filter[value_cents][gte]" {
		t.Errorf("bad value: got %v", err)
	}
}

func cloneValues(q url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	return out
}
