// Package resources exposes Relm records to MCP clients as resources, by URI
// (relm://contacts/{id}), and the workspace's data model (relm://schema). Reads go through
// the same capabilities as the tools, so the caller's workspace and mode scope them exactly
// as they scope tool calls.
package resources

import (
	"context"
	"errors"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/relmcrm/relm/completions"
	"github.com/relmcrm/relm/tools"
)

// template maps a record URI scheme onto the get_* capability that reads it.
type template struct {
	prefix, tool, param, name, title, description string
	kind                                          completions.Kind // what the URI's parameter takes
}

var templates = []template{
	{"relm://contacts/", "get_contact", "id", "contact", "Contact",
		"A contact of this workspace by id, as JSON: the same object get_contact returns.", completions.Contact},
	{"relm://companies/", "get_company", "id", "company", "Company",
		"A company of this workspace by id, as JSON: the same object get_company returns.", completions.Company},
	{"relm://deals/", "get_deal", "id", "deal", "Deal",
		"A deal of this workspace by id, as JSON: the same object get_deal returns.", completions.Deal},
	{"relm://activities/", "get_activity", "id", "activity", "Activity",
		"An activity of this workspace by id, as JSON: the same object get_activity returns.", completions.Activity},
	{"relm://pipelines/", "get_pipeline", "pipeline", "pipeline", "Pipeline",
		"A deal pipeline of this workspace by key, with its stages in order, as JSON: the same object get_pipeline returns.", completions.Pipeline},
}

// URITemplate is the template of t's URIs, such as relm://contacts/{id}.
func (t template) URITemplate() string { return t.prefix + "{" + t.param + "}" }

// Info describes a resource or resource template, for the documentation pages; Completes
// is the kind of value a template's parameter completes to.
type Info struct {
	URI, Title, Description, Completes string
}

// Describe lists the resource templates and then the fixed resources.
func Describe() []Info {
	var out []Info
	for _, t := range templates {
		out = append(out, Info{URI: t.URITemplate(), Title: t.title, Description: t.description, Completes: string(t.kind)})
	}
	return append(out, Info{URI: SchemaURI, Title: schemaTitle, Description: schemaDescription})
}

// TemplateURIs lists the resource templates' URI templates.
func TemplateURIs() []string {
	uris := make([]string, len(templates))
	for i, t := range templates {
		uris[i] = t.URITemplate()
	}
	return uris
}

// ArgumentKind is what the argument arg of the resource template uriTemplate takes, for
// completion; ok is false when Relm has no such template or argument.
func ArgumentKind(uriTemplate, arg string) (kind completions.Kind, ok bool) {
	for _, t := range templates {
		if t.URITemplate() == uriTemplate && t.param == arg {
			return t.kind, true
		}
	}
	return "", false
}

// Register adds every record resource template to s.
func Register(s *mcp.Server, reg *tools.Registry) error {
	for _, t := range templates {
		entry, ok := reg.Lookup(t.tool)
		if !ok {
			return errors.New("resources: no capability " + t.tool)
		}
		s.AddResourceTemplate(&mcp.ResourceTemplate{
			URITemplate: t.URITemplate(),
			Name:        t.name,
			Title:       t.title,
			Description: t.description,
			MIMEType:    "application/json",
		}, read(t, entry))
	}
	return registerSchema(s, reg)
}

// read serves resources/read for one template by calling its capability.
func read(t template, entry *tools.Entry) mcp.ResourceHandler {
	return func(ctx context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
		uri := req.Params.URI
		id, ok := strings.CutPrefix(uri, t.prefix)
		if !ok || id == "" || strings.Contains(id, "/") {
			return nil, mcp.ResourceNotFoundError(uri)
		}
		out, err := entry.Call(ctx, map[string]any{t.param: id})
		if err != nil {
			if err.Code == tools.CodeNotFound || err.Code == tools.CodeValidationFailed {
				return nil, mcp.ResourceNotFoundError(uri)
			}
			return nil, err
		}
		return &mcp.ReadResourceResult{
			Cacheable: mcp.Cacheable{CacheScope: "private"}, // tenant data
			Contents:  []*mcp.ResourceContents{{URI: uri, MIMEType: "application/json", Text: string(tools.Encode(out))}},
		}, nil
	}
}
