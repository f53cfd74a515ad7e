package docsite

import (
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/relmcrm/relm/store/filter"
	"github.com/relmcrm/relm/tools"
)

// toolset is a group of capabilities, such as contacts: one resource of the reference.
type toolset struct {
	Name  string
	ID    string // anchor
	Tools []*capability
}

// capability is what the pages say of one registry entry: its MCP tool and REST routes.
type capability struct {
	Name        string // the tool name, also its anchor
	MCPName     string // the name MCP clients call it by, when not Name (tools.Info.MCPName)
	Toolset     string
	Title       string
	Description []string // paragraphs
	Routes      []route  // the canonical route first, then aliases
	Hints       []string // read-only, destructive, idempotent, open-world
	Idempotency bool     // takes Idempotency-Key (MCP: idempotency_key)
	Args        []field
	Filters     []filterField
	Metadata    bool  // filters on metadata->>KEY
	Errors      []int // the error statuses of its canonical route, from the OpenAPI document
	Returns     []field
}

// route is one REST binding of a capability.
type route struct {
	Method, Path string
	Status       int
	ID           string // anchor
	Alias        bool
}

// filterField is one field a list filters on: filter[Name][op]=value.
type filterField struct {
	Name  string
	About string // what it holds, from the filter's schema
	Ops   []string
}

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

// buildReference groups the registry's capabilities by toolset, with the error statuses
// the OpenAPI document gives each route.
func buildReference(reg *tools.Registry, doc *huma.OpenAPI) ([]toolset, error) {
	var sets []toolset
	for _, name := range reg.Toolsets() {
		ts := toolset{Name: name, ID: "toolset-" + name}
		for _, e := range reg.Entries() {
			if e.Toolset != name {
				continue
			}
			c, err := describe(e, doc)
			if err != nil {
				return nil, err
			}
			ts.Tools = append(ts.Tools, c)
		}
		sets = append(sets, ts)
	}
	return sets, nil
}

// describe reads one entry.
func describe(e *tools.Entry, doc *huma.OpenAPI) (*capability, error) {
	c := &capability{Name: e.Name, MCPName: e.MCPName, Toolset: e.Toolset, Title: e.Title, Idempotency: e.AcceptsIdempotencyKey()}
	for _, p := range strings.Split(e.Description, "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			c.Description = append(c.Description, p)
		}
	}
	c.Routes = append(c.Routes, newRoute(*e.REST, false))
	for _, a := range e.Aliases {
		c.Routes = append(c.Routes, newRoute(a, true))
	}
	a := e.Annotations
	for _, h := range []struct {
		on   bool
		name string
	}{{a.ReadOnly, "read-only"}, {a.Destructive, "destructive"}, {a.Idempotent, "idempotent"}, {a.OpenWorld, "open-world"}} {
		if h.on {
			c.Hints = append(c.Hints, h.name)
		}
	}
	c.Args = schemaFields(e.MCPInputSchema())
	params := pathParams(e.REST.Path)
	for i := range c.Args {
		c.Args[i].In = argLocation(c.Args[i].Name, e.REST.Method, params)
	}
	if spec, ok := e.FilterSpec(); ok {
		c.Metadata = spec.Metadata
		for _, f := range spec.Fields {
			ff := filterField{Name: f.Name, About: filter.Label(filter.Field{Kind: f.Kind, Values: f.Values})}
			for _, op := range f.Kind.Ops() {
				ff.Ops = append(ff.Ops, string(op))
			}
			c.Filters = append(c.Filters, ff)
		}
	}
	errs, err := routeErrors(doc, e.REST)
	if err != nil {
		return nil, fmt.Errorf("docsite: %s: %w", e.Name, err)
	}
	c.Errors = errs
	c.Returns = schemaFields(e.OutputSchema)
	return c, nil
}

func newRoute(r tools.Route, alias bool) route {
	return route{Method: r.Method, Path: r.Path, Status: r.Status, Alias: alias, ID: routeID(r.Method, r.Path)}
}

// routeID is the anchor of a route: route-get-v1-contacts-id.
func routeID(method, path string) string { return "route-" + slug(method+" "+path) }

func pathParams(path string) []string {
	var names []string
	for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
		names = append(names, m[1])
	}
	return names
}

// argLocation says where REST takes an input field: the path, the query string or the
// body; idempotency_key is MCP's form of the Idempotency-Key header, and If-Match is REST's
// other form of expected_version.
func argLocation(name, method string, params []string) string {
	top, _, _ := strings.Cut(name, ".")
	top, _, _ = strings.Cut(top, "[")
	switch {
	case top == tools.IdempotencyKeyArg:
		return "MCP only; REST: Idempotency-Key header"
	case slices.Contains(params, top):
		return "path"
	case top == tools.ExpectedVersionArg && (method == http.MethodGet || method == http.MethodDelete):
		return "query, or the If-Match header"
	case top == tools.ExpectedVersionArg:
		return "body, or the If-Match header"
	case top == "filter":
		return "query: filter[field][op]"
	case method == http.MethodGet || method == http.MethodDelete:
		return "query"
	}
	return "body"
}

// routeErrors lists the error statuses the OpenAPI document gives r. Which code of a
// status a route answers is not recorded anywhere, so the pages list statuses and link
// them to the table of codes.
func routeErrors(doc *huma.OpenAPI, r *tools.Route) ([]int, error) {
	op := operation(doc, r.Method, r.Path)
	if op == nil {
		return nil, fmt.Errorf("no operation %s %s in the OpenAPI document", r.Method, r.Path)
	}
	var out []int
	for s := range maps.Keys(op.Responses) {
		if status, err := strconv.Atoi(s); err == nil && status >= 400 {
			out = append(out, status)
		}
	}
	slices.Sort(out)
	return out, nil
}

// operation finds the operation of method and path in doc.
func operation(doc *huma.OpenAPI, method, path string) *huma.Operation {
	pi := doc.Paths[path]
	if pi == nil {
		return nil
	}
	switch method {
	case http.MethodGet:
		return pi.Get
	case http.MethodPost:
		return pi.Post
	case http.MethodPut:
		return pi.Put
	case http.MethodPatch:
		return pi.Patch
	case http.MethodDelete:
		return pi.Delete
	}
	return nil
}
