package resources

import (
	"context"
	"errors"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/relmcrm/relm/tools"
)

// SchemaURI is the resource describing the workspace's data model.
const SchemaURI = "relm://schema"

// The schema resource's title and description.
const (
	schemaTitle       = "Workspace schema"
	schemaDescription = "The data model of this workspace and mode, as JSON: for contacts, companies, deals and activities " +
		"their fields (type, nullability, filter ops) and custom fields (typed metadata keys, with select options), " +
		"and the deal pipelines with their stages, in order. Read it before creating or filtering records."
)

// registerSchema adds relm://schema: the caller's workspace schema (record fields, custom
// fields, pipelines and stages) as get_schema returns it, so an agent learns the data
// model in one read.
func registerSchema(s *mcp.Server, reg *tools.Registry) error {
	entry, ok := reg.Lookup("get_schema")
	if !ok {
		return errors.New("resources: no capability get_schema")
	}
	s.AddResource(&mcp.Resource{
		URI:         SchemaURI,
		Name:        "schema",
		Title:       schemaTitle,
		Description: schemaDescription,
		MIMEType:    "application/json",
	}, func(ctx context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
		out, err := entry.Call(ctx, map[string]any{})
		if err != nil {
			return nil, err
		}
		return &mcp.ReadResourceResult{
			Cacheable: mcp.Cacheable{CacheScope: "private"}, // tenant data
			Contents:  []*mcp.ResourceContents{{URI: SchemaURI, MIMEType: "application/json", Text: string(tools.Encode(out))}},
		}, nil
	})
	return nil
}
