package server_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/completions"
)

// TestPrompts: the prompts are listed with their arguments, fill them in, and refuse a
// missing required argument or an unknown one.
func TestPrompts(t *testing.T) {
	t.Parallel()
	e := setup(t)
	cs := e.mcpSession(e.Live, "")
	list, err := cs.ListPrompts(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range list.Prompts {
		names = append(names, p.Name)
		if p.Title == "" || p.Description == "" || len(p.Arguments) == 0 {
			t.Errorf("prompt %s lacks a title, description or arguments", p.Name)
		}
	}
	for _, want := range []string{"log_interaction", "pipeline_review", "import_contacts", "follow_up_stale_deals", "setup_webhook", "create_automation"} {
		if !slices.Contains(names, want) {
			t.Errorf("no prompt %s among %v", want, names)
		}
	}
	got, err := cs.GetPrompt(t.Context(), &mcp.GetPromptParams{Name: "log_interaction",
		Arguments: map[string]string{"contact": "con_aaaaaaaaaaaaaaaaaaaaaaaaaa", "type": "meeting", "summary": "agreed on a pilot"}})
	if err != nil {
		t.Fatal(err)
	}
	text := got.Messages[0].Content.(*mcp.TextContent).Text
	for _, want := range []string{`get_contact with id "con_aaaaaaaaaaaaaaaaaaaaaaaaaa"`, `log_activity with type "meeting"`, "agreed on a pilot"} {
		if !strings.Contains(text, want) {
			t.Errorf("log_interaction lacks %q:\n%s", want, text)
		}
	}
	if got, _ := cs.GetPrompt(t.Context(), &mcp.GetPromptParams{Name: "pipeline_review"}); !strings.Contains(got.Messages[0].Content.(*mcp.TextContent).Text, "list_pipelines") {
		t.Error("pipeline_review without a pipeline does not start from list_pipelines")
	}
	for args, want := range map[*mcp.GetPromptParams]string{
		{Name: "log_interaction"}: `needs the argument "contact"`,
		{Name: "setup_webhook", Arguments: map[string]string{"url": "https://x.example", "colour": "red"}}: `no argument "colour"`,
	} {
		if _, err := cs.GetPrompt(t.Context(), args); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s %v: %v, want an error saying %q", args.Name, args.Arguments, err, want)
		}
	}
}

// complete asks the server for completions of one argument.
func complete(t *testing.T, cs *mcp.ClientSession, ref *mcp.CompleteReference, arg, value string, others map[string]string) []string {
	t.Helper()
	p := &mcp.CompleteParams{Ref: ref, Argument: mcp.CompleteParamsArgument{Name: arg, Value: value}}
	if others != nil {
		p.Context = &mcp.CompleteContext{Arguments: others}
	}
	res, err := cs.Complete(t.Context(), p)
	if err != nil {
		t.Fatalf("complete %s=%q: %v", arg, value, err)
	}
	return res.Completion.Values
}

// TestCompletions: prompt and template arguments complete from the caller's own pipelines,
// stages, records and the fixed types; another tenant's values never appear.
func TestCompletions(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.call("POST", "/v1/pipelines", e.Live, map[string]any{"key": "renewals", "label": "Renewals",
		"stages": []any{map[string]any{"key": "due", "label": "Due"}, map[string]any{"key": "renewed", "label": "Renewed"}}}).must(t, http.StatusCreated)
	ada := e.create("contacts", e.Live, map[string]any{"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"})
	e.create("contacts", e.Other, map[string]any{"email": "ada@globex.example", "first_name": "Ada", "last_name": "Other"})
	deal := e.create("deals", e.Live, map[string]any{"title": "Analytical engine"})
	cs := e.mcpSession(e.Live, "")
	prompt := func(name string) *mcp.CompleteReference {
		return &mcp.CompleteReference{Type: "ref/prompt", Name: name}
	}
	resource := func(uri string) *mcp.CompleteReference { return &mcp.CompleteReference{Type: "ref/resource", URI: uri} }
	for _, c := range []struct {
		ref        *mcp.CompleteReference
		arg, value string
		others     map[string]string
		want       []string
		exact      bool
	}{
		{prompt("pipeline_review"), "pipeline", "", nil, []string{"sales", "renewals"}, true},
		{prompt("pipeline_review"), "pipeline", "re", nil, []string{"renewals"}, true},
		{prompt("follow_up_stale_deals"), "stage", "", map[string]string{"pipeline": "renewals"}, []string{"due", "renewed"}, true},
		{prompt("follow_up_stale_deals"), "stage", "qu", nil, []string{"qualified"}, true},
		{prompt("log_interaction"), "type", "me", nil, []string{"meeting"}, true},
		{prompt("log_interaction"), "contact", "ada", nil, []string{ada}, true},
		{prompt("log_interaction"), "contact", "lovelace", nil, []string{ada}, true},
		{prompt("log_interaction"), "summary", "x", nil, []string{}, true}, // free text
		{prompt("setup_webhook"), "event", "deal.st", nil, []string{"deal.stage_changed"}, true},
		{prompt("no_such_prompt"), "x", "", nil, []string{}, true},
		{resource("relm://contacts/{id}"), "id", "Ada", nil, []string{ada}, true},
		{resource("relm://contacts/{id}"), "id", ada[:6], nil, []string{ada}, true},
		{resource("relm://deals/{id}"), "id", "analytical", nil, []string{deal}, true},
		{resource("relm://pipelines/{pipeline}"), "pipeline", "s", nil, []string{"sales"}, true},
	} {
		got := complete(t, cs, c.ref, c.arg, c.value, c.others)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s %s %s=%q: %q, want %q", c.ref.Type, c.ref.Name+c.ref.URI, c.arg, c.value, got, c.want)
		}
	}
	// Custom field keys and select options, which the prompts do not take yet, complete too.
	e.defineField(e.Live, map[string]any{"object_type": "contact", "key": "tier", "label": "Tier", "type": "select", "options": []string{"gold", "silver"}})
	ctx := auth.WithCaller(context.Background(), e.keyCaller(e.Live))
	if keys, _, err := completions.Complete(ctx, e.Srv.Registry, completions.FieldKey, "t", nil); err != nil || !slices.Equal(keys, []string{"tier"}) {
		t.Errorf("field keys %v (%v)", keys, err)
	}
	if opts, _, err := completions.Complete(ctx, e.Srv.Registry, completions.FieldOption, "s", map[string]string{"field": "tier"}); err != nil || !slices.Equal(opts, []string{"silver"}) {
		t.Errorf("field options %v (%v)", opts, err)
	}
	// Another workspace completes from its own records only.
	if got := complete(t, e.mcpSession(e.Other, ""), prompt("log_interaction"), "contact", "ada", nil); len(got) != 1 || got[0] == ada {
		t.Errorf("another workspace completes %v", got)
	}
	if got := complete(t, e.mcpSession(e.Test, ""), resource("relm://contacts/{id}"), "id", "con_", nil); len(got) != 0 {
		t.Errorf("the test mode completes live ids %v", got)
	}
}

