package filter

import "strings"

// Schema describes the structured filter of s as a JSON Schema object, for the MCP tool and
// OpenAPI documents. It stays permissive (any property, any value) because Compile, not the
// schema validator, reports unknown fields and ops, with the valid options. The fields, what
// each holds and the ops it takes are in the description rather than in properties: a field
// takes a value or an object of ops, which a property could only say as a union of types,
// and function-calling schemas such as Gemini's need one type on every property.
func (s Spec) Schema() map[string]any {
	desc := `Conditions that must all hold, at most 20: {"field": value} matches exactly, ` +
		`{"field": {"gte": 1, "lt": 5}} by op; "in" takes an array, "ilike" a case-insensitive pattern with % wildcards. ` +
		"Fields: " + s.fieldsByKind() + "."
	if s.MetadataColumn != "" {
		desc += ` And metadata->>KEY for a metadata key (eq, neq, in, ilike; gt, gte, lt, lte for numbers, ` +
			`and dates of custom fields, which compare by their type: get_schema).`
	}
	return map[string]any{"type": "object", "description": desc, "additionalProperties": true}
}

// fieldsByKind lists the fields of s with what they hold and the ops they take, fields of
// the same kind together: "id, company_id (id: eq, neq, in); title (text: eq, neq, ilike, in)".
func (s Spec) fieldsByKind() string {
	var groups []string
	names := map[string][]string{} // "label: ops" -> fields
	for _, f := range s.Fields {
		g := Label(f) + ": " + strings.Join(opStrings(f.Kind.Ops()), ", ")
		if _, seen := names[g]; !seen {
			groups = append(groups, g)
		}
		names[g] = append(names[g], f.Name)
	}
	parts := make([]string, len(groups))
	for i, g := range groups {
		parts[i] = strings.Join(names[g], ", ") + " (" + g + ")"
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

// Label says what a field holds, starting with its kind's name: "text", "one of: open, won".
func Label(f Field) string {
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
