package tools

import (
	"reflect"
	"strings"

	"github.com/relmcrm/relm/store/filter"
)

// FilterKind is the type of a filterable field: it decides the ops it takes and how its
// values parse.
type FilterKind = filter.Kind

// FilterOp is a comparison a filter applies to a field.
type FilterOp = filter.Op

// The kinds of filterable field and the ops whose values the REST projection describes
// apart from the field's own type.
const (
	FilterText      = filter.Text
	FilterCIText    = filter.CIText
	FilterID        = filter.ID
	FilterInteger   = filter.Integer
	FilterDate      = filter.Date
	FilterTimestamp = filter.Timestamp
	FilterEnum      = filter.Enum
	FilterBool      = filter.Bool
	FilterNumber    = filter.Number

	FilterIn    = filter.In
	FilterIlike = filter.Ilike
)

// FilterSpec is the wire form of the structured filter a list capability takes: the fields
// it filters on and whether it takes metadata->>KEY.
type FilterSpec struct {
	Fields   []FilterField
	Metadata bool
}

// FilterField is one filterable field: its wire name, its kind, and for an enum its values.
type FilterField struct {
	Name   string
	Kind   FilterKind
	Values []string
}

// Spec is the filter spec of S: the fields a list filters on, with their kinds.
func (Filter[S]) Spec() filter.Spec {
	var s S
	return s.spec()
}

// FilterSpec returns the wire form of the structured filter the capability's input takes
// (its "filter" field), for the REST projection to publish one parameter per field.
func (e *Entry) FilterSpec() (FilterSpec, bool) {
	in, _ := e.tool.types()
	for in.Kind() == reflect.Pointer {
		in = in.Elem()
	}
	if in.Kind() != reflect.Struct {
		return FilterSpec{}, false
	}
	for f := range in.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "filter" {
			continue
		}
		if s, ok := reflect.Zero(f.Type).Interface().(interface{ Spec() filter.Spec }); ok {
			return wireSpec(s.Spec()), true
		}
	}
	return FilterSpec{}, false
}

// wireSpec is what s lets callers filter on, without the SQL each field compares.
func wireSpec(s filter.Spec) FilterSpec {
	out := FilterSpec{Fields: make([]FilterField, len(s.Fields)), Metadata: s.MetadataColumn != ""}
	for i, f := range s.Fields {
		out.Fields[i] = FilterField{Name: f.Name, Kind: f.Kind, Values: f.Values}
	}
	return out
}
