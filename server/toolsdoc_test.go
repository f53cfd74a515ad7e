package server_test

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/relmcrm/relm/server"
	"github.com/relmcrm/relm/tools"
)

// TestGoldenToolsDoc keeps docs/tools.md, the list of MCP tools and resources that the
// README links to, generated from the registry: it fails when the file drifts, and
// `go test ./server -run Golden -update` rewrites it.
func TestGoldenToolsDoc(t *testing.T) {
	t.Parallel()
	golden(t, "../docs/tools.md", toolsDoc(t, docServer(t)))
}

// toolsDoc renders the registry's tools by toolset (name, REST route, read-only, the first
// sentence of the description) and the MCP resources, as a real MCP client lists them.
func toolsDoc(t *testing.T, srv *server.Server) []byte {
	reg := srv.Registry
	var b bytes.Buffer
	b.WriteString("# MCP tools, resources and prompts\n\n" +
		"<!-- Generated from the registry by `go test ./server -run Golden -update`; do not edit. -->\n\n" +
		"Every tool below is an MCP tool at `/mcp`; those with a REST route are also under `/v1` with the\n" +
		"same input and output (see the OpenAPI document at `/openapi.yaml`). `/mcp` serves the core\n" +
		"tools; choose others with `/mcp?toolsets=core,webhooks` (`all` for every tool) and\n" +
		"`read_only=true` (see docs/api.md, \"MCP\"); `chatgpt` is opt-in, never in `all` (docs/api.md, \"ChatGPT\"). Each tool's full\n" +
		"description and schemas are in its [`tools/list` snapshot](../server/testdata/tools/), one file per tool.\n")
	b.WriteString("\n## Size\n\nWhat `tools/list` lists under each selection, in tokens estimated as bytes/4 of the tools' JSON\n" +
		"(names, descriptions, annotations, input and output schemas; without icons, which add about 20\n" +
		"tokens per tool, and before a workspace's custom fields and pipeline keys are added to the\n" +
		"schemas). A client that names no toolsets gets the default: the core tools, without output\n" +
		"schemas, within a budget of 25 tools and 8,000 tokens that `TestDefaultToolBudget` holds on the\n" +
		"exact `tools/list` the server sends. Output schemas are listed whenever `?toolsets=` is given,\n" +
		"`core` included. Each tool's row below gives its tokens as `?toolsets=` lists it and how many\n" +
		"of those its output schema takes, which the default leaves out.\n\n| selection | tools | tokens |\n| --- | --- | --- |\n")
	size := func(sel tools.Selection) (int, int) {
		listed := tools.ListedTools(reg, sel, tools.MCPOptions{})
		n := 0
		for _, t := range listed {
			n += len(tools.Encode(t))
		}
		return len(listed), n / 4
	}
	n, tokens := size(tools.DefaultSelection)
	fmt.Fprintf(&b, "| default (`/mcp`) | %d | %d |\n", n, tokens)
	n, tokens = size(tools.Selection{Core: true})
	fmt.Fprintf(&b, "| `core` | %d | %d |\n", n, tokens)
	for _, ts := range reg.Toolsets() {
		n, tokens = size(tools.Selection{Toolsets: []string{ts}})
		fmt.Fprintf(&b, "| `%s` | %d | %d |\n", ts, n, tokens)
	}
	n, tokens = size(tools.Selection{})
	fmt.Fprintf(&b, "| `all` | %d | %d |\n", n, tokens)
	b.WriteString("\nThe core tools: " + strings.Join(backquoted(tools.CoreTools), ", ") + ".\n")
	for _, ts := range reg.Toolsets() {
		fmt.Fprintf(&b, "\n## `%s`\n\n", ts)
		if slices.Contains(tools.OptInToolsets, ts) {
			fmt.Fprintf(&b, "Opt-in: served only when `?toolsets=` names `%s`, under the MCP names in parentheses.\n\n", ts)
		}
		b.WriteString("| tool | REST | read-only | tokens | of which output schema | what it does |\n| --- | --- | --- | --- | --- | --- |\n")
		for _, e := range reg.Entries() {
			if e.Toolset != ts {
				continue
			}
			route := "MCP only"
			if e.REST != nil {
				route = "`" + e.REST.Method + " " + e.REST.Path + "`"
			}
			ro := "no"
			if e.Annotations.ReadOnly {
				ro = "yes"
			}
			name := "`" + e.Name + "`"
			if e.MCPName != "" {
				name += " (`" + e.MCPName + "`)"
			}
			tool := e.MCPTool()
			size := len(tools.Encode(tool)) / 4
			tool.OutputSchema = nil
			fmt.Fprintf(&b, "| %s | %s | %s | %d | %d | %s |\n", name, route, ro, size, size-len(tools.Encode(tool))/4, cell(firstSentence(e.Description)))
		}
	}

	cs := docSession(t, srv, "")
	var rows []string
	templates, err := cs.ListResourceTemplates(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range templates.ResourceTemplates {
		rows = append(rows, fmt.Sprintf("| `%s` | template | %s |\n", r.URITemplate, cell(firstSentence(r.Description))))
	}
	res, err := cs.ListResources(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Resources {
		rows = append(rows, fmt.Sprintf("| `%s` | resource | %s |\n", r.URI, cell(firstSentence(r.Description))))
	}
	slices.Sort(rows)
	b.WriteString("\n## Resources\n\n| URI | kind | what it is |\n| --- | --- | --- |\n" + strings.Join(rows, ""))
	prompts, err := cs.ListPrompts(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	b.WriteString("\n## Prompts\n\nArguments marked * are required. Those that take a pipeline, stage, activity type, event type or record complete from the workspace (`completion/complete`).\n\n" +
		"| prompt | arguments | what it does |\n| --- | --- | --- |\n")
	for _, p := range prompts.Prompts {
		var args []string
		for _, a := range p.Arguments {
			name := "`" + a.Name + "`"
			if a.Required {
				name += "*"
			}
			args = append(args, name)
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", p.Name, strings.Join(args, ", "), cell(firstSentence(p.Description)))
	}
	return b.Bytes()
}

// sentenceEnd is a full stop followed by a new sentence ("e.g. a" goes on).
var sentenceEnd = regexp.MustCompile(`\.\s+[A-Z]`)

// firstSentence is a description's first sentence, with its full stop.
func firstSentence(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if loc := sentenceEnd.FindStringIndex(s); loc != nil {
		return s[:loc[0]+1]
	}
	return s
}

// cell escapes text for a Markdown table cell.
func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// backquoted returns names, each in backquotes.
func backquoted(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "`" + n + "`"
	}
	return out
}
