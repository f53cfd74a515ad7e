package rest_test

import (
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/relmcrm/relm/rest"
	"github.com/relmcrm/relm/tools"
)

// TestFilterParameters: every list route with a filter publishes one deepObject parameter
// filter[FIELD] per filterable field (the fields the MCP tool's filter documents), an object
// of exactly the field's ops, plus the equality shorthand FIELD=value unless FIELD is a
// parameter of its own; no parameter is the two-level filter[field][op] that OpenAPI does
// not define.
func TestFilterParameters(t *testing.T) {
	reg, err := tools.NewRegistry(slog.New(slog.NewTextHandler(io.Discard, nil)), tools.All(nil)...)
	if err != nil {
		t.Fatal(err)
	}
	api := rest.New(http.NewServeMux(), reg, "test")
	doc := api.OpenAPI()
	resolve := func(s *huma.Schema) *huma.Schema {
		if s != nil && s.Ref != "" {
			return doc.Components.Schemas.SchemaFromRef(s.Ref)
		}
		return s
	}
	lists := 0
	for _, e := range reg.Entries() {
		props, _ := e.InputSchema["properties"].(map[string]any)
		filterSchema, _ := props["filter"].(map[string]any)
		if e.REST == nil || filterSchema == nil {
			continue
		}
		lists++
		spec, ok := e.FilterSpec()
		if !ok {
			t.Fatalf("%s takes a filter but has no filter spec", e.Name)
		}
		op := doc.Paths[e.REST.Path].Get
		if op == nil {
			t.Fatalf("%s: no GET %s in the document", e.Name, e.REST.Path)
		}
		params := map[string]*huma.Param{}
		for _, p := range op.Parameters {
			if _, dup := params[p.Name]; dup {
				t.Errorf("%s: parameter %s twice", e.Name, p.Name)
			}
			params[p.Name] = p
		}
		if _, ok := params["filter"]; ok {
			t.Errorf("%s: still publishes the two-level filter parameter", e.Name)
		}
		var published []string
		for name, p := range params {
			if f, ok := strings.CutPrefix(name, "filter["); ok {
				published = append(published, strings.TrimSuffix(f, "]"))
				if p.In != "query" || p.Style != "deepObject" || p.Explode == nil || !*p.Explode {
					t.Errorf("%s %s: in %s, style %q, explode %v; want a query deepObject, exploded", e.Name, name, p.In, p.Style, p.Explode)
				}
			}
		}
		slices.Sort(published)
		want := make([]string, 0, len(spec.Fields))
		for _, f := range spec.Fields {
			want = append(want, f.Name)
		}
		slices.Sort(want)
		if !slices.Equal(published, want) {
			t.Errorf("%s: filter parameters for %v, want one per filterable field %v", e.Name, published, want)
		}
		for _, f := range spec.Fields {
			p := params["filter["+f.Name+"]"]
			if p == nil {
				continue
			}
			s := resolve(p.Schema)
			if s == nil || s.Type != "object" || s.AdditionalProperties != false {
				t.Errorf("%s filter[%s]: want a closed object of ops, got %+v", e.Name, f.Name, s)
				continue
			}
			var ops, wantOps []string
			for op := range s.Properties {
				ops = append(ops, op)
			}
			for _, op := range f.Kind.Ops() {
				wantOps = append(wantOps, string(op))
			}
			slices.Sort(ops)
			slices.Sort(wantOps)
			if !slices.Equal(ops, wantOps) {
				t.Errorf("%s filter[%s]: ops %v, want %v", e.Name, f.Name, ops, wantOps)
			}
			if sh := params[f.Name]; sh == nil || sh.In != "query" || sh.Style != "" {
				// Either the route's own parameter of that name, or the shorthand.
				if !strings.Contains(e.REST.Path, "{"+f.Name+"}") {
					t.Errorf("%s: no query parameter %s (the shorthand for filter[%s][eq])", e.Name, f.Name, f.Name)
				}
			}
		}
	}
	if lists < 10 {
		t.Fatalf("only %d list routes with a filter found", lists)
	}
}
