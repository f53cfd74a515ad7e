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
	"github.com/relmcrm/relm/tools"
)

// template maps a record URI scheme onto the get_* capability that reads it.
type template struct {
	prefix, tool, name, title, description string
}

var templates = []template{
	{"relm://contacts/", "get_contact", "contact", "Contact",
		"A contact of this workspace by id, as JSON: the same object get_contact returns."},
}

// Register adds every record resource template to s.
func Register(s *mcp.Server, reg *tools.Registry) error {
	for _, t := range templates {
		entry, ok := reg.Lookup(t.tool)
		if !ok {
			return errors.New("resources: no capability " + t.tool)
		}
		s.AddResourceTemplate(&mcp.ResourceTemplate{
			URITemplate: t.prefix + "{id}",
			Name:        t.name,
			Title:       t.title,
			Description: t.description,
			MIMEType:    "application/json",
		}, read(t.prefix, entry))
	}
	return registerSchema(s, reg)
}

// read serves resources/read for one template by calling its capability.
func read(prefix string, entry *tools.Entry) mcp.ResourceHandler {
	return func(ctx context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
		uri := req.Params.URI
		id, ok := strings.CutPrefix(uri, prefix)
		if !ok || id == "" || strings.Contains(id, "/") {
			return nil, mcp.ResourceNotFoundError(uri)
		}
		out, err := entry.Call(ctx, map[string]any{"id": id})
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
