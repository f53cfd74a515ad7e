package filter

import (
	"slices"
	"strings"
	"testing"
)

// typedDeals is deals with custom-field types for some metadata keys.
var typedDeals = func() Spec {
	s := deals
	s.MetadataFields = map[string]MetadataField{
		"seats":   {Kind: Number},
		"renewal": {Kind: Date},
		"plan":    {Kind: Enum, Values: []string{"free", "pro"}},
		"active":  {Kind: Bool},
		"note":    {Kind: Text},
	}
	return s
}()

// compileTyped is compile for typedDeals, whose date conditions also hold the trusted
// date pattern and collation, which checkSQL does not know.
func compileTyped(t *testing.T, f map[string]any) ([]string, []any, *Error) {
	t.Helper()
	b := &binder{}
	conds, err := typedDeals.Compile(f, b.bind)
	if err != nil {
		if len(b.args) > 0 || conds != nil {
			t.Errorf("Compile(%v) failed with %v but bound %v and returned %q", f, err, b.args, conds)
		}
		return nil, nil, err
	}
	plain := make([]string, len(conds))
	for i, c := range conds {
		c = strings.ReplaceAll(c, " ~ "+datePattern, "")
		plain[i] = strings.ReplaceAll(c, ` COLLATE "C"`, "")
	}
	checkSQL(t, typedDeals, plain, len(b.args))
	return conds, b.args, nil
}

func TestNumberKindOps(t *testing.T) {
	t.Parallel()
	if got := Number.Ops(); !slices.Equal(got, []Op{Eq, Neq, Gt, Gte, Lt, Lte, In}) {
		t.Errorf("Number.Ops() = %v", got)
	}
}

func TestCompileTypedMetadata(t *testing.T) {
	t.Parallel()
	tests := []compileCase{
		{"number eq matches numbers only", map[string]any{"metadata->>seats": "10"}, []string{"d.metadata @> $1::jsonb"}, []any{`{"seats":10}`}},
		{"number neq", map[string]any{"metadata->>seats": map[string]any{"neq": 2.5}}, []string{"NOT (d.metadata @> $1::jsonb)"}, []any{`{"seats":2.5}`}},
		{"number in", map[string]any{"metadata->>seats": map[string]any{"in": "1,2"}}, []string{"d.metadata @> ANY($1::jsonb[])"}, []any{[]string{`{"seats":1}`, `{"seats":2}`}}},
		{"number gte", map[string]any{"metadata->>seats": map[string]any{"gte": "10"}}, []string{numberRangeSQL("$1", ">=", "$2")}, []any{"seats", "10"}},
		{"date eq", map[string]any{"metadata->>renewal": "2026-12-31"}, []string{"d.metadata @> $1::jsonb"}, []any{`{"renewal":"2026-12-31"}`}},
		{"date lt compares as text of dates", map[string]any{"metadata->>renewal": map[string]any{"lt": "2027-01-01"}},
			[]string{`((d.metadata->>$1::text) COLLATE "C" < $2::text AND CASE WHEN (d.metadata->>$1::text) ~ ` + datePattern +
				` THEN TRUE ELSE FALSE END)`}, []any{"renewal", "2027-01-01"}},
		{"date in", map[string]any{"metadata->>renewal": map[string]any{"in": []any{"2026-01-01"}}}, []string{"d.metadata @> ANY($1::jsonb[])"}, []any{[]string{`{"renewal":"2026-01-01"}`}}},
		{"select eq", map[string]any{"metadata->>plan": "pro"}, []string{"d.metadata @> $1::jsonb"}, []any{`{"plan":"pro"}`}},
		{"bool eq from a string", map[string]any{"metadata->>active": "true"}, []string{"d.metadata @> $1::jsonb"}, []any{`{"active":true}`}},
		{"text eq is a string only", map[string]any{"metadata->>note": "3"}, []string{"d.metadata @> $1::jsonb"}, []any{`{"note":"3"}`}},
		{"text ilike", map[string]any{"metadata->>note": map[string]any{"ilike": "a%"}}, []string{"(d.metadata->>$1::text) ILIKE $2"}, []any{"note", "a%"}},
		{"untyped key unchanged", map[string]any{"metadata->>other": "3"},
			[]string{"(d.metadata @> $1::jsonb OR d.metadata @> $2::jsonb)"}, []any{`{"other":"3"}`, `{"other":3}`}},
	}
	runCompileCases(t, tests, compileTyped)
}

func TestCompileTypedMetadataErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		f       map[string]any
		param   string
		options []string
		message string
	}{
		{"number word", map[string]any{"metadata->>seats": "ten"}, "filter[metadata->>seats]", nil, "must be a number"},
		{"number ilike", map[string]any{"metadata->>seats": map[string]any{"ilike": "1%"}}, "filter[metadata->>seats][ilike]",
			[]string{"eq", "neq", "gt", "gte", "lt", "lte", "in"}, "Unknown filter op"},
		{"date word", map[string]any{"metadata->>renewal": map[string]any{"lt": "soon"}}, "filter[metadata->>renewal][lt]", nil, "must be a date"},
		{"date impossible", map[string]any{"metadata->>renewal": "2026-02-30"}, "filter[metadata->>renewal]", nil, "must be a date"},
		{"select unknown option", map[string]any{"metadata->>plan": "Pro"}, "filter[metadata->>plan]", []string{"free", "pro"}, "must be one of: free, pro"},
		{"select in unknown option", map[string]any{"metadata->>plan": map[string]any{"in": "pro,gold"}}, "filter[metadata->>plan][in]", []string{"free", "pro"}, "Item 2"},
		{"select gt", map[string]any{"metadata->>plan": map[string]any{"gt": "a"}}, "filter[metadata->>plan][gt]", []string{"eq", "neq", "in"}, "Unknown filter op"},
		{"bool word", map[string]any{"metadata->>active": "yes"}, "filter[metadata->>active]", nil, "true or false"},
		{"text number", map[string]any{"metadata->>note": 3}, "filter[metadata->>note]", nil, "must be a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := compileTyped(t, tt.f)
			if err == nil {
				t.Fatalf("Compile(%v) succeeded", tt.f)
			}
			if err.Param != tt.param || !slices.Equal(err.ValidOptions, tt.options) || !strings.Contains(err.Message, tt.message) {
				t.Errorf("got %+v, want param %q, options %q, message containing %q", err, tt.param, tt.options, tt.message)
			}
		})
	}
}
