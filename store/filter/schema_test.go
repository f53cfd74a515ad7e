package filter

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

func TestSchema(t *testing.T) {
	t.Parallel()
	s := deals.Schema()
	if s["type"] != "object" || s["additionalProperties"] != true {
		t.Errorf("schema is not a permissive object: %v", s)
	}
	for _, k := range []string{"propertyNames", "properties", "patternProperties"} {
		if _, ok := s[k]; ok {
			t.Errorf("schema has %s; Compile must report unknown fields, and the description says the rest", k)
		}
	}
	desc, _ := s["description"].(string)
	for _, f := range deals.Fields {
		group := regexp.MustCompile(`(?:: |; )([a-z_, ]*\b` + f.Name + `\b[a-z_, ]*) \(` + regexp.QuoteMeta(Label(f)) + `: ` +
			strings.Join(opStrings(f.Kind.Ops()), ", ") + `\)`)
		if !group.MatchString(desc) {
			t.Errorf("%s: the description does not say it holds %q and takes %v: %s", f.Name, Label(f), opStrings(f.Kind.Ops()), desc)
		}
	}
	if !strings.Contains(desc, "one of: open, won, lost") {
		t.Error("enum description does not list the values")
	}
	if !strings.Contains(desc, "metadata->>KEY") {
		t.Error("metadata keys are not described")
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 1000 {
		t.Errorf("schema is %d bytes; keep it compact: %s", len(b), b)
	}
}

func TestSchemaWithoutMetadata(t *testing.T) {
	t.Parallel()
	s := Spec{Fields: deals.Fields[:1]}.Schema()
	if strings.Contains(s["description"].(string), "metadata->>") {
		t.Error("metadata keys are documented though not allowed")
	}
}
