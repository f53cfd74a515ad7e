package rest

import (
	"fmt"
	"slices"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/relmcrm/relm/schemas"
	"github.com/relmcrm/relm/tools"
)

// filterParams publishes a list's filter as OpenAPI parameters that generated clients
// serialise to the wire format: one deepObject parameter filter[FIELD] per filterable field,
// an object of operators (filter[FIELD][OP]=value), and the equality shorthand FIELD=value
// for each field that is not a parameter of its own. taken are the route's other parameter
// names, path parameters and parameters an alias leaves out. filter[metadata->>KEY][OP],
// whose names depend on the workspace's data, is described in the operation instead.
func filterParams(reg *tools.Registry, spec tools.FilterSpec, taken []string) []*huma.Param {
	var params []*huma.Param
	explode := true
	for _, f := range spec.Fields {
		params = append(params, &huma.Param{Name: "filter[" + f.Name + "]", In: "query", Style: "deepObject", Explode: &explode,
			Description: fmt.Sprintf("Conditions on %s: filter[%s][OP]=value for each op (%s); all must hold. filter[%s]=value means eq.",
				f.Name, f.Name, opList(f.Kind), f.Name),
			Schema: opsSchema(reg, f)})
	}
	for _, f := range spec.Fields {
		if slices.Contains(taken, f.Name) {
			continue
		}
		params = append(params, &huma.Param{Name: f.Name, In: "query",
			Description: fmt.Sprintf("Shorthand for filter[%s][eq]=value.", f.Name), Schema: valueSchema(f)})
	}
	return params
}

// filterDescription is added to a filtered list's description: how the filter parameters
// combine, and the metadata filter no parameter can name.
func filterDescription(spec tools.FilterSpec) string {
	s := "\n\nFilters: each filter[FIELD] parameter is an object of operators, sent as filter[FIELD][OP]=value " +
		"(in takes comma-separated values); every condition must hold, at most 20 in all."
	if spec.Metadata {
		s += " Metadata keys filter as filter[metadata->>KEY][OP]=value (eq, neq, in, ilike; gt, gte, lt, lte for numbers); " +
			"a key defined as a custom field compares by its type."
	}
	return s
}

// opList names the ops of kind k.
func opList(k tools.FilterKind) string {
	ops := make([]string, 0, len(k.Ops()))
	for _, op := range k.Ops() {
		ops = append(ops, string(op))
	}
	return strings.Join(ops, ", ")
}

// opsSchema is the object of operators a field of f's kind takes. It is a shared component
// per kind, except for enums, whose values are the field's own.
func opsSchema(reg *tools.Registry, f tools.FilterField) *huma.Schema {
	s := &huma.Schema{Type: "object", AdditionalProperties: false, Properties: map[string]*huma.Schema{}}
	for _, op := range f.Kind.Ops() {
		v := valueSchema(f)
		if op == tools.FilterIn {
			v = &huma.Schema{Type: "string", Description: "Comma-separated values, at most 100; matches any of them."}
		}
		if op == tools.FilterIlike {
			v = &huma.Schema{Type: "string", MaxLength: ptr(1000), Description: "A case-insensitive pattern: % matches any run of characters, _ one character."}
		}
		s.Properties[string(op)] = v
	}
	if f.Kind == tools.FilterEnum {
		return s
	}
	name := kindName(f.Kind) + "Conditions"
	s.Description = "Conditions on a field of this type, by op; all must hold."
	if _, ok := reg.Schemas.Registry().Map()[name]; !ok {
		return reg.Schemas.Add(name, s)
	}
	return &huma.Schema{Ref: schemas.RefPrefix + name}
}

// valueSchema is the schema of one value of field f, as a query parameter carries it.
func valueSchema(f tools.FilterField) *huma.Schema {
	switch f.Kind {
	case tools.FilterInteger:
		return &huma.Schema{Type: "integer", Format: "int64"}
	case tools.FilterNumber:
		return &huma.Schema{Type: "number"}
	case tools.FilterBool:
		return &huma.Schema{Type: "boolean"}
	case tools.FilterDate:
		return &huma.Schema{Type: "string", Format: "date"}
	case tools.FilterTimestamp:
		return &huma.Schema{Type: "string", Description: "RFC 3339, or YYYY-MM-DD for midnight UTC."}
	case tools.FilterEnum:
		vals := make([]any, len(f.Values))
		for i, v := range f.Values {
			vals[i] = v
		}
		return &huma.Schema{Type: "string", Enum: vals}
	case tools.FilterID:
		return &huma.Schema{Type: "string", MaxLength: ptr(64)}
	case tools.FilterCIText:
		return &huma.Schema{Type: "string", MaxLength: ptr(1000), Description: "Compared case-insensitively."}
	}
	return &huma.Schema{Type: "string", MaxLength: ptr(1000)}
}

// kindName names a kind in schema names.
func kindName(k tools.FilterKind) string {
	switch k {
	case tools.FilterText:
		return "Text"
	case tools.FilterCIText:
		return "CaseInsensitiveText"
	case tools.FilterID:
		return "ID"
	case tools.FilterInteger:
		return "Integer"
	case tools.FilterDate:
		return "Date"
	case tools.FilterTimestamp:
		return "Timestamp"
	case tools.FilterBool:
		return "Boolean"
	case tools.FilterNumber:
		return "Number"
	}
	return "Enum"
}

func ptr[T any](v T) *T { return &v }
