package filter

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// numberRangeSQL is the condition comparing the metadata key bound at key with the JSON
// number bound at val.
func numberRangeSQL(key, op, val string) string {
	return "(d.metadata->" + key + "::text " + op + " " + val + "::jsonb AND CASE WHEN jsonb_typeof(d.metadata->" + key +
		"::text) = 'number' THEN TRUE ELSE FALSE END)"
}

func TestCompileMetadata(t *testing.T) {
	t.Parallel()
	tests := []compileCase{
		{"eq string", map[string]any{"metadata->>tier": "vip"}, []string{"d.metadata @> $1::jsonb"}, []any{`{"tier":"vip"}`}},
		{"eq numeric string", map[string]any{"metadata->>tier": "3"},
			[]string{"(d.metadata @> $1::jsonb OR d.metadata @> $2::jsonb)"}, []any{`{"tier":"3"}`, `{"tier":3}`}},
		{"eq decimal string", map[string]any{"metadata->>tier": "-2.50"},
			[]string{"(d.metadata @> $1::jsonb OR d.metadata @> $2::jsonb)"}, []any{`{"tier":"-2.50"}`, `{"tier":-2.50}`}},
		{"eq bool string", map[string]any{"metadata->>tier": "true"},
			[]string{"(d.metadata @> $1::jsonb OR d.metadata @> $2::jsonb)"}, []any{`{"tier":"true"}`, `{"tier":true}`}},
		{"eq not quite a number", map[string]any{"metadata->>tier": "03"}, []string{"d.metadata @> $1::jsonb"}, []any{`{"tier":"03"}`}},
		{"eq number too large for a float", map[string]any{"metadata->>tier": "1e400"},
			[]string{"(d.metadata @> $1::jsonb OR d.metadata @> $2::jsonb)"}, []any{`{"tier":"1e400"}`, `{"tier":1e400}`}},
		{"eq exact beyond 2^53", map[string]any{"metadata->>id": "9007199254740993"},
			[]string{"(d.metadata @> $1::jsonb OR d.metadata @> $2::jsonb)"}, []any{`{"id":"9007199254740993"}`, `{"id":9007199254740993}`}},
		{"eq number Relm cannot store", map[string]any{"metadata->>tier": "1e4000"}, []string{"d.metadata @> $1::jsonb"}, []any{`{"tier":"1e4000"}`}},
		{"eq escapes", map[string]any{"metadata->>a.b-c_d": `"}' <x>`}, []string{"d.metadata @> $1::jsonb"}, []any{`{"a.b-c_d":"\"}' \u003cx\u003e"}`}},
		{"eq json number", map[string]any{"metadata->>n": json.Number("3.50")}, []string{"d.metadata @> $1::jsonb"}, []any{`{"n":3.50}`}},
		{"eq json number beyond 2^64", map[string]any{"metadata->>n": json.Number("12345678901234567890")}, []string{"d.metadata @> $1::jsonb"}, []any{`{"n":12345678901234567890}`}},
		{"eq float64", map[string]any{"metadata->>n": 2.0}, []string{"d.metadata @> $1::jsonb"}, []any{`{"n":2}`}},
		{"eq int", map[string]any{"metadata->>n": 7}, []string{"d.metadata @> $1::jsonb"}, []any{`{"n":7}`}},
		{"eq bool", map[string]any{"metadata->>vip": map[string]any{"eq": false}}, []string{"d.metadata @> $1::jsonb"}, []any{`{"vip":false}`}},
		{"neq", map[string]any{"metadata->>tier": map[string]any{"neq": "vip"}}, []string{"NOT (d.metadata @> $1::jsonb)"}, []any{`{"tier":"vip"}`}},
		{"neq two forms", map[string]any{"metadata->>tier": map[string]any{"neq": "3"}},
			[]string{"NOT ((d.metadata @> $1::jsonb OR d.metadata @> $2::jsonb))"}, []any{`{"tier":"3"}`, `{"tier":3}`}},
		{"in", map[string]any{"metadata->>tier": map[string]any{"in": "gold,3"}},
			[]string{"d.metadata @> ANY($1::jsonb[])"}, []any{[]string{`{"tier":"gold"}`, `{"tier":"3"}`, `{"tier":3}`}}},
		{"in array", map[string]any{"metadata->>tier": map[string]any{"in": []any{true, json.Number("1")}}},
			[]string{"d.metadata @> ANY($1::jsonb[])"}, []any{[]string{`{"tier":true}`, `{"tier":1}`}}},
		{"ilike", map[string]any{"metadata->>tier": map[string]any{"ilike": "v%"}},
			[]string{"(d.metadata->>$1::text) ILIKE $2"}, []any{"tier", "v%"}},
		{"gt", map[string]any{"metadata->>score": map[string]any{"gt": "10"}}, []string{numberRangeSQL("$1", ">", "$2")}, []any{"score", "10"}},
		{"gte float", map[string]any{"metadata->>score": map[string]any{"gte": 1.5}}, []string{numberRangeSQL("$1", ">=", "$2")}, []any{"score", "1.5"}},
		{"lt json number", map[string]any{"metadata->>score": map[string]any{"lt": json.Number("1e3")}}, []string{numberRangeSQL("$1", "<", "$2")}, []any{"score", "1e3"}},
		{"gt long decimal", map[string]any{"metadata->>score": map[string]any{"gt": "0.1000000000000000055511151231257827"}},
			[]string{numberRangeSQL("$1", ">", "$2")}, []any{"score", "0.1000000000000000055511151231257827"}},
		{"lte negative", map[string]any{"metadata->>score": map[string]any{"lte": "-0.5"}}, []string{numberRangeSQL("$1", "<=", "$2")}, []any{"score", "-0.5"}},
		{"key of 64 chars", map[string]any{"metadata->>" + strings.Repeat("k", 64): "v"},
			[]string{"d.metadata @> $1::jsonb"}, []any{`{"` + strings.Repeat("k", 64) + `":"v"}`}},
		{"two ranges on one key", map[string]any{"metadata->>score": map[string]any{"lt": 5, "gt": 1}},
			[]string{numberRangeSQL("$1", ">", "$2"), numberRangeSQL("$3", "<", "$4")}, []any{"score", "1", "score", "5"}},
	}
	runCompileCases(t, tests, func(t *testing.T, f map[string]any) ([]string, []any, *Error) { return compile(t, deals, f) })
}

