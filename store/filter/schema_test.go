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
	if _, ok := s["propertyNames"]; ok {
		t.Error("schema restricts property names; Compile must report unknown fields")
	}
	props := s["properties"].(map[string]any)
	if len(props) != len(deals.Fields) {
		t.Errorf("got %d properties, want %d", len(props), len(deals.Fields))
	}
	ops, _ := s["description"].(string)
	for _, f := range deals.Fields {
		desc, _ := props[f.Name].(map[string]any)["description"].(string)
		kind := kindName(f.Kind)
		if !strings.HasPrefix(desc, kind) {
			t.Errorf("%s: description %q does not start with its kind %q", f.Name, desc, kind)
		}
		if !regexp.MustCompile(`[:;] [a-z ,]*\b` + kind + `\b[a-z ,]* ` + strings.Join(opStrings(f.Kind.Ops()), ", ") + `[;.]`).MatchString(ops) {
			t.Errorf("%s: the filter's description %q does not list the ops of %s", f.Name, ops, kind)
		}
	}
	if !strings.Contains(props["status"].(map[string]any)["description"].(string), "open, won, lost") {
		t.Error("enum description does not list the values")
	}
	if _, ok := s["patternProperties"].(map[string]any)["^metadata->>"]; !ok {
		t.Error("no pattern for metadata keys")
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 2000 {
		t.Errorf("schema is %d bytes; keep it compact: %s", len(b), b)
	}
}

func TestSchemaWithoutMetadata(t *testing.T) {
	t.Parallel()
	s := Spec{Fields: deals.Fields[:1]}.Schema()
	if _, ok := s["patternProperties"]; ok {
		t.Error("metadata keys are documented though not allowed")
	}
}
