package tools

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
)

// stdDecode is how DecodeArgs decoded before it had its own parser: encoding/json with
// UseNumber. Where both accept an input they must agree.
func stdDecode(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("data after the value")
	}
	return v, nil
}

func TestDecodeArgsAgreesWithEncodingJSON(t *testing.T) {
	for _, in := range []string{
		`{}`, ` { } `, `{"a":1}`, `{"a":-0.5e+10,"b":[1,2.50,-3E-2,0],"c":{"d":null,"e":true,"f":false}}`,
		`{"s":"plain","t":"esc \" \\ \/ \b \f \n \r \t","u":"\u00e9\u4e2d\ud83d\ude00 done","v":"é中😀"}`,
		`{"":"","k":[],"o":{},"n":[[[]]],"big":12345678901234567890,"exact":9007199254740993}`,
		`{"nul":"a\u0000b","replacement":"\ufffd"}`,
		"{\"ws\":\t[\r\n1 ,\n2 ]\n}",
	} {
		got, err := DecodeArgs([]byte(in))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		want, serr := stdDecode([]byte(in))
		if serr != nil || !reflect.DeepEqual(any(got), want) {
			t.Errorf("%s:\n got %#v\nwant %#v (%v)", in, got, want, serr)
		}
	}
}

func TestDecodeArgsRefuses(t *testing.T) {
	deep := strings.Repeat(`{"a":`, MaxNesting+1) + "1" + strings.Repeat("}", MaxNesting+1)
	for _, c := range []struct {
		name, in       string
		code           Code
		param, message string
	}{
		{"duplicate key", `{"email":"a@x.com","email":"b@x.com"}`, CodeBadRequest, "email", "more than once"},
		{"duplicate key escaped", `{"email":"a@x.com","\u0065mail":"b@x.com"}`, CodeBadRequest, "email", "more than once"},
		{"duplicate key in metadata", `{"metadata":{"plan":"pro","x":1,"plan":"free"}}`, CodeBadRequest, "metadata.plan", "more than once"},
		{"duplicate key in an array", `{"contacts":[{"email":"a@x.com"},{"phone":"1","phone":"2"}]}`, CodeBadRequest, "contacts.1.phone", "more than once"},
		{"duplicate null key", `{"a":null,"a":null}`, CodeBadRequest, "a", "more than once"},
		{"lone high surrogate", `{"first_name":"\ud800"}`, CodeBadRequest, "first_name", "not valid text"},
		{"lone low surrogate", `{"metadata":{"note":"\udc00x"}}`, CodeBadRequest, "metadata.note", "not valid text"},
		{"high surrogate then a letter", `{"q":"\ud83dA"}`, CodeBadRequest, "q", "not valid text"},
		{"high surrogate then an escape", `{"q":"\ud83d\u0041"}`, CodeBadRequest, "q", "not valid text"},
		{"two high surrogates", `{"q":"\ud83d\ud83d"}`, CodeBadRequest, "q", "not valid text"},
		{"surrogate in an array", `{"types":["x","\udfff"]}`, CodeBadRequest, "types.1", "not valid text"},
		{"surrogate in a key", `{"metadata":{"\ud800":1}}`, CodeBadRequest, "metadata", "An object key at metadata"},
		{"truncated", `{"name":`, CodeBadRequest, "", "not valid JSON"},
		{"trailing comma", `{"a":1,}`, CodeBadRequest, "", "not valid JSON"},
		{"leading zero", `{"a":01}`, CodeBadRequest, "", "not valid JSON"},
		{"bare minus", `{"a":-}`, CodeBadRequest, "", "not valid JSON"},
		{"empty fraction", `{"a":1.}`, CodeBadRequest, "", "not valid JSON"},
		{"empty exponent", `{"a":1e}`, CodeBadRequest, "", "not valid JSON"},
		{"single quotes", `{'a':1}`, CodeBadRequest, "", "not valid JSON"},
		{"raw control character", "{\"a\":\"x\ny\"}", CodeBadRequest, "", "not valid JSON"},
		{"bad escape", `{"a":"\x"}`, CodeBadRequest, "", "not valid JSON"},
		{"short unicode escape", `{"a":"\u12"}`, CodeBadRequest, "", "not valid JSON"},
		{"misspelt literal", `{"a":nul}`, CodeBadRequest, "", "not valid JSON"},
		{"two objects", `{"a":1} {"b":2}`, CodeBadRequest, "", "data after"},
		{"trailing bracket", `{"a":1}]`, CodeBadRequest, "", "data after"},
		{"an array", `[1,2]`, CodeBadRequest, "", "not an array"},
		{"a string", `"x"`, CodeBadRequest, "", "not a string"},
		{"too deep", `{"metadata":` + deep + `}`, CodeBadRequest, "metadata" + strings.Repeat(".a", MaxNesting), "nested more than"},
		{"not UTF-8", "{\"a\":\"\xff\"}", CodeBadRequest, "", "UTF-8"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := DecodeArgs([]byte(c.in))
			if err == nil || err.Code != c.code || err.Param != c.param || !strings.Contains(err.Message, c.message) {
				t.Fatalf("got %+v, want %s on %q saying %q", err, c.code, c.param, c.message)
			}
		})
	}
}

