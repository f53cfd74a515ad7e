// Package filter parses and compiles the typed filter language of list endpoints into SQL
// conditions. The language is the same on REST (filter[field][op]=value) and on MCP (the
// same filter as a JSON object). Filter input never reaches SQL as text: fields map to
// trusted column expressions supplied by code, and every value is a bound parameter.
package filter

import (
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Kind is the type of a filterable field; it decides the ops and how values parse.
type Kind int

const (
	Text      Kind = iota // eq neq ilike in; case-sensitive eq
	CIText                // like Text, but eq/neq/in compare case-insensitively
	ID                    // eq neq in; a string of at most 64 characters
	Integer               // eq neq gt gte lt lte in; an int64
	Date                  // eq neq gt gte lt lte in; "YYYY-MM-DD"
	Timestamp             // eq neq gt gte lt lte in; RFC 3339 or "YYYY-MM-DD" (midnight UTC)
	Enum                  // eq neq in; one of Field.Values
	Bool                  // eq neq; true or false
	Number                // eq neq gt gte lt lte in; any finite number (typed metadata keys)
)

// Op is a comparison a filter applies to a field.
type Op string

const (
	Eq    Op = "eq"
	Neq   Op = "neq"
	Gt    Op = "gt"
	Gte   Op = "gte"
	Lt    Op = "lt"
	Lte   Op = "lte"
	Ilike Op = "ilike"
	In    Op = "in"
)

// Limits on one filter, so a request cannot make an arbitrarily large query.
const (
	maxConditions  = 20   // field/op pairs in one filter
	maxInValues    = 100  // values in one in
	maxStringBytes = 1000 // bytes in one string value
	maxIDChars     = 64   // characters in an ID value
)

// Ops returns the ops a field of kind k accepts.
func (k Kind) Ops() []Op {
	switch k {
	case Text, CIText:
		return []Op{Eq, Neq, Ilike, In}
	case ID, Enum:
		return []Op{Eq, Neq, In}
	case Integer, Number, Date, Timestamp:
		return []Op{Eq, Neq, Gt, Gte, Lt, Lte, In}
	case Bool:
		return []Op{Eq, Neq}
	}
	return nil
}

// accepts reports whether a field of kind k takes op.
func (k Kind) accepts(op Op) bool { return slices.Contains(k.Ops(), op) }

// Field is a filterable field of a list: its wire name and the SQL it compares.
type Field struct {
	Name   string   // wire name, e.g. "value_cents"
	Column string   // trusted SQL expression, e.g. "value_cents" or "d.value_cents"
	Kind   Kind     // decides the ops and how values parse
	Values []string // the allowed values, for Enum only
}

// Spec is what one list endpoint lets callers filter on.
type Spec struct {
	Fields         []Field
	MetadataColumn string // e.g. "metadata"; empty means metadata->>key filters are not allowed
	// MetadataFields types some metadata keys (the caller's custom fields), filled per
	// request; keys not in it stay untyped.
	MetadataFields map[string]MetadataField
}

// metadataPrefix starts the name of a filter on a key of the metadata column.
const metadataPrefix = "metadata->>"

// NamesMetadata reports whether any of the structured filters names a metadata key
// (metadata->>KEY).
func NamesMetadata(filters []map[string]any) bool {
	for _, f := range filters {
		for name := range f {
			if strings.HasPrefix(name, metadataPrefix) {
				return true
			}
		}
	}
	return false
}

// field returns the field named name.
func (s Spec) field(name string) (Field, bool) {
	for _, f := range s.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// names lists what may be filtered on, for the error that reports an unknown field.
func (s Spec) names() []string {
	names := make([]string, 0, len(s.Fields)+1)
	for _, f := range s.Fields {
		names = append(names, f.Name)
	}
	if s.MetadataColumn != "" {
		names = append(names, metadataPrefix+"KEY")
	}
	return names
}

// Error is a filter the caller must fix. Param names the offending query parameter in REST
// form, e.g. "filter[value_cents][gte]" or "filter[colour]"; Message says what is wrong and
// what to do; ValidOptions lists the valid fields, ops or enum values when one was unknown.
type Error struct {
	Param        string
	Message      string
	ValidOptions []string
}

func (e *Error) Error() string { return e.Param + ": " + e.Message }

// FieldParam is the REST parameter filtering name with the shorthand (eq) form.
func FieldParam(name string) string { return "filter[" + name + "]" }

// OpParam is the REST parameter applying op to name.
func OpParam(name string, op Op) string { return "filter[" + name + "][" + string(op) + "]" }

// opStrings turns ops into the strings an Error lists as valid options.
func opStrings(ops []Op) []string {
	out := make([]string, len(ops))
	for i, op := range ops {
		out[i] = string(op)
	}
	return out
}

// Quote renders caller input for an error message: quoted, and cut short when long.
func Quote(s string) string {
	const max = 64
	if len(s) <= max {
		return strconv.Quote(s)
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut] + "…")
}
