package docsite

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// field is one property of a capability's input or output, read from its JSON Schema.
type field struct {
	Name        string // dotted for nested properties: contacts[].email
	Type        string // such as "string (date-time)", "array of string", "integer or null"
	Required    bool
	In          string // for inputs: where REST takes it (path, query, body, header)
	Doc         string
	Constraints []string // enum, pattern, bounds, default
}

// maxFieldDepth is how deep nested objects are listed (contacts[].email is depth 2).
const maxFieldDepth = 2

// schemaFields lists the properties of an object schema, required ones first, each
// followed by its nested properties. skip names top-level properties left out.
func schemaFields(schema map[string]any, skip ...string) []field {
	return appendFields(nil, schema, "", 1, skip)
}

func appendFields(out []field, schema map[string]any, prefix string, depth int, skip []string) []field {
	props, _ := schema["properties"].(map[string]any)
	required := stringList(schema["required"])
	names := slices.Sorted(maps.Keys(props))
	slices.SortStableFunc(names, func(a, b string) int {
		ra, rb := slices.Contains(required, a), slices.Contains(required, b)
		switch {
		case ra && !rb:
			return -1
		case rb && !ra:
			return 1
		}
		return 0
	})
	for _, name := range names {
		if depth == 1 && slices.Contains(skip, name) {
			continue
		}
		p, _ := props[name].(map[string]any)
		out = append(out, field{Name: prefix + name, Type: schemaType(p), Required: slices.Contains(required, name),
			Doc: str(p["description"]), Constraints: constraints(p)})
		if depth >= maxFieldDepth || name == "filter" { // a list's filter fields are listed apart
			continue
		}
		if _, ok := p["properties"].(map[string]any); ok {
			out = appendFields(out, p, prefix+name+".", depth+1, nil)
		} else if items, ok := p["items"].(map[string]any); ok {
			if _, ok := items["properties"].(map[string]any); ok {
				out = appendFields(out, items, prefix+name+"[].", depth+1, nil)
			}
		}
	}
	return out
}

// schemaType names the type of a property schema in words.
func schemaType(s map[string]any) string {
	var types []string
	switch t := s["type"].(type) {
	case string:
		types = []string{t}
	case []any:
		for _, v := range t {
			types = append(types, str(v))
		}
	}
	if len(types) == 0 {
		for _, k := range []string{"anyOf", "oneOf"} {
			if alts, ok := s[k].([]any); ok {
				for _, a := range alts {
					if m, ok := a.(map[string]any); ok {
						types = append(types, schemaType(m))
					}
				}
			}
		}
		if len(types) == 0 {
			return "any"
		}
		return strings.Join(types, " or ")
	}
	for i, t := range types {
		switch t {
		case "array":
			item, _ := s["items"].(map[string]any)
			types[i] = "array of " + schemaType(item)
		case "string":
			if f := str(s["format"]); f != "" {
				types[i] = "string (" + f + ")"
			}
		}
	}
	return strings.Join(types, " or ")
}

// constraints lists what a property schema allows beyond its type.
func constraints(s map[string]any) []string {
	var out []string
	if enum, ok := s["enum"].([]any); ok {
		vals := make([]string, 0, len(enum))
		for _, v := range enum {
			vals = append(vals, literal(v))
		}
		out = append(out, "one of: "+strings.Join(vals, ", "))
	}
	for _, c := range []struct{ key, label string }{
		{"pattern", "pattern"}, {"minimum", "minimum"}, {"exclusiveMinimum", "greater than"}, {"maximum", "maximum"},
		{"exclusiveMaximum", "less than"}, {"minLength", "min length"}, {"maxLength", "max length"},
		{"minItems", "min items"}, {"maxItems", "max items"}, {"default", "default"},
	} {
		if v, ok := s[c.key]; ok && v != nil {
			out = append(out, c.label+": "+literal(v))
		}
	}
	return out
}

// literal writes a schema value as it appears in JSON, strings bare.
func literal(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case int, int64:
		return fmt.Sprint(v)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func stringList(v any) []string {
	switch v := v.(type) {
	case []string:
		return v
	case []any:
		out := make([]string, 0, len(v))
		for _, s := range v {
			out = append(out, str(s))
		}
		return out
	}
	return nil
}
