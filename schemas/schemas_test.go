package schemas

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

type inner struct {
	N int `json:"n"`
}

type sample struct {
	Name  Nullable[string] `json:"name,omitzero" maxLength:"3"`
	Inner inner            `json:"inner"`
	Email string           `json:"email,omitempty" format:"email"`
}

func TestInlineAndValidate(t *testing.T) {
	set := NewSet()
	ref := set.Of(reflect.TypeFor[sample]())
	if ref.Ref == "" {
		t.Fatal("named structs are referenced in the OpenAPI document")
	}
	inlined, err := set.Inline(ref)
	if err != nil {
		t.Fatal(err)
	}
	if raw, _ := json.Marshal(inlined); strings.Contains(string(raw), "$ref") {
		t.Fatalf("not inlined: %s", raw)
	}
	v, err := Compile("sample", inlined)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		in     string
		fields []string
	}{
		{`{"inner":{"n":1}}`, nil},
		{`{"inner":{"n":1},"name":null}`, nil},
		{`{"inner":{"n":1},"name":"abcd"}`, []string{"name"}},
		{`{"inner":{}}`, []string{"inner.n"}},
		{`{"inner":{"n":"x"},"zz":1}`, []string{"inner.n", "zz"}},
		{`{"inner":{"n":1},"email":"nope"}`, []string{"email"}},
	} {
		var doc any
		if err := json.Unmarshal([]byte(c.in), &doc); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, fe := range v.Validate(doc) {
			got = append(got, fe.Field)
		}
		if !reflect.DeepEqual(got, c.fields) {
			t.Errorf("%s: fields %v, want %v", c.in, got, c.fields)
		}
	}
}

func TestNullable(t *testing.T) {
	var s sample
	if err := json.Unmarshal([]byte(`{"name":null}`), &s); err != nil || !s.Name.Set || !s.Name.Null || s.Name.Ptr() != nil {
		t.Fatalf("null: %+v %v", s.Name, err)
	}
	s = sample{}
	if err := json.Unmarshal([]byte(`{}`), &s); err != nil || s.Name.Set {
		t.Fatalf("absent: %+v", s.Name)
	}
	if err := json.Unmarshal([]byte(`{"name":"ab"}`), &s); err != nil || *s.Name.Ptr() != "ab" {
		t.Fatalf("value: %+v", s.Name)
	}
}
