package filter

import (
	"encoding/json"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// deals is a list spec with one field of every kind and metadata filters allowed.
var deals = Spec{
	MetadataColumn: "d.metadata",
	Fields: []Field{
		{Name: "title", Column: "d.title", Kind: Text},
		{Name: "email", Column: "d.email", Kind: CIText},
		{Name: "id", Column: "d.id", Kind: ID},
		{Name: "value_cents", Column: "d.value_cents", Kind: Integer},
		{Name: "close_date", Column: "d.close_date", Kind: Date},
		{Name: "created_at", Column: "d.created_at", Kind: Timestamp},
		{Name: "status", Column: "d.status", Kind: Enum, Values: []string{"open", "won", "lost"}},
		{Name: "archived", Column: "d.archived", Kind: Bool},
	},
}

// dealFields are the valid options an unknown field reports for deals.
var dealFields = []string{"title", "email", "id", "value_cents", "close_date", "created_at", "status", "archived", "metadata->>KEY"}

// binder records what Compile binds and hands out $n placeholders, as the store does.
type binder struct{ args []any }

func (b *binder) bind(v any) string {
	b.args = append(b.args, v)
	return "$" + strconv.Itoa(len(b.args))
}

// compile runs Compile on f and checks that whatever it returns is safe SQL.
func compile(t *testing.T, s Spec, f map[string]any) ([]string, []any, *Error) {
	t.Helper()
	b := &binder{}
	conds, err := s.Compile(f, b.bind)
	if err != nil {
		if len(b.args) > 0 || conds != nil {
			t.Errorf("Compile(%v) failed with %v but bound %v and returned %q", f, err, b.args, conds)
		}
		return nil, nil, err
	}
	checkSQL(t, s, conds, len(b.args))
	return conds, b.args, nil
}

// decode reads a JSON filter as an MCP server would.
func decode(t testing.TB, text string) map[string]any {
	t.Helper()
	var f map[string]any
	d := json.NewDecoder(strings.NewReader(text))
	d.UseNumber()
	if err := d.Decode(&f); err != nil {
		t.Fatalf("decode %s: %v", text, err)
	}
	return f
}

var (
	sqlPlaceholder = regexp.MustCompile(`\$[0-9]+`)
	sqlWord        = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*`)
)

// sqlKeywords are the words the package itself writes into conditions.
var sqlKeywords = []string{
	"lower", "ANY", "IS", "DISTINCT", "FROM", "ILIKE", "NOT", "OR", "AND", "CASE", "WHEN", "THEN", "ELSE", "END", "TRUE", "FALSE",
	"jsonb_typeof", "bigint", "date", "timestamptz", "jsonb", "text", "numeric",
}

// checkSQL fails t unless conds are made only of what s and the package provide: column
// expressions, placeholders (exactly nbind distinct ones, $1..$nbind), keywords, operators
// and casts. Caller input can then only reach the database as bound values.
func checkSQL(t testing.TB, s Spec, conds []string, nbind int) {
	t.Helper()
	trusted := slices.Clone(sqlKeywords)
	for _, f := range s.Fields {
		trusted = append(trusted, sqlWord.FindAllString(f.Column, -1)...)
	}
	trusted = append(trusted, sqlWord.FindAllString(s.MetadataColumn, -1)...)
	seen := map[string]bool{}
	for _, c := range conds {
		for _, p := range sqlPlaceholder.FindAllString(c, -1) {
			seen[p] = true
		}
		rest := sqlPlaceholder.ReplaceAllString(c, " ")
		rest = strings.ReplaceAll(rest, "= 'number'", " ")
		for _, w := range sqlWord.FindAllString(rest, -1) {
			if !slices.Contains(trusted, w) {
				t.Errorf("condition %q contains %q, which is not a trusted word", c, w)
			}
		}
		if strings.Trim(sqlWord.ReplaceAllString(rest, ""), " ()=<>@:[]-.") != "" {
			t.Errorf("condition %q contains characters the package does not write", c)
		}
	}
	if len(seen) != nbind {
		t.Errorf("conditions %q use %d placeholders for %d bound values", conds, len(seen), nbind)
	}
	for i := 1; i <= nbind; i++ {
		if !seen["$"+strconv.Itoa(i)] {
			t.Errorf("conditions %q never use $%d", conds, i)
		}
	}
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestKindOps(t *testing.T) {
	t.Parallel()
	want := map[Kind][]Op{
		Text:      {Eq, Neq, Ilike, In},
		CIText:    {Eq, Neq, Ilike, In},
		ID:        {Eq, Neq, In},
		Integer:   {Eq, Neq, Gt, Gte, Lt, Lte, In},
		Date:      {Eq, Neq, Gt, Gte, Lt, Lte, In},
		Timestamp: {Eq, Neq, Gt, Gte, Lt, Lte, In},
		Enum:      {Eq, Neq, In},
		Bool:      {Eq, Neq},
		Kind(99):  nil,
	}
	for k, ops := range want {
		if got := k.Ops(); !slices.Equal(got, ops) {
			t.Errorf("Kind(%d).Ops() = %v, want %v", k, got, ops)
		}
	}
}

func TestCompileValues(t *testing.T) {
	t.Parallel()
	huge := strings.Repeat("x", 1000)
	tests := []compileCase{
		{"text eq", map[string]any{"title": "Big deal"}, []string{"d.title = $1"}, []any{"Big deal"}},
		{"text eq empty", map[string]any{"title": ""}, []string{"d.title = $1"}, []any{""}},
		{"text eq 1000 bytes", map[string]any{"title": huge}, []string{"d.title = $1"}, []any{huge}},
		{"text neq", map[string]any{"title": map[string]any{"neq": "Big"}}, []string{"d.title IS DISTINCT FROM $1"}, []any{"Big"}},
		{"text ilike", map[string]any{"title": map[string]any{"ilike": `%big\%%`}}, []string{"d.title ILIKE $1"}, []any{`%big\%%`}},
		{"text ilike escaped backslash", map[string]any{"title": map[string]any{"ilike": `a\\`}}, []string{"d.title ILIKE $1"}, []any{`a\\`}},
		{"text in string", map[string]any{"title": map[string]any{"in": "a,b,,c"}}, []string{"d.title = ANY($1)"}, []any{[]string{"a", "b", "", "c"}}},
		{"text in array", map[string]any{"title": map[string]any{"in": []any{"a,b", "c"}}}, []string{"d.title = ANY($1)"}, []any{[]string{"a,b", "c"}}},
		{"text in []string", map[string]any{"title": map[string]any{"in": []string{"a"}}}, []string{"d.title = ANY($1)"}, []any{[]string{"a"}}},
		{"citext eq", map[string]any{"email": "A@X.com"}, []string{"lower(d.email) = lower($1)"}, []any{"A@X.com"}},
		{"citext neq", map[string]any{"email": map[string]any{"neq": "A@X.com"}}, []string{"lower(d.email) IS DISTINCT FROM lower($1)"}, []any{"A@X.com"}},
		{"citext ilike", map[string]any{"email": map[string]any{"ilike": "%@X.COM"}}, []string{"lower(d.email) ILIKE $1"}, []any{"%@X.COM"}},
		{"citext in", map[string]any{"email": map[string]any{"in": "A@x.com,b@X.COM"}}, []string{"lower(d.email) = ANY($1)"}, []any{[]string{"a@x.com", "b@x.com"}}},
		{"id eq", map[string]any{"id": "deal_abc"}, []string{"d.id = $1"}, []any{"deal_abc"}},
		{"id 64 chars", map[string]any{"id": strings.Repeat("é", 64)}, []string{"d.id = $1"}, []any{strings.Repeat("é", 64)}},
		{"id neq", map[string]any{"id": map[string]any{"neq": "deal_abc"}}, []string{"d.id IS DISTINCT FROM $1"}, []any{"deal_abc"}},
		{"id in", map[string]any{"id": map[string]any{"in": []any{"deal_a", "deal_b"}}}, []string{"d.id = ANY($1)"}, []any{[]string{"deal_a", "deal_b"}}},
		{"integer string", map[string]any{"value_cents": "12"}, []string{"d.value_cents = $1::bigint"}, []any{int64(12)}},
		{"integer json.Number", map[string]any{"value_cents": json.Number("12")}, []string{"d.value_cents = $1::bigint"}, []any{int64(12)}},
		{"integer json.Number 12.0", map[string]any{"value_cents": json.Number("12.0")}, []string{"d.value_cents = $1::bigint"}, []any{int64(12)}},
		{"integer float64", map[string]any{"value_cents": 12.0}, []string{"d.value_cents = $1::bigint"}, []any{int64(12)}},
		{"integer int", map[string]any{"value_cents": 12}, []string{"d.value_cents = $1::bigint"}, []any{int64(12)}},
		{"integer int64 min", map[string]any{"value_cents": int64(-1 << 63)}, []string{"d.value_cents = $1::bigint"}, []any{int64(-1 << 63)}},
		{"integer exponent", map[string]any{"value_cents": "1e3"}, []string{"d.value_cents = $1::bigint"}, []any{int64(1000)}},
		{"integer max", map[string]any{"value_cents": "9223372036854775807"}, []string{"d.value_cents = $1::bigint"}, []any{int64(1<<63 - 1)}},
		{"integer neq", map[string]any{"value_cents": map[string]any{"neq": "-5"}}, []string{"d.value_cents IS DISTINCT FROM $1::bigint"}, []any{int64(-5)}},
		{"integer range", map[string]any{"value_cents": map[string]any{"lt": 500, "gte": "100"}},
			[]string{"d.value_cents >= $1::bigint", "d.value_cents < $2::bigint"}, []any{int64(100), int64(500)}},
		{"integer gt lte", map[string]any{"value_cents": map[string]any{"gt": 1, "lte": 2}},
			[]string{"d.value_cents > $1::bigint", "d.value_cents <= $2::bigint"}, []any{int64(1), int64(2)}},
		{"integer in", map[string]any{"value_cents": map[string]any{"in": []any{1, "2", json.Number("3"), 4.0}}},
			[]string{"d.value_cents = ANY($1::bigint[])"}, []any{[]int64{1, 2, 3, 4}}},
		{"integer in string", map[string]any{"value_cents": map[string]any{"in": "1,2"}}, []string{"d.value_cents = ANY($1::bigint[])"}, []any{[]int64{1, 2}}},
		{"integer in one number", map[string]any{"value_cents": map[string]any{"in": json.Number("7")}}, []string{"d.value_cents = ANY($1::bigint[])"}, []any{[]int64{7}}},
		{"date eq", map[string]any{"close_date": "2026-01-31"}, []string{"d.close_date = $1::date"}, []any{day(2026, 1, 31)}},
		{"date neq", map[string]any{"close_date": map[string]any{"neq": "2026-01-31"}}, []string{"d.close_date IS DISTINCT FROM $1::date"}, []any{day(2026, 1, 31)}},
		{"date range", map[string]any{"close_date": map[string]any{"gt": "2026-01-01", "lte": "2026-12-31"}},
			[]string{"d.close_date > $1::date", "d.close_date <= $2::date"}, []any{day(2026, 1, 1), day(2026, 12, 31)}},
		{"date gte lt", map[string]any{"close_date": map[string]any{"gte": "2024-02-29", "lt": "2025-01-01"}},
			[]string{"d.close_date >= $1::date", "d.close_date < $2::date"}, []any{day(2024, 2, 29), day(2025, 1, 1)}},
		{"date in", map[string]any{"close_date": map[string]any{"in": "2026-01-31,2026-02-01"}},
			[]string{"d.close_date = ANY($1::date[])"}, []any{[]time.Time{day(2026, 1, 31), day(2026, 2, 1)}}},
		{"timestamp rfc3339", map[string]any{"created_at": map[string]any{"gte": "2026-01-31T09:30:00+02:00"}},
			[]string{"d.created_at >= $1::timestamptz"}, []any{time.Date(2026, 1, 31, 7, 30, 0, 0, time.UTC)}},
		{"timestamp fraction", map[string]any{"created_at": "2026-01-31T09:30:00.123456Z"},
			[]string{"d.created_at = $1::timestamptz"}, []any{time.Date(2026, 1, 31, 9, 30, 0, 123456000, time.UTC)}},
		{"timestamp date", map[string]any{"created_at": map[string]any{"lt": "2026-01-31"}}, []string{"d.created_at < $1::timestamptz"}, []any{day(2026, 1, 31)}},
		{"timestamp neq gt lte", map[string]any{"created_at": map[string]any{"neq": "2026-01-02", "gt": "2026-01-01", "lte": "2026-01-03"}},
			[]string{"d.created_at > $1::timestamptz", "d.created_at <= $2::timestamptz", "d.created_at IS DISTINCT FROM $3::timestamptz"},
			[]any{day(2026, 1, 1), day(2026, 1, 3), day(2026, 1, 2)}},
		{"timestamp in", map[string]any{"created_at": map[string]any{"in": []any{"2026-01-31", "2026-01-31T10:00:00Z"}}},
			[]string{"d.created_at = ANY($1::timestamptz[])"}, []any{[]time.Time{day(2026, 1, 31), time.Date(2026, 1, 31, 10, 0, 0, 0, time.UTC)}}},
		{"enum eq", map[string]any{"status": "won"}, []string{"d.status = $1"}, []any{"won"}},
		{"enum neq", map[string]any{"status": map[string]any{"neq": "won"}}, []string{"d.status IS DISTINCT FROM $1"}, []any{"won"}},
		{"enum in", map[string]any{"status": map[string]any{"in": "open,won"}}, []string{"d.status = ANY($1)"}, []any{[]string{"open", "won"}}},
		{"bool true", map[string]any{"archived": true}, []string{"d.archived = $1"}, []any{true}},
		{"bool string", map[string]any{"archived": "false"}, []string{"d.archived = $1"}, []any{false}},
		{"bool neq", map[string]any{"archived": map[string]any{"neq": "true"}}, []string{"d.archived IS DISTINCT FROM $1"}, []any{true}},
		{"in 100 values", map[string]any{"title": map[string]any{"in": strings.Repeat("a,", 99) + "a"}},
			[]string{"d.title = ANY($1)"}, []any{slices.Repeat([]string{"a"}, 100)}},
		{"nil filter", nil, []string{}, nil},
	}
	runCompileCases(t, tests, func(t *testing.T, f map[string]any) ([]string, []any, *Error) { return compile(t, deals, f) })
}

// compileCase is a filter and the SQL and arguments it must compile to.
type compileCase struct {
	name string
	f    map[string]any
	sql  []string
	args []any
}

// runCompileCases checks each case, in parallel subtests, with compile.
func runCompileCases(t *testing.T, tests []compileCase, compile func(*testing.T, map[string]any) ([]string, []any, *Error)) {
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sql, args, err := compile(t, tt.f)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			if !slices.Equal(sql, tt.sql) {
				t.Errorf("sql = %q, want %q", sql, tt.sql)
			}
			if !reflect.DeepEqual(args, tt.args) {
				t.Errorf("args = %#v, want %#v", args, tt.args)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	textOps := []string{"eq", "neq", "ilike", "in"}
	statuses := []string{"open", "won", "lost"}
	tests := []struct {
		name    string
		f       map[string]any
		param   string
		options []string
		message string // a part of the message
	}{
		{"unknown field", map[string]any{"colour": "red"}, "filter[colour]", dealFields, `Unknown filter field "colour"`},
		{"unknown field before bad value", map[string]any{"colour": nil, "title": 1}, "filter[colour]", dealFields, "Unknown"},
		{"field name case", map[string]any{"Title": "x"}, "filter[Title]", dealFields, "Unknown"},
		{"unknown op", map[string]any{"title": map[string]any{"gt": "a"}}, "filter[title][gt]", textOps, `Unknown filter op "gt"`},
		{"op case", map[string]any{"title": map[string]any{"EQ": "a"}}, "filter[title][EQ]", textOps, "Unknown filter op"},
		{"bool in", map[string]any{"archived": map[string]any{"in": "true"}}, "filter[archived][in]", []string{"eq", "neq"}, "Unknown filter op"},
		{"id ilike", map[string]any{"id": map[string]any{"ilike": "a%"}}, "filter[id][ilike]", []string{"eq", "neq", "in"}, "Unknown filter op"},
		{"enum gt", map[string]any{"status": map[string]any{"gt": "open"}}, "filter[status][gt]", []string{"eq", "neq", "in"}, "Unknown filter op"},
		{"date ilike", map[string]any{"close_date": map[string]any{"ilike": "2026%"}}, "filter[close_date][ilike]",
			[]string{"eq", "neq", "gt", "gte", "lt", "lte", "in"}, "Unknown filter op"},
		{"null value", map[string]any{"title": nil}, "filter[title]", nil, "has no value"},
		{"null op value", map[string]any{"title": map[string]any{"eq": nil}}, "filter[title][eq]", nil, "must be a string"},
		{"list as value", map[string]any{"title": []any{"a", "b"}}, "filter[title]", nil, `{"in": [...]}`},
		{"empty object", map[string]any{"title": map[string]any{}}, "filter[title]", nil, "empty object"},
		{"text number", map[string]any{"title": 5.0}, "filter[title]", nil, "filter[title] must be a string."},
		{"text object value", map[string]any{"title": map[string]any{"eq": map[string]any{"a": 1}}}, "filter[title][eq]", nil, "must be a string"},
		{"text too long", map[string]any{"title": strings.Repeat("x", 1001)}, "filter[title]", nil, "at most 1000 bytes"},
		{"text invalid utf-8", map[string]any{"title": "a\xffb"}, "filter[title]", nil, "valid UTF-8"},
		{"text NUL", map[string]any{"title": map[string]any{"neq": "a\x00b"}}, "filter[title][neq]", nil, "NUL"},
		{"ilike lone backslash", map[string]any{"title": map[string]any{"ilike": `100\`}}, "filter[title][ilike]", nil, "backslash"},
		{"ilike three backslashes", map[string]any{"email": map[string]any{"ilike": `a\\\`}}, "filter[email][ilike]", nil, "backslash"},
		{"ilike number", map[string]any{"title": map[string]any{"ilike": 5}}, "filter[title][ilike]", nil, "must be a string"},
		{"id empty", map[string]any{"id": ""}, "filter[id]", nil, "non-empty"},
		{"id too long", map[string]any{"id": strings.Repeat("a", 65)}, "filter[id]", nil, "at most 64 characters"},
		{"id number", map[string]any{"id": 5}, "filter[id]", nil, "must be a string"},
		{"integer word", map[string]any{"value_cents": "abc"}, "filter[value_cents]", nil, "filter[value_cents] must be an integer."},
		{"integer fraction", map[string]any{"value_cents": map[string]any{"gte": 1.5}}, "filter[value_cents][gte]", nil, "must be an integer"},
		{"integer fraction string", map[string]any{"value_cents": map[string]any{"gte": "1.5"}}, "filter[value_cents][gte]", nil, "must be an integer"},
		{"integer fraction json", map[string]any{"value_cents": map[string]any{"lt": json.Number("1.5")}}, "filter[value_cents][lt]", nil, "must be an integer"},
		{"integer overflow", map[string]any{"value_cents": "9223372036854775808"}, "filter[value_cents]", nil, "between"},
		{"integer overflow float", map[string]any{"value_cents": 1e19}, "filter[value_cents]", nil, "between"},
		{"integer overflow exponent", map[string]any{"value_cents": json.Number("1e400")}, "filter[value_cents]", nil, "between"},
		{"integer hex", map[string]any{"value_cents": "0x10"}, "filter[value_cents]", nil, "must be an integer"},
		{"integer spaces", map[string]any{"value_cents": " 1"}, "filter[value_cents]", nil, "must be an integer"},
		{"integer bool", map[string]any{"value_cents": true}, "filter[value_cents]", nil, "must be an integer"},
		{"integer in bad item", map[string]any{"value_cents": map[string]any{"in": "1,x"}}, "filter[value_cents][in]", nil, "Item 2 of filter[value_cents][in] must be an integer."},
		{"date impossible", map[string]any{"close_date": "2026-02-30"}, "filter[close_date]", nil, "must be a date like 2026-01-31"},
		{"date other format", map[string]any{"close_date": map[string]any{"gte": "31/01/2026"}}, "filter[close_date][gte]", nil, "must be a date like 2026-01-31"},
		{"date with time", map[string]any{"close_date": "2026-01-31T00:00:00Z"}, "filter[close_date]", nil, "must be a date"},
		{"date number", map[string]any{"close_date": 20260131}, "filter[close_date]", nil, "must be a date"},
		{"timestamp words", map[string]any{"created_at": "yesterday"}, "filter[created_at]", nil, "must be a timestamp like"},
		{"timestamp without zone", map[string]any{"created_at": map[string]any{"lt": "2026-01-31T09:30:00"}}, "filter[created_at][lt]", nil, "RFC 3339"},
		{"enum unknown", map[string]any{"status": "closed"}, "filter[status]", statuses, "must be one of: open, won, lost"},
		{"enum case", map[string]any{"status": map[string]any{"neq": "Open"}}, "filter[status][neq]", statuses, "must be one of"},
		{"enum in unknown", map[string]any{"status": map[string]any{"in": "open,closed"}}, "filter[status][in]", statuses, "Item 2 of filter[status][in]"},
		{"bool word", map[string]any{"archived": "yes"}, "filter[archived]", nil, "must be true or false"},
		{"bool number", map[string]any{"archived": 1}, "filter[archived]", nil, "must be true or false"},
		{"in empty string", map[string]any{"title": map[string]any{"in": ""}}, "filter[title][in]", nil, "at least one value"},
		{"in empty array", map[string]any{"id": map[string]any{"in": []any{}}}, "filter[id][in]", nil, "at least one value"},
		{"in 101 values", map[string]any{"title": map[string]any{"in": strings.Repeat("a,", 100) + "a"}}, "filter[title][in]", nil, "at most 100 values"},
		{"in 101 array", map[string]any{"title": map[string]any{"in": make([]any, 101)}}, "filter[title][in]", nil, "at most 100 values"},
		{"in nested array", map[string]any{"title": map[string]any{"in": []any{[]any{"a"}}}}, "filter[title][in]", nil, "Item 1 of"},
		{"in null item", map[string]any{"value_cents": map[string]any{"in": []any{1, nil}}}, "filter[value_cents][in]", nil, "Item 2 of"},
		{"in object", map[string]any{"title": map[string]any{"in": map[string]any{"a": "b"}}}, "filter[title][in]", nil, "JSON array or a comma-separated string"},
		{"in item too long", map[string]any{"title": map[string]any{"in": "a," + strings.Repeat("x", 1001)}}, "filter[title][in]", nil, "Item 2 of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := compile(t, deals, tt.f)
			if err == nil {
				t.Fatalf("Compile(%v) succeeded", tt.f)
			}
			if err.Param != tt.param {
				t.Errorf("Param = %q, want %q", err.Param, tt.param)
			}
			if !slices.Equal(err.ValidOptions, tt.options) {
				t.Errorf("ValidOptions = %q, want %q", err.ValidOptions, tt.options)
			}
			if !strings.Contains(err.Message, tt.message) {
				t.Errorf("Message = %q, want it to contain %q", err.Message, tt.message)
			}
		})
	}
}

func TestCompileLimitsConditions(t *testing.T) {
	t.Parallel()
	twenty := map[string]any{
		"value_cents": map[string]any{"gt": 1, "gte": 1, "lt": 9, "lte": 9, "neq": 5, "eq": 4, "in": "4"},
		"close_date":  map[string]any{"gt": "2026-01-01", "gte": "2026-01-01", "lt": "2026-02-01", "lte": "2026-02-01", "neq": "2026-01-05", "eq": "2026-01-06", "in": "2026-01-06"},
		"title":       map[string]any{"eq": "a", "neq": "b", "ilike": "c%", "in": "d"},
		"archived":    false,
		"status":      "open",
	}
	sql, _, err := compile(t, deals, twenty)
	if err != nil || len(sql) != 20 {
		t.Fatalf("20 conditions: got %d, %v", len(sql), err)
	}
	twenty["id"] = "deal_x"
	if _, _, err := compile(t, deals, twenty); err == nil || err.Param != "filter" || !strings.Contains(err.Message, "at most 20") {
		t.Errorf("21 conditions: got %v, want an error on filter", err)
	}
}

func TestCompileIsDeterministic(t *testing.T) {
	t.Parallel()
	f := decode(t, `{"value_cents":{"lt":500,"gte":100,"neq":200},"title":{"ilike":"a%","in":"x,y"},"archived":false,
		"metadata->>tier":{"neq":"3"},"metadata->>a":"b","email":"E@x.com","close_date":{"lte":"2026-12-31","gt":"2026-01-01"}}`)
	want, wantArgs, err := compile(t, deals, f)
	if err != nil {
		t.Fatal(err)
	}
	order := []string{"archived", "close_date", "close_date", "email", "metadata", "metadata", "title", "title", "value_cents", "value_cents", "value_cents"}
	if len(want) != len(order) {
		t.Fatalf("got %d conditions, want %d: %q", len(want), len(order), want)
	}
	for i, field := range order {
		if !strings.Contains(want[i], field) {
			t.Errorf("condition %d = %q, want it on %s", i, want[i], field)
		}
	}
	if !strings.Contains(want[1], ">") || !strings.Contains(want[2], "<=") || !strings.Contains(want[9], "<") {
		t.Errorf("ops are not sorted within fields: %q", want)
	}
	for range 50 {
		got, args, _ := compile(t, deals, f)
		if !slices.Equal(got, want) || !reflect.DeepEqual(args, wantArgs) {
			t.Fatalf("Compile is not deterministic: %q %v, then %q %v", want, wantArgs, got, args)
		}
	}
	errFilter := map[string]any{"zz": 1, "aa": 1, "title": 1}
	for range 50 {
		if _, _, err := compile(t, deals, errFilter); err == nil || err.Param != "filter[aa]" {
			t.Fatalf("first error is not the first field: %v", err)
		}
	}
}

func TestCompileKeepsInputOutOfSQL(t *testing.T) {
	t.Parallel()
	f := map[string]any{
		"title":                map[string]any{"eq": "x' OR 1=1; --", "ilike": "%DROP TABLE deals%", "in": "evil1,evil2"},
		"email":                "Robert'); DROP TABLE students;--@x.com",
		"status":               map[string]any{"in": []any{"won"}},
		"metadata->>secretkey": map[string]any{"eq": "payload1", "neq": "424242", "ilike": "payload2%", "gt": "98765", "in": "payload3,true"},
	}
	sql, args, err := compile(t, deals, f)
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(sql, " AND ")
	for _, s := range []string{"OR 1=1", "DROP", "evil", "Robert", "won", "secretkey", "payload", "424242", "98765", "true"} {
		if strings.Contains(all, s) {
			t.Errorf("SQL %q contains the input %q", all, s)
		}
	}
	if len(args) == 0 {
		t.Error("nothing was bound")
	}
}

func TestErrorString(t *testing.T) {
	t.Parallel()
	err := &Error{Param: "filter[x]", Message: "Bad."}
	if got := err.Error(); got != "filter[x]: Bad." {
		t.Errorf("Error() = %q", got)
	}
}

func TestUnknownFieldQuotesLongNames(t *testing.T) {
	t.Parallel()
	name := strings.Repeat("é", 100)
	_, _, err := compile(t, deals, map[string]any{name: 1})
	if err == nil || err.Param != "filter["+name+"]" || len(err.Message) > 200 {
		t.Errorf("got %v", err)
	}
}

// recorder is a testing.TB that notes failures instead of reporting them.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Errorf(string, ...any) { r.failed = true }

// TestCheckSQLCatchesSplicing makes sure the safety check the fuzzers rely on can fail.
func TestCheckSQLCatchesSplicing(t *testing.T) {
	t.Parallel()
	bad := [][]string{
		{"d.title = 'x'"},
		{"d.title = $1; DROP TABLE deals"},
		{"d.title = secret"},
		{"d.title = $1", "d.id = $3"},
		{"d.title = 5"},
	}
	for _, conds := range bad {
		r := &recorder{TB: t}
		checkSQL(r, deals, conds, 2)
		if !r.failed {
			t.Errorf("checkSQL accepted %q", conds)
		}
	}
	r := &recorder{TB: t}
	checkSQL(r, deals, []string{"d.title = $1", "d.id IS DISTINCT FROM $2"}, 2)
	if r.failed {
		t.Error("checkSQL rejected safe conditions")
	}
}
