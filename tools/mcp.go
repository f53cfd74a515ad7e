package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// instructions tell a model how to use the server, in a few lines, and which toolsets it
// can ask for beyond those sel serves.
func instructions(r *Registry, sel Selection) string {
	if !sel.Core && len(sel.Toolsets) == 1 && sel.Toolsets[0] == "chatgpt" {
		return chatgptInstructions
	}
	var b strings.Builder
	b.WriteString(`Relm is a CRM. Records (contacts, companies, deals, activities) belong to the workspace and mode (live or test) of the API key you connected with; you never see other workspaces.
Create records with create_* tools (log_activity for activities), fetch them with get_* by id (ids look like con_…), change them with update_* (only the fields you pass change; null clears a field) and page through list_* results by passing next_cursor back as cursor.
Before creating a contact, look it up with list_contacts by email: emails are unique and a duplicate create fails with already_exists and the existing id.
To learn the data model (fields, custom fields with their types and options, pipelines and stages), call get_schema or read the resource relm://schema. Custom field values go in metadata and must match their type. Deals sit in a pipeline stage: move them with move_deal_stage.
A failed call returns {"error":{"code","message",...}}; the message says how to fix the input, and retryable says whether the same call may succeed later.
`)
	var more []string // the toolsets left out; none when every tool is served
	for _, name := range r.Toolsets() {
		summary, ok := toolsetSummaries[name]
		if ok && (sel.Toolsets != nil || sel.Core) && !slices.Contains(sel.Toolsets, name) {
			more = append(more, name+" ("+summary+")")
		}
	}
	if len(more) > 0 {
		b.WriteString("This connection serves only some tools. More come in toolsets, which the user names in this server's URL, " +
			"such as ?toolsets=core,webhooks: core is the default set, all is every tool, and the others are ")
		b.WriteString(strings.Join(more, "; "))
		b.WriteString(". When a task needs one of them, tell the user which toolset to add.\n")
	}
	return b.String()
}

// chatgptInstructions are the instructions of a connection serving only the chatgpt toolset.
const chatgptInstructions = `Relm is a CRM. Its records (contacts, companies, deals, activities) belong to the workspace and mode of the account you connected with. ` +
	`search finds records by words of their names, emails, domains, titles and subjects (keywords work best: records matching every word come first) ` +
	`and returns their ids; fetch reads one record by id as text, with a link to its page.
`

// toolsetSummaries say in a few words what each toolset adds, for the instructions.
var toolsetSummaries = map[string]string{
	"contacts":     "delete, merge and batch-import contacts",
	"companies":    "delete and merge companies",
	"deals":        "delete deals",
	"pipelines":    "list, create and change pipelines and their stages",
	"activities":   "delete activities",
	"schema":       "define custom fields",
	"associations": "link any two records, such as a contact as champion of a deal",
	"search":       "find duplicate contacts or companies",
	"events":       "the change log; undo a change or a request; preview a change",
	"webhooks":     "send events to a URL, see and replay deliveries",
	"email":        "send email through the workspace's Resend account",
	"automations":  "rules that act when something happens",
	"api_keys":     "create, list and revoke API keys and OAuth grants",
	"sandboxes":    "test-mode sandboxes",
	"usage":        "usage and request logs",
}

// MCPOptions are what an MCP server has beyond the registry's capabilities.
type MCPOptions struct {
	Version  string                                                                   // the server's version, in its info
	IconURL  string                                                                   // an SVG icon of the server, in its info (protocol 2025-11-25)
	ToolIcon func(toolset string) string                                              // the URL of a toolset's SVG icon, shown beside its tools; nil: none
	Complete func(context.Context, *mcp.CompleteRequest) (*mcp.CompleteResult, error) // answers completion/complete, if set
}

