package tools

import (
	"reflect"
	"strings"

	"github.com/relmcrm/relm/store/filter"
)

// Spec is the filter spec of S: the fields a list filters on, with their kinds.
func (Filter[S]) Spec() filter.Spec {
	var s S
	return s.spec()
}

// FilterSpec returns the spec of the structured filter the capability's input takes (its
// "filter" field), for the REST projection to publish one parameter per field.
func (e *Entry) FilterSpec() (filter.Spec, bool) {
	in, _ := e.tool.types()
	for in.Kind() == reflect.Pointer {
		in = in.Elem()
	}
	if in.Kind() != reflect.Struct {
		return filter.Spec{}, false
	}
	for f := range in.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "filter" {
			continue
		}
		if s, ok := reflect.Zero(f.Type).Interface().(interface{ Spec() filter.Spec }); ok {
			return s.Spec(), true
		}
	}
	return filter.Spec{}, false
}