// TestToolSchemasPerWorkspace: tools/list describes the caller's own custom fields in
// metadata and enumerates its pipelines and stages; another workspace sees its own, and
// what a call accepts does not change.
func TestToolSchemasPerWorkspace(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.defineField(e.Live, map[string]any{"object_type": "contact", "key": "tier", "label": "Tier", "type": "select", "options": []string{"gold", "silver"}})
	e.defineField(e.Live, map[string]any{"object_type": "deal", "key": "seats", "label": "Seats", "type": "number"})
	e.call("POST", "/v1/pipelines", e.Live, map[string]any{"key": "renewals", "label": "Renewals",
		"stages": []any{map[string]any{"key": "due", "label": "Due"}}}).must(t, http.StatusCreated)
	schemaOf := func(key, tool string) map[string]any {
		list, err := e.mcpSession(key, "").ListTools(t.Context(), nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, tl := range list.Tools {
			if tl.Name == tool {
				return decode(t, toJSON(tl.InputSchema))
			}
		}
		t.Fatalf("no tool %s", tool)
		return nil
	}
	prop := func(schema map[string]any, path ...string) any {
		var v any = schema
		for _, p := range path {
			v = v.(map[string]any)[p]
		}
		return v
	}
	contact := schemaOf(e.Live, "create_contact")
	if got := toJSON(prop(contact, "properties", "metadata", "properties", "tier", "enum")); got != `["gold","silver",null]` {
		t.Errorf("create_contact metadata.tier: %s", got)
	}
	if prop(contact, "properties", "metadata", "properties", "seats") != nil {
		t.Error("a deal field types contact metadata")
	}
	if got := toJSON(prop(schemaOf(e.Live, "batch_upsert_contacts"), "properties", "contacts", "items", "properties", "metadata", "properties", "tier", "enum")); got != `["gold","silver",null]` {
		t.Errorf("batch_upsert_contacts items' metadata.tier: %s", got)
	}
	deal := schemaOf(e.Live, "create_deal")
	if got := toJSON(prop(deal, "properties", "pipeline", "enum")); got != `["sales","renewals"]` {
		t.Errorf("create_deal pipeline: %s", got)
	}
	if got := toJSON(prop(deal, "properties", "stage", "enum")); !strings.Contains(got, `"due"`) || !strings.Contains(got, `"lead"`) {
		t.Errorf("create_deal stage: %s", got)
	}
	if got := toJSON(prop(deal, "properties", "metadata", "properties", "seats", "type")); got != `["number","null"]` {
		t.Errorf("create_deal metadata.seats: %s", got)
	}
	// Another workspace: its own pipeline, no fields of ours.
	other := schemaOf(e.Other, "create_deal")
	if got := toJSON(prop(other, "properties", "pipeline", "enum")); got != `["sales"]` || prop(other, "properties", "metadata", "properties") != nil {
		t.Errorf("another workspace's create_deal: %s", toJSON(other))
	}
	// Free-form metadata keys are still accepted.
	if res := tool(t, e.mcpSession(e.Live, ""), "create_contact", map[string]any{"email": "free@example.com", "metadata": map[string]any{"anything": 1}}); res.IsError {
		t.Errorf("free-form metadata refused: %s", text(t, res))
	}
}

// TestServerIcon: the MCP server's info names its icon, which the server serves without a
// key.
func TestServerIcon(t *testing.T) {
	t.Parallel()
	e := setup(t)
	info := e.mcpSession(e.Live, "").InitializeResult().ServerInfo
	if len(info.Icons) != 1 || !strings.HasSuffix(info.Icons[0].Source, "/icon.svg") || info.Icons[0].MIMEType != "image/svg+xml" {
		t.Fatalf("server info icons: %+v", info.Icons)
	}
	res, err := http.Get(e.URL + "/icon.svg")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/svg+xml" {
		t.Fatalf("GET /icon.svg: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
}
