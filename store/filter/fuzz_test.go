package filter

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// checkCompile runs Compile on f and checks its contract whatever the input: no panic,
// nothing bound on error, an error that names a parameter, and only trusted text in the SQL.
func checkCompile(t *testing.T, f map[string]any) {
	b := &binder{}
	conds, err := deals.Compile(f, b.bind)
	if err != nil {
		if err.Param == "" || err.Message == "" || len(b.args) > 0 || conds != nil {
			t.Fatalf("Compile(%#v): error %+v, bound %v, returned %q", f, err, b.args, conds)
		}
		return
	}
	if len(conds) > maxConditions {
		t.Fatalf("Compile(%#v) returned %d conditions", f, len(conds))
	}
	for _, c := range conds {
		if strings.ContainsAny(strings.ReplaceAll(c, "'number'", ""), "';") {
			t.Fatalf("condition %q contains a quote or semicolon", c)
		}
	}
	checkSQL(t, deals, conds, len(b.args))
}

func FuzzCompile(f *testing.F) {
	for _, seed := range []string{
		`{"status":"open","value_cents":{"gte":100,"lt":500}}`,
		`{"value_cents":{"in":[1,"2",3.0,1e400]},"title":{"in":[["a"]]}}`,
		`{"title":{"ilike":"a\\","eq":"\u0000"},"email":{"in":"A,B"}}`,
		`{"metadata->>tier":{"eq":"3","neq":true,"in":[1,"true",null]}}`,
		`{"metadata->>score":{"gt":"1e308","lte":-0.5,"ilike":"%"}}`,
		`{"close_date":{"in":"2026-01-31"},"created_at":"2026-01-31T09:30:00+02:00","archived":null}`,
		`{"id":{"in":[]},"status":{"in":"open,won"},"colour":1}`,
		`{"metadata->>":1,"metadata->>a b":2,"title":{}}`,
	} {
		f.Add([]byte(seed), true)
		f.Add([]byte(seed), false)
	}
	f.Fuzz(func(t *testing.T, data []byte, useNumber bool) {
		var filter map[string]any
		d := json.NewDecoder(bytes.NewReader(data))
		if useNumber {
			d.UseNumber()
		}
		if d.Decode(&filter) != nil {
			return
		}
		checkCompile(t, filter)
	})
}