// NewMCPServer builds the MCP server that exposes the capabilities of r that sel includes
// as tools. Tool schemas are inlined (no $ref), results carry structuredContent plus the
// same JSON as text, and failures are isError results whose text is the REST error body.
// opt adds what the server has beyond the registry.
func NewMCPServer(r *Registry, sel Selection, opt MCPOptions) *mcp.Server {
	info := &mcp.Implementation{Name: "relm", Title: "Relm CRM", Version: opt.Version}
	if opt.IconURL != "" {
		info.Icons = []mcp.Icon{{Source: opt.IconURL, MIMEType: "image/svg+xml"}}
	}
	s := mcp.NewServer(info, &mcp.ServerOptions{
		Instructions:      instructions(r, sel),
		Capabilities:      &mcp.ServerCapabilities{Tools: &mcp.ToolCapabilities{}, Resources: &mcp.ResourceCapabilities{}},
		CompletionHandler: opt.Complete,
	})
	for _, e := range r.Entries() {
		if sel.includes(e) {
			s.AddTool(listedTool(e, sel, opt), e.mcpHandler)
		}
	}
	return s
}

// ListedTools are the tools of r that sel includes, as a server built with opt lists them in
// tools/list before the workspace's schemas (TenantToolSchemas) and the key's scopes
// (ScopedToolList) adjust the list.
func ListedTools(r *Registry, sel Selection, opt MCPOptions) []*mcp.Tool {
	var list []*mcp.Tool
	for _, e := range r.Entries() {
		if sel.includes(e) {
			list = append(list, listedTool(e, sel, opt))
		}
	}
	return list
}

// listedTool is e as a server of sel built with opt lists it.
func listedTool(e *Entry, sel Selection, opt MCPOptions) *mcp.Tool {
	t := e.MCPTool()
	if sel.Lean {
		t.OutputSchema = nil
	}
	if opt.ToolIcon != nil {
		t.Icons = []mcp.Icon{{Source: opt.ToolIcon(e.Toolset), MIMEType: "image/svg+xml"}}
	}
	return t
}

// MCPTool is the tool definition published in tools/list.
func (e *Entry) MCPTool() *mcp.Tool {
	a := e.Annotations
	return &mcp.Tool{
		Name:         e.ToolName(),
		Title:        e.Title,
		Description:  e.Description,
		InputSchema:  e.MCPInputSchema(),
		OutputSchema: e.OutputSchema,
		Annotations: &mcp.ToolAnnotations{
			Title:           e.Title,
			ReadOnlyHint:    a.ReadOnly,
			DestructiveHint: &a.Destructive,
			IdempotentHint:  a.Idempotent,
			OpenWorldHint:   &a.OpenWorld,
		},
	}
}

// HandleMCP answers an MCP tools/call of e, as the tool's handler in the MCP server does.
func (e *Entry) HandleMCP(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	return e.mcpHandler(ctx, req)
}

func (e *Entry) mcpHandler(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	ctx = withPageBytes(ctx, MCPPageBytes)
	args, derr := DecodeArgs(req.Params.Arguments)
	if derr == nil {
		if res, handled := e.mcpIdempotent(ctx, args); handled {
			return res, nil
		}
	}
	var out any
	if derr == nil {
		out, derr = e.CallJSON(ctx, req.Params.Arguments, args)
	}
	if derr != nil {
		return e.mcpError(ctx, derr), nil
	}
	return mcpResponse(Encode(out), false), nil
}

// EncodeToolResult encodes a result this package built (mcpResponse: one text content and,
// on success, the same JSON as structuredContent) as the SDK would, without reflection:
// the text as a JSON string and the structured content as the JSON it already is, both
// HTML-escaped as the SDK's encoding of those fields leaves them. ok is false for any other
// result, which the caller then encodes as usual.
func EncodeToolResult(res *mcp.CallToolResult) (out []byte, ok bool) {
	if res == nil || res.Meta != nil || len(res.Content) != 1 {
		return nil, false
	}
	text, isText := res.Content[0].(*mcp.TextContent)
	if !isText || text.Meta != nil || text.Annotations != nil {
		return nil, false
	}
	quoted, err := json.Marshal(text.Text)
	if err != nil {
		return nil, false
	}
	var b bytes.Buffer
	b.Grow(2*len(quoted) + 64)
	b.WriteString(`{"content":[{"type":"text","text":`)
	b.Write(quoted)
	b.WriteString(`}]`)
	switch sc := res.StructuredContent.(type) {
	case nil:
	case jsonRaw:
		b.WriteString(`,"structuredContent":`)
		json.HTMLEscape(&b, sc)
	default:
		return nil, false
	}
	if res.IsError {
		b.WriteString(`,"isError":true`)
	}
	b.WriteString(`}`)
	return b.Bytes(), true
}
