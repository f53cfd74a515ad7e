package tools

import (
	"github.com/danielgtaylor/huma/v2"

	"github.com/relmcrm/relm/store"
)

// RecordKind names a kind of record (contact, company, deal or activity): the fields that
// say which kind an association end, a custom field or a search hit is take this type,
// whose schema enumerates store.RecordKinds.
type RecordKind string

// Schema is a string that is one of store.RecordKinds.
func (RecordKind) Schema(huma.Registry) *huma.Schema {
	enum := make([]any, len(store.RecordKinds))
	for i, k := range store.RecordKinds {
		enum[i] = k
	}
	return &huma.Schema{Type: huma.TypeString, Enum: enum}
}

// kindStrings is kinds as the store takes them.
func kindStrings(kinds []RecordKind) []string {
	if kinds == nil {
		return nil
	}
	out := make([]string, len(kinds))
	for i, k := range kinds {
		out[i] = string(k)
	}
	return out
}
