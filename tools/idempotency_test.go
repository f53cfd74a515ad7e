package tools

import (
	"bytes"
	"testing"
)

func TestCanonicalNumber(t *testing.T) {
	for lit, want := range map[string]string{
		"0": "0", "-0": "0", "0.000": "0", "0e5": "0",
		"1": "1", "1.0": "1", "1e0": "1", "10e-1": "1", "1.00E+0": "1", "0.1e1": "1",
		"100": "1e2", "1e2": "1e2", "1.5": "15e-1", "0.25": "25e-2", "-2.50": "-25e-1",
		"12345678901234567890": "1234567890123456789e1", "12345678901234567891": "12345678901234567891",
		"1e99999999999999999999": "1e99999999999999999999", // absurd exponents compare as written
	} {
		if got := canonicalNumber(lit); got != want {
			t.Errorf("canonicalNumber(%s) = %s, want %s", lit, got, want)
		}
	}
}

func TestRequestHash(t *testing.T) {
	e := &Entry{Info: Info{Name: "create_thing", REST: &Route{Method: "POST", Path: "/v1/things", Status: 201}}}
	hash := func(raw string) []byte {
		t.Helper()
		args, derr := DecodeArgs([]byte(raw))
		if derr != nil {
			t.Fatal(derr)
		}
		h, err := e.RequestHash(args)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	base := hash(`{"a":1,"b":{"x":[1,2.50],"y":"s"}}`)
	for _, same := range []string{
		`{"b":{"y":"s","x":[1.0,2.5]},"a":1.0}`,
		" {\n\t\"a\" : 1e0 , \"b\" : { \"x\" : [ 10e-1 , 25e-1 ] , \"y\" : \"s\" } } ",
	} {
		if !bytes.Equal(hash(same), base) {
			t.Errorf("%s should hash like the base", same)
		}
	}
	for _, other := range []string{
		`{"a":2,"b":{"x":[1,2.5],"y":"s"}}`,
		`{"a":"1","b":{"x":[1,2.5],"y":"s"}}`,
		`{"a":1,"b":{"x":[2.5,1],"y":"s"}}`,
		`{"a":1,"b":{"x":[1,2.5],"y":"s"},"c":null}`,
		`{"a":1,"b":{"x":[1,2.5],"y":"S"}}`,
	} {
		if bytes.Equal(hash(other), base) {
			t.Errorf("%s should not hash like the base", other)
		}
	}
	moved := &Entry{Info: Info{Name: "create_other", REST: &Route{Method: "POST", Path: "/v1/others", Status: 201}}}
	args, _ := DecodeArgs([]byte(`{"a":1,"b":{"x":[1,2.50],"y":"s"}}`))
	if h, _ := moved.RequestHash(args); bytes.Equal(h, base) {
		t.Error("the route is part of the hash")
	}
}

func TestCheckIdempotencyKey(t *testing.T) {
	ok := []string{"a", "order-1", "7f9c2ba4-e88f-4d6a-9f1a-0f0e6b5c1d2e", string(bytes.Repeat([]byte("é"), 255))}
	bad := []string{"", string(bytes.Repeat([]byte("k"), 256)), "tab\there", "nul\x00", "\xff"}
	for _, k := range ok {
		if p := CheckIdempotencyKey(k); p != "" {
			t.Errorf("%q: %s", k, p)
		}
	}
	for _, k := range bad {
		if CheckIdempotencyKey(k) == "" {
			t.Errorf("%q should be refused", k)
		}
	}
}
