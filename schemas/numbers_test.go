package schemas

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestNumberDigits(t *testing.T) {
	for _, c := range []struct {
		lit  string
		want int // -1: malformed
	}{
		{"0", 1}, {"-0", 1}, {"7", 1}, {"1e3", 4}, {"1E3", 4}, {"1e+3", 4}, {"12.5e1", 3}, {"1.50", 3},
		{"1.5e-3", 5}, {"0.00123e5", 3}, {"0.000", 4}, {"0e5", 1}, {"-12345678901234567890", 20},
		{"9007199254740993", 16}, {"0.1000000000000000055511151231257827", 35}, {"1.5e300", 301},
		{"1e999", 1000}, {"1e-999", 1000}, {"1e1000", 1001}, {"1e1000000", 1000001},
		{"1e1000001", -1}, {"01", -1}, {"1.", -1}, {".5", -1}, {"1e", -1}, {"--1", -1}, {"0x10", -1}, {"", -1}, {"1e+", -1},
	} {
		n, ok := NumberDigits(c.lit)
		if !ok && c.want != -1 || ok && n != c.want {
			t.Errorf("NumberDigits(%q) = %d, %v; want %d", c.lit, n, ok, c.want)
		}
	}
	if !StorableNumber("1e999") || StorableNumber("1e1000") || StorableNumber("1e1000000") || !StorableNumber(strings.Repeat("9", 1000)) {
		t.Error("StorableNumber must accept exactly MaxNumberDigits digits")
	}
}

func TestUnmarshalExact(t *testing.T) {
	var v struct {
		M map[string]any           `json:"m"`
		N Nullable[map[string]any] `json:"n"`
	}
	if err := UnmarshalExact([]byte(`{"m":{"a":12345678901234567890},"n":{"b":9007199254740993}}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.M["a"] != json.Number("12345678901234567890") || v.N.Value["b"] != json.Number("9007199254740993") {
		t.Fatalf("numbers rounded: %#v", v)
	}
	if err := UnmarshalExact([]byte(`{} {}`), &v); err == nil {
		t.Fatal("data after the value must fail")
	}
}

func TestBlankStrings(t *testing.T) {
	for s, want := range map[string]bool{"": true, "   ": true, "\t\n": true, "\u00a0\u2003\u200b\ufeff": true, "\x00": true,
		"a": false, " a ": false, "é": false, "0": false, "\u3164x": false} {
		if IsBlank(s) != want {
			t.Errorf("IsBlank(%q) = %v", s, !want)
		}
	}
	v, err := Compile("blank", map[string]any{"type": "object", "properties": map[string]any{
		"name":  map[string]any{"type": "string", "minLength": float64(1)},
		"note":  map[string]any{"type": "string"},
		"items": map[string]any{"type": "array", "items": map[string]any{"type": "object", "properties": map[string]any{"label": map[string]any{"type": []any{"string", "null"}, "minLength": 1}}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	got := v.Validate(map[string]any{"name": " \u200b", "note": "  ", "items": []any{map[string]any{"label": "ok"}, map[string]any{"label": "\t"}, map[string]any{"label": nil}}})
	if len(got) != 2 || got[0].Field != "items.1.label" || got[1].Field != "name" || !strings.Contains(got[0].Message, "blank") {
		t.Fatalf("got %+v", got)
	}
	if got := v.Validate(map[string]any{"name": "Ada", "note": ""}); got != nil {
		t.Fatalf("valid input: %+v", got)
	}
}