func TestCompileMetadataErrors(t *testing.T) {
	t.Parallel()
	allOps := []string{"eq", "neq", "gt", "gte", "lt", "lte", "ilike", "in"}
	tests := []struct {
		name    string
		spec    Spec
		f       map[string]any
		param   string
		options []string
		message string
	}{
		{"not allowed", Spec{Fields: deals.Fields}, map[string]any{"metadata->>tier": "vip"}, "filter[metadata->>tier]", dealFields[:8], "Unknown filter field"},
		{"empty key", deals, map[string]any{"metadata->>": "vip"}, "filter[metadata->>]", nil, "Metadata key"},
		{"key with space", deals, map[string]any{"metadata->>a b": "vip"}, "filter[metadata->>a b]", nil, "Metadata key"},
		{"key with quote", deals, map[string]any{"metadata->>a'": "vip"}, "filter[metadata->>a']", nil, "Metadata key"},
		{"key starting with dot", deals, map[string]any{"metadata->>.a": "vip"}, "filter[metadata->>.a]", nil, "Metadata key"},
		{"key too long", deals, map[string]any{"metadata->>" + strings.Repeat("k", 65): "v"}, "filter[metadata->>" + strings.Repeat("k", 65) + "]", nil, "Metadata key"},
		{"other arrow", deals, map[string]any{"metadata->tier": "vip"}, "filter[metadata->tier]", dealFields, "Unknown filter field"},
		{"unknown op", deals, map[string]any{"metadata->>tier": map[string]any{"like": "v"}}, "filter[metadata->>tier][like]", allOps, "Unknown filter op"},
		{"null", deals, map[string]any{"metadata->>tier": nil}, "filter[metadata->>tier]", nil, "has no value"},
		{"object value", deals, map[string]any{"metadata->>tier": map[string]any{"eq": map[string]any{}}}, "filter[metadata->>tier][eq]", nil, "must be a string, number or boolean"},
		{"gt word", deals, map[string]any{"metadata->>score": map[string]any{"gt": "ten"}}, "filter[metadata->>score][gt]", nil, "must be a number"},
		{"gt bool", deals, map[string]any{"metadata->>score": map[string]any{"gt": true}}, "filter[metadata->>score][gt]", nil, "must be a number"},
		{"gt huge", deals, map[string]any{"metadata->>score": map[string]any{"lte": "1e4000"}}, "filter[metadata->>score][lte]", nil, "at most 1000 digits"},
		{"gt not a number", deals, map[string]any{"metadata->>score": map[string]any{"lte": "ten"}}, "filter[metadata->>score][lte]", nil, "compare numbers only"},
		{"ilike number", deals, map[string]any{"metadata->>tier": map[string]any{"ilike": 3}}, "filter[metadata->>tier][ilike]", nil, "must be a string"},
		{"ilike backslash", deals, map[string]any{"metadata->>tier": map[string]any{"ilike": `v\`}}, "filter[metadata->>tier][ilike]", nil, "backslash"},
		{"NUL", deals, map[string]any{"metadata->>tier": "a\x00"}, "filter[metadata->>tier]", nil, "NUL"},
		{"invalid UTF-8", deals, map[string]any{"metadata->>tier": map[string]any{"neq": "\xc3"}}, "filter[metadata->>tier][neq]", nil, "UTF-8"},
		{"in empty", deals, map[string]any{"metadata->>tier": map[string]any{"in": []any{}}}, "filter[metadata->>tier][in]", nil, "at least one"},
		{"in bad item", deals, map[string]any{"metadata->>tier": map[string]any{"in": []any{"a", nil}}}, "filter[metadata->>tier][in]", nil, "Item 2 of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := compile(t, tt.spec, tt.f)
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

func TestMetadataFieldNamedLikeSpecField(t *testing.T) {
	t.Parallel()
	s := Spec{MetadataColumn: "m", Fields: []Field{{Name: "metadata->>tier", Column: "tier", Kind: Text}}}
	sql, _, err := compile(t, s, map[string]any{"metadata->>tier": "x"})
	if err != nil || !slices.Equal(sql, []string{"tier = $1"}) {
		t.Errorf("a Spec field wins over a metadata key: got %q, %v", sql, err)
	}
}
