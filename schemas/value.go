package schemas

import (
	"bytes"
	"encoding/json"

	"github.com/danielgtaylor/huma/v2"
)

// JSONValue is a field that takes a JSON scalar, a list of scalars or null. Its schema names
// the types (anyOf) rather than leaving them open ({}), since function-calling schemas such
// as Gemini's need a type on every property, and names no object, which OpenAI's strict
// mode cannot take open. Numbers stay exact (json.Number); null and absence are both nil.
type JSONValue struct{ V any }

// IsZero reports a nil value, for `omitzero`.
func (v JSONValue) IsZero() bool { return v.V == nil }

// UnmarshalJSON keeps the value as decoded with UseNumber.
func (v *JSONValue) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		v.V = nil
		return nil
	}
	return UnmarshalExact(b, &v.V)
}

// MarshalJSON writes the value.
func (v JSONValue) MarshalJSON() ([]byte, error) { return json.Marshal(v.V) }

// Schema is any of the JSON types; a list's items are scalars, the values a list holds in
// Relm's conditions and metadata.
func (JSONValue) Schema(huma.Registry) *huma.Schema {
	scalar := []*huma.Schema{{Type: huma.TypeString}, {Type: huma.TypeNumber}, {Type: huma.TypeBoolean}}
	return &huma.Schema{AnyOf: append(scalar, &huma.Schema{Type: huma.TypeArray, Items: &huma.Schema{AnyOf: scalar}},
		&huma.Schema{Type: "null"})}
}