func TestDecodeArgsKeepsText(t *testing.T) {
	args, err := DecodeArgs([]byte(`{"emoji":"\ud83d\ude00","escaped":"\u00e9","raw":"😀","nul":"a\u0000"}`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"emoji": "😀", "escaped": "é", "raw": "😀", "nul": "a\x00"}
	if !reflect.DeepEqual(args, want) {
		t.Fatalf("got %q", args)
	}
	if args, err := DecodeArgs([]byte(" null ")); err != nil || len(args) != 0 {
		t.Fatalf("null is no arguments: %v %v", args, err)
	}
}

// FuzzDecodeArgs checks DecodeArgs against encoding/json: whatever it accepts, encoding/json
// accepts and decodes the same; whatever encoding/json accepts as an object, it accepts too,
// unless it repeats a key, holds a lone surrogate escape or nests too deep.
func FuzzDecodeArgs(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":[1,{"b":"\u00e9"}]}`, `{"a":1,"a":2}`, `{"a":"\ud800"}`, `{"a":1e5,"b":-0.0}`, `{"a":"\ud83d\ude00"}`, `[]`, `{"a":}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, err := DecodeArgs(raw)
		want, serr := stdDecode(bytes.TrimSpace(raw))
		trimmed := bytes.TrimSpace(raw)
		if len(trimmed) == 0 || string(trimmed) == "null" {
			return
		}
		if err == nil {
			if serr != nil || !reflect.DeepEqual(any(got), want) {
				t.Fatalf("%q: got %#v, encoding/json %#v (%v)", raw, got, want, serr)
			}
			return
		}
		if _, isObject := want.(map[string]any); serr == nil && isObject {
			refusedOnPurpose := strings.Contains(err.Message, "more than once") || strings.Contains(err.Message, "not valid text") ||
				strings.Contains(err.Message, "nested more than") || strings.Contains(err.Message, "UTF-8") || err.Code == CodeTooLarge
			if !refusedOnPurpose {
				t.Fatalf("%q: refused %v, but encoding/json accepts it", raw, err)
			}
		}
	})
}

// benchmarkBodies are 1 MiB inputs of the shapes that reach DecodeArgs: a full contact
// import, one record with a large metadata object, and a few long strings with escapes.
func benchmarkBodies() map[string][]byte {
	var imp bytes.Buffer
	imp.WriteString(`{"dedup_on":["email"],"contacts":[`)
	for i := 0; imp.Len() < MaxInputBytes-2200; i++ {
		if i > 0 {
			imp.WriteByte(',')
		}
		fmt.Fprintf(&imp, `{"email":"person%d@example.com","first_name":"Ada","last_name":"Lovelace","phone":"+14155550100",`+
			`"metadata":{"plan":"pro","seats":%d,"score":0.%d,"tags":["a","b"],"note":"%s"}}`, i, i, i, strings.Repeat("x", 1800))
	}
	imp.WriteString(`]}`)
	var md bytes.Buffer
	md.WriteString(`{"first_name":"Ada","metadata":{`)
	for i := 0; md.Len() < MaxInputBytes-100; i++ {
		if i > 0 {
			md.WriteByte(',')
		}
		fmt.Fprintf(&md, `"key_%d":%d,"label_%d":"value %d"`, i, i*7919, i, i)
	}
	md.WriteString(`}}`)
	var long bytes.Buffer
	long.WriteString(`{"metadata":{`)
	for i := 0; long.Len() < MaxInputBytes-70000; i++ {
		if i > 0 {
			long.WriteByte(',')
		}
		fmt.Fprintf(&long, `"text_%d":"%s"`, i, strings.Repeat(`caf\u00e9 \"quoted\" line\n `, 60000/28))
	}
	long.WriteString(`}}`)
	return map[string][]byte{"import": imp.Bytes(), "metadata": md.Bytes(), "strings": long.Bytes()}
}

// BenchmarkDecodeArgs compares DecodeArgs with the encoding/json decoding it replaced
// (which neither refused repeated keys nor lone surrogates) on 1 MiB inputs.
func BenchmarkDecodeArgs(b *testing.B) {
	for name, body := range benchmarkBodies() {
		if len(body) > MaxInputBytes {
			b.Fatalf("%s: %d bytes", name, len(body))
		}
		b.Run(name+"/DecodeArgs", func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := DecodeArgs(body); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/encoding_json", func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := stdDecode(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
