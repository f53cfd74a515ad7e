package schemas

import (
	"fmt"
	"strings"
)

// The types of a custom field: how the metadata value under its key must look.
const (
	FieldText   = "text"   // a string of at most MaxFieldTextChars characters
	FieldNumber = "number" // a JSON number
	FieldDate   = "date"   // a "YYYY-MM-DD" string naming a real date
	FieldBool   = "bool"   // true or false
	FieldSelect = "select" // one of the field's options
)

// FieldTypes lists the custom field types.
var FieldTypes = []string{FieldText, FieldNumber, FieldDate, FieldBool, FieldSelect}

// MaxFieldTextChars bounds the value of a text custom field.
const MaxFieldTextChars = 10000

// CustomField is what validating one metadata key takes from its definition.
type CustomField struct {
	Key     string
	Type    string
	Options []string // select only
}

// MetadataValidator checks the metadata of one object type against a workspace's custom
// fields. Keys without a definition are free-form; null is always accepted (no value).
type MetadataValidator struct {
	v      *Validator
	fields map[string]CustomField
}

// MetadataSchema is the JSON Schema a metadata object must satisfy given fields.
func MetadataSchema(fields []CustomField) map[string]any {
	props := make(map[string]any, len(fields))
	for _, f := range fields {
		props[f.Key] = fieldSchema(f)
	}
	return map[string]any{"type": "object", "properties": props}
}

func fieldSchema(f CustomField) map[string]any {
	switch f.Type {
	case FieldText:
		return map[string]any{"type": "string", "maxLength": MaxFieldTextChars}
	case FieldNumber:
		return map[string]any{"type": "number"}
	case FieldDate:
		return map[string]any{"type": "string", "format": "date"}
	case FieldBool:
		return map[string]any{"type": "boolean"}
	case FieldSelect:
		opts := make([]any, len(f.Options))
		for i, o := range f.Options {
			opts[i] = o
		}
		return map[string]any{"type": "string", "enum": opts}
	}
	return map[string]any{"not": map[string]any{}} // an unknown type accepts nothing
}

// CompileMetadata compiles the schema of fields with the same settings as every input
// schema (see Compile): nothing is ever loaded from files or the network, and formats are
// asserted. name identifies the schema in errors.
func CompileMetadata(name string, fields []CustomField) (*MetadataValidator, error) {
	v, err := Compile(name, MetadataSchema(fields))
	if err != nil {
		return nil, err
	}
	byKey := make(map[string]CustomField, len(fields))
	for _, f := range fields {
		byKey[f.Key] = f
	}
	return &MetadataValidator{v: v, fields: byKey}, nil
}

// Validate checks the values metadata sets for defined keys and returns one FieldError per
// bad key, named path.key (path is "metadata" or "contacts.3.metadata"), saying what type
// the field expects; for a select, Options and Got carry the valid options and the value.
func (m *MetadataValidator) Validate(path string, metadata map[string]any) []FieldError {
	if m == nil || len(m.fields) == 0 {
		return nil
	}
	instance := map[string]any{}
	for k, v := range metadata {
		if _, defined := m.fields[k]; defined && v != nil {
			instance[k] = v
		}
	}
	if len(instance) == 0 {
		return nil
	}
	var out []FieldError
	seen := map[string]bool{}
	for _, fe := range m.v.Validate(instance) {
		key, _, _ := strings.Cut(fe.Field, ".")
		f, defined := m.fields[key]
		if !defined || seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, m.fieldError(path, f, instance[key]))
	}
	return out
}

func (m *MetadataValidator) fieldError(path string, f CustomField, got any) FieldError {
	fe := FieldError{Field: JoinField(path, f.Key)}
	switch f.Type {
	case FieldText:
		fe.Message = fmt.Sprintf("must be text of at most %d characters (custom field of type text)", MaxFieldTextChars)
	case FieldNumber:
		fe.Message = "must be a number (custom field of type number)"
	case FieldDate:
		fe.Message = "must be a date written YYYY-MM-DD, like 2026-12-31 (custom field of type date)"
	case FieldBool:
		fe.Message = "must be true or false (custom field of type bool)"
	case FieldSelect:
		fe.Message = "must be one of: " + strings.Join(f.Options, ", ") + " (custom field of type select)"
		fe.Options, fe.Got = f.Options, fmt.Sprint(got)
	default:
		fe.Message = "cannot be set: its custom field has an unknown type"
	}
	return fe
}
