// Package schemas is the single source of JSON Schemas for Relm: it generates every
// capability's input and output schema from its Go type (with Huma's registry, the one
// generator), hands them to the OpenAPI document by reference and to MCP inlined, and
// validates inputs against them so both surfaces accept and reject exactly the same things.
package schemas

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/danielgtaylor/huma/v2"
)

// RefPrefix is where named schemas live in the OpenAPI document.
const RefPrefix = "#/components/schemas/"

func init() {
	// Lists in Relm are never null on the wire; Huma's default would advertise them as such.
	huma.DefaultArrayNullable = false
}

// Set generates and holds the named schemas of one API.
type Set struct {
	reg huma.Registry
}

// NewSet returns an empty schema set.
func NewSet() *Set {
	return &Set{reg: huma.NewMapRegistry(RefPrefix, huma.DefaultSchemaNamer)}
}

// Registry exposes the underlying registry so the OpenAPI document shares it.
func (s *Set) Registry() huma.Registry { return s.reg }

// Of returns the schema of t, registering it (and every type it uses) under its name.
// The result is a reference for named struct types.
func (s *Set) Of(t reflect.Type) *huma.Schema {
	return s.reg.Schema(t, true, t.Name())
}

// Resolve follows a top-level $ref, returning the schema it names.
func (s *Set) Resolve(sch *huma.Schema) *huma.Schema {
	if sch.Ref != "" {
		return s.reg.SchemaFromRef(sch.Ref)
	}
	return sch
}

// Add registers a schema under name (for derived shapes such as REST request bodies) and
// returns a reference to it.
func (s *Set) Add(name string, sch *huma.Schema) *huma.Schema {
	s.reg.Map()[name] = sch
	return &huma.Schema{Ref: RefPrefix + name}
}

// Inline returns sch as a self-contained JSON object with every $ref replaced by the
// schema it names: some MCP clients cannot follow references in tool schemas.
func (s *Set) Inline(sch *huma.Schema) (map[string]any, error) {
	raw, err := json.Marshal(sch)
	if err != nil {
		return nil, err
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	out, err := s.inline(v, 0)
	if err != nil {
		return nil, err
	}
	obj, ok := out.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("schemas: %s is not an object schema", raw)
	}
	return obj, nil
}

func (s *Set) inline(v any, depth int) (any, error) {
	if depth > 32 {
		return nil, fmt.Errorf("schemas: reference cycle; recursive types cannot be inlined")
	}
	switch x := v.(type) {
	case map[string]any:
		if ref, ok := x["$ref"].(string); ok {
			name, found := strings.CutPrefix(ref, RefPrefix)
			target := s.reg.Map()[name]
			if !found || target == nil {
				return nil, fmt.Errorf("schemas: unknown reference %q", ref)
			}
			inlined, err := s.Inline(target)
			if err != nil {
				return nil, err
			}
			return s.inline(inlined, depth+1)
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			r, err := s.inline(e, depth+1)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			r, err := s.inline(e, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	default:
		return v, nil
	}
}
