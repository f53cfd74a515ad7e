package tools

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// recordKindOfToolset is the record kind whose custom fields type the metadata of the
// tools of a toolset.
var recordKindOfToolset = map[string]string{"contacts": "contact", "companies": "company", "deals": "deal", "activities": "activity"}

// TenantToolSchemas is MCP middleware answering tools/list for the caller's workspace and
// mode: a tool's metadata argument lists the caller's custom fields of its record kind as
// typed properties (select options as an enum; other keys stay free-form), and its pipeline
// and stage arguments enumerate the caller's pipeline and stage keys. The schemas only
// describe more; what a call accepts is checked as before. When the workspace's schema
// cannot be read, the generic schemas are served.
func (r *Registry) TenantToolSchemas(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		res, err := next(ctx, method, req)
		list, ok := res.(*mcp.ListToolsResult)
		if method != "tools/list" || err != nil || !ok {
			return res, err
		}
		ts, terr := r.tenantSchema(ctx)
		if terr != nil || ts.empty() {
			return res, err
		}
		out := *list
		out.Tools = make([]*mcp.Tool, len(list.Tools))
		for i, tool := range list.Tools {
			out.Tools[i] = ts.describe(r, SelectionFrom(ctx), tool)
		}
		return &out, nil
	}
}

// tenantSchema is what a workspace and mode define: custom fields by record kind, as JSON
// Schemas of their values, and pipeline and stage keys.
type tenantSchema struct {
	fields    map[string]map[string]any // kind -> key -> schema
	pipelines []string
	stages    []string
}

func (ts tenantSchema) empty() bool { return len(ts.fields) == 0 && len(ts.pipelines) == 0 }

// tenantSchema reads the caller's custom fields and pipelines through their capabilities.
func (r *Registry) tenantSchema(ctx context.Context) (tenantSchema, error) {
	ts := tenantSchema{fields: map[string]map[string]any{}}
	fields, err := r.CallJSON(ctx, "list_custom_fields", map[string]any{})
	if err != nil {
		return ts, err
	}
	for _, f := range ListData(fields) {
		kind, _ := f["object_type"].(string)
		key, _ := f["key"].(string)
		if ts.fields[kind] == nil {
			ts.fields[kind] = map[string]any{}
		}
		ts.fields[kind][key] = fieldValueSchema(f)
	}
	pipelines, err := r.CallJSON(ctx, "list_pipelines", map[string]any{})
	if err != nil {
		return ts, err
	}
	for _, p := range ListData(pipelines) {
		key, _ := p["key"].(string)
		ts.pipelines = append(ts.pipelines, key)
		stages, _ := p["stages"].([]any)
		for _, s := range stages {
			st, _ := s.(map[string]any)
			if k, _ := st["key"].(string); k != "" && !slices.Contains(ts.stages, k) {
				ts.stages = append(ts.stages, k)
			}
		}
	}
	return ts, nil
}

// fieldValueSchema is the JSON Schema of a custom field's value in metadata: its type, its
// options for a select, and null (which removes the key).
func fieldValueSchema(f map[string]any) map[string]any {
	s := map[string]any{}
	switch f["type"] {
	case "number":
		s["type"] = []any{"number", "null"}
	case "bool":
		s["type"] = []any{"boolean", "null"}
	case "date":
		s["type"], s["format"] = []any{"string", "null"}, "date"
	case "select":
		options, _ := f["options"].([]any)
		s["enum"] = append(slices.Clone(options), nil)
	default:
		s["type"] = []any{"string", "null"}
	}
	desc, _ := f["label"].(string)
	if d, _ := f["description"].(string); d != "" {
		desc += ": " + d
	}
	s["description"] = "Custom field " + desc + "."
	return s
}

// describe is tool with its input schema described for the tenant; tool itself, shared by
// every caller, is never changed.
func (ts tenantSchema) describe(r *Registry, sel Selection, tool *mcp.Tool) *mcp.Tool {
	e, ok := r.LookupTool(sel, tool.Name)
	if !ok {
		return tool
	}
	fields := ts.fields[recordKindOfToolset[e.Toolset]]
	schema, ok := cloneJSON(tool.InputSchema)
	if !ok {
		return tool
	}
	if !ts.describeProperties(schema, fields) {
		return tool
	}
	t := *tool
	t.InputSchema = schema
	return &t
}

// describeProperties adds the tenant's values to the properties of schema (and of the
// objects its array properties hold) and reports whether it changed anything.
func (ts tenantSchema) describeProperties(schema map[string]any, fields map[string]any) bool {
	props, _ := schema["properties"].(map[string]any)
	changed := false
	for name, p := range props {
		prop, _ := p.(map[string]any)
		if prop == nil {
			continue
		}
		switch {
		case name == "metadata" && len(fields) > 0:
			prop["properties"] = fields
			changed = true
		case name == "pipeline" && len(ts.pipelines) > 0 && prop["type"] == "string":
			prop["enum"] = anySlice(ts.pipelines)
			changed = true
		case name == "stage" && len(ts.stages) > 0 && prop["type"] == "string":
			prop["enum"] = anySlice(ts.stages)
			changed = true
		case prop["type"] == "array":
			if items, ok := prop["items"].(map[string]any); ok && ts.describeProperties(items, fields) {
				changed = true
			}
		}
	}
	return changed
}

// CallJSON runs the capability name with args as the caller in ctx and returns its result
// as JSON-shaped data (maps, slices, json.Number), as a client would read it.
func (r *Registry) CallJSON(ctx context.Context, name string, args map[string]any) (map[string]any, error) {
	e, ok := r.Lookup(name)
	if !ok {
		return nil, NewError(CodeInternal, "no capability %s", name)
	}
	out, cerr := e.Call(ctx, args)
	if cerr != nil {
		return nil, cerr
	}
	m, derr := DecodeArgs(Encode(out))
	if derr != nil {
		return nil, derr
	}
	return m, nil
}

// ListData are the objects of a list result's data, as CallJSON returns it.
func ListData(list map[string]any) []map[string]any {
	data, _ := list["data"].([]any)
	out := make([]map[string]any, 0, len(data))
	for _, d := range data {
		if m, ok := d.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// cloneJSON deep-copies a JSON-shaped schema.
func cloneJSON(v any) (map[string]any, bool) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, false
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m) == nil
}

func anySlice(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
