package filter

import (
	"slices"
	"strings"
)

// Schema describes the structured filter of s as a JSON Schema object, for the MCP tool and
// OpenAPI documents. It stays permissive (any property, any value) because Compile, not the
// schema validator, reports unknown fields and ops, with the valid options. Each field says
// what it holds; the ops of each kind of field are listed once, in the filter's description.
func (s Spec) Schema() map[string]any {
	props := map[string]any{}
	for _, f := range s.Fields {
		props[f.Name] = map[string]any{"description": kindLabel(f)}
	}
	schema := map[string]any{
		"type": "object",
		"description": `Conditions that must all hold, at most 20: {"field": value} matches exactly, ` +
			`{"field": {"gte": 1, "lt": 5}} by op; "in" takes an array, "ilike" a case-insensitive pattern with % wildcards. ` +
			"Ops: " + s.opsByKind() + ".",
		"properties":           props,
		"additionalProperties": true,
	}
	if s.MetadataColumn != "" {
		schema["patternProperties"] = map[string]any{
			"^" + metadataPrefix: map[string]any{"description": `metadata->>KEY: a metadata key. Ops: eq, neq, in, ilike; gt, gte, lt, lte ` +
				`for numbers, and dates of custom fields, which compare by their type (get_schema).`},
		}
	}
	return schema
}

// opsByKind lists the ops of the kinds of s's fields, kinds with the same ops together:
// "text eq, neq, ilike, in; id eq, neq, in".
func (s Spec) opsByKind() string {
	var groups []string
	labels := map[string][]string{} // ops -> kinds
	for _, f := range s.Fields {
		ops := strings.Join(opStrings(f.Kind.Ops()), ", ")
		kind := kindName(f.Kind)
		if _, seen := labels[ops]; !seen {
			groups = append(groups, ops)
		}
		if !slices.Contains(labels[ops], kind) {
			labels[ops] = append(labels[ops], kind)
		}
	}
	parts := make([]string, len(groups))
	for i, ops := range groups {
		parts[i] = strings.Join(labels[ops], ", ") + " " + ops
	}
	return strings.Join(parts, "; ")
}

// kindName is the word for a kind that kindLabel starts with.
func kindName(k Kind) string {
	switch k {
	case Text, CIText:
		return "text"
	case ID:
		return "id"
	case Integer:
		return "integer"
	case Date:
		return "date"
	case Timestamp:
		return "timestamp"
	case Enum:
		return "one of"
	case Bool:
		return "boolean"
	case Number:
		return "number"
	}
	return "other"
}

// kindLabel says what a field holds, starting with its kind's name.
func kindLabel(f Field) string {
	switch f.Kind {
	case CIText:
		return "text, compared case-insensitively"
	case Date:
		return "date, YYYY-MM-DD"
	case Timestamp:
		return "timestamp, RFC 3339 or YYYY-MM-DD"
	case Enum:
		return "one of: " + strings.Join(f.Values, ", ")
	}
	return kindName(f.Kind)
}
