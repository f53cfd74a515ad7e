package rest

import (
	"encoding/json"
	"regexp"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/relmcrm/relm/schemas"
	"github.com/relmcrm/relm/tools"
)

// finishDocument completes the OpenAPI document once every route is registered: a tag per
// toolset, and only the component schemas the operations use. The registry's schema set
// also holds the MCP tools' input schemas, which REST publishes as parameters and bodies
// instead.
func finishDocument(api huma.API, reg *tools.Registry) error {
	doc := api.OpenAPI()
	doc.Components.Headers = commonHeaders()
	for _, ts := range reg.Toolsets() {
		doc.Tags = append(doc.Tags, &huma.Tag{Name: ts,
			Description: "The " + ts + " toolset: each operation is also an MCP tool, at /mcp?toolsets=" + ts + "."})
	}
	all := doc.Components.Schemas.Map()
	used := huma.NewMapRegistry(schemas.RefPrefix, huma.DefaultSchemaNamer)
	paths, err := json.Marshal(doc.Paths)
	if err != nil {
		return err
	}
	pending := schemaRefs(paths)
	for len(pending) > 0 {
		name := pending[0]
		pending = pending[1:]
		if _, done := used.Map()[name]; done || all[name] == nil {
			continue
		}
		used.Map()[name] = all[name]
		raw, err := json.Marshal(all[name])
		if err != nil {
			return err
		}
		pending = append(pending, schemaRefs(raw)...)
	}
	doc.Components.Schemas = used
	return nil
}

var schemaRef = regexp.MustCompile(`"\$ref":"` + regexp.QuoteMeta(schemas.RefPrefix) + `([^"]+)"`)

// schemaRefs lists the component schemas a JSON document refers to.
func schemaRefs(raw []byte) []string {
	var names []string
	for _, m := range schemaRef.FindAllSubmatch(raw, -1) {
		names = append(names, strings.ReplaceAll(strings.ReplaceAll(string(m[1]), "~1", "/"), "~0", "~"))
	}
	return names
}
