package filter

import "strings"

// Schema describes the structured filter of s as a JSON Schema object, for the MCP tool and
// OpenAPI documents. It stays permissive (any property, any value) because Compile, not the
// schema validator, reports unknown fields and ops, with the valid options.
func (s Spec) Schema() map[string]any {
	props := map[string]any{}
	for _, f := range s.Fields {
		props[f.Name] = map[string]any{"description": describe(f)}
	}
	schema := map[string]any{
		"type": "object",
		"description": `Conditions that must all hold. Give a field a value to match it exactly, ` +
			`or an object of op to value, e.g. {"field": {"gte": 1, "lt": 5}}. ` +
			`"in" takes an array; "ilike" takes a case-insensitive pattern with % wildcards. At most 20 conditions.`,
		"properties":           props,
		"additionalProperties": true,
	}
	if s.MetadataColumn != "" {
		schema["patternProperties"] = map[string]any{
			"^" + metadataPrefix: map[string]any{"description": `A key of the record's metadata, as metadata->>KEY. ` +
				`Ops: eq, neq, in, ilike, and gt, gte, lt, lte for numbers. The string "3" also matches the number 3, "true" the boolean. ` +
				`A key defined as a custom field (list_custom_fields) compares by its type: numbers and dates (YYYY-MM-DD) with gt, gte, lt, lte; a select only with its options.`},
		}
	}
	return schema
}

// describe says what a field holds and which ops it takes.
func describe(f Field) string {
	return kindLabel(f) + " Ops: " + strings.Join(opStrings(f.Kind.Ops()), ", ") + "."
}

// kindLabel names the values a field holds.
func kindLabel(f Field) string {
	switch f.Kind {
	case Text:
		return "Text."
	case CIText:
		return "Text, compared case-insensitively."
	case ID:
		return "Id."
	case Integer:
		return "Integer."
	case Date:
		return "Date, YYYY-MM-DD."
	case Timestamp:
		return "Timestamp, RFC 3339 or YYYY-MM-DD (midnight UTC)."
	case Enum:
		return "One of: " + strings.Join(f.Values, ", ") + "."
	case Bool:
		return "Boolean, true or false."
	case Number:
		return "Number."
	}
	return "Not filterable."
}
