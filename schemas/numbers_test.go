package schemas

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
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
	var nested map[string]any
	if err := UnmarshalExact([]byte(` {"a":{"b":[1,2.50,{"c":null}]},"s":"x","t":true} `+"\n"), &nested); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"a": map[string]any{"b": []any{json.Number("1"), json.Number("2.50"), map[string]any{"c": nil}}}, "s": "x", "t": true}
	if !reflect.DeepEqual(nested, want) {
		t.Fatalf("nested: %#v", nested)
	}
	for _, data := range []string{`{} {}`, `{}x`, `{}}`, `1 2`, `"a""b"`, `{`, ``, ` `, `{"a":}`, `{"a":1,}`, `nul`} {
		var m any
		if err := UnmarshalExact([]byte(data), &m); err == nil {
			t.Errorf("%q: no error", data)
		}
	}
	if err := UnmarshalExact([]byte(`{} {}`), &v); err == nil || err.Error() != "schemas: data after the JSON value" {
		t.Fatalf("data after the value: %v", err)
	}
}

// TestUnmarshalExactEmptyObject: the empty object, which skips the decoder, lands as
// json.Unmarshal would put it: a nil map becomes empty, a map keeps its entries.
func TestUnmarshalExactEmptyObject(t *testing.T) {
	for _, data := range []string{`{}`, ` { } `, "{\n\t}\r\n"} {
		var m map[string]any
		var versions map[string]int64
		var a any
		if UnmarshalExact([]byte(data), &m) != nil || m == nil || len(m) != 0 ||
			UnmarshalExact([]byte(data), &versions) != nil || versions == nil || len(versions) != 0 ||
			UnmarshalExact([]byte(data), &a) != nil || !reflect.DeepEqual(a, map[string]any{}) {
			t.Errorf("%q: %#v %#v %#v", data, m, versions, a)
		}
		kept := map[string]any{"k": "v"}
		if err := UnmarshalExact([]byte(data), &kept); err != nil || !reflect.DeepEqual(kept, map[string]any{"k": "v"}) {
			t.Errorf("%q into a map: %#v, %v", data, kept, err)
		}
	}
	var typed map[string]int64
	var ute *json.UnmarshalTypeError
	if err := UnmarshalExact([]byte(`{"a":"x"}`), &typed); !errors.As(err, &ute) {
		t.Errorf("a string into map[string]int64: %v", err)
	}
}

// FuzzUnmarshalExact: UnmarshalExact agrees with a json.Decoder using numbers that checks
// for a second token, in its result and in whether it fails.
func FuzzUnmarshalExact(f *testing.F) {
	for _, s := range []string{`{}`, ` { } `, `{"a":1.50}`, `[1,2]`, `{} {}`, `{}x`, `1 2`, `12345678901234567890`, `"s"`, ``, `{`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var got, want any
		gotErr := UnmarshalExact(data, &got)
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		wantErr := dec.Decode(&want)
		if wantErr == nil {
			if _, err := dec.Token(); err != io.EOF {
				wantErr = errors.New("data after the value")
			}
		}
		if (gotErr == nil) != (wantErr == nil) || gotErr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: got %#v, %v; want %#v, %v", data, got, gotErr, want, wantErr)
		}
	})
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

// BenchmarkUnmarshalExact decodes metadata as a record's jsonb column holds it: most often
// empty, else a small object.
func BenchmarkUnmarshalExact(b *testing.B) {
	for _, c := range []struct{ name, data string }{
		{"empty", `{}`},
		{"small", `{"tier":"gold","score":42,"tags":["a","b"],"address":{"city":"Oslo","zip":"0150"}}`},
	} {
		b.Run(c.name, func(b *testing.B) {
			data := []byte(c.data)
			b.ReportAllocs()
			for b.Loop() {
				var m map[string]any
				if err := UnmarshalExact(data, &m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
