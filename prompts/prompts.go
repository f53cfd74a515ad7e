// Package prompts offers MCP prompts for the common jobs of a CRM — logging an interaction,
// reviewing a pipeline, importing a list, following up stale deals, setting up a webhook,
// creating an automation — each a short message that tells the model which tools to call,
// in which order, with the arguments the user chose (completed from the workspace's own
// values: completions). Prompts read no data themselves: what the model then reads goes
// through the tools, scoped to the caller like any call.
package prompts

import (
	"context"
	"fmt"
	"strings"
	"text/template"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/relmcrm/relm/completions"
)

// argument is one argument of a prompt.
type argument struct {
	name, description string
	required          bool
	kind              completions.Kind // "" when it is free text
}

// prompt is a prompt with the message template its arguments fill in.
type prompt struct {
	name, title, description string
	args                     []argument
	text                     *template.Template
}

func newPrompt(name, title, description, text string, args ...argument) prompt {
	return prompt{name: name, title: title, description: description, args: args,
		text: template.Must(template.New(name).Option("missingkey=zero").Parse(text))}
}

// All are the prompts Relm offers.
var All = []prompt{
	newPrompt("log_interaction", "Log a call or meeting",
		"Record a call, meeting, email or note with a contact as an activity.",
		`Log a {{or .type "call"}} with the contact {{.contact}}{{if .summary}}: {{.summary}}{{end}}.
1. Call get_contact with id "{{.contact}}" to confirm who it is (and note its company_id).
2. Call log_activity with type "{{or .type "call"}}", contact_id "{{.contact}}" (and company_id when the contact has one), a short subject and the details as body{{if .summary}} from the summary above{{end}}.
3. If the conversation moved a deal forward, find it with list_deals (primary_contact_id or company_id) and move it with move_deal_stage; list_pipelines shows the valid stages.
Answer with what you logged.`,
		argument{"contact", "The contact's id (con_…): complete it by name or email.", true, completions.Contact},
		argument{"type", "call, meeting, email or note (default call).", false, completions.ActivityType},
		argument{"summary", "What was said or agreed, in a few words.", false, ""}),
	newPrompt("pipeline_review", "Weekly pipeline review",
		"Summarise a pipeline stage by stage and flag the deals that need attention, without changing anything.",
		`Review the {{or .pipeline "default"}} pipeline without changing anything.
1. Call {{if .pipeline}}get_pipeline with pipeline "{{.pipeline}}"{{else}}list_pipelines and take the default one{{end}} to learn its stages in order.
2. For each open stage, call list_deals with the pipeline and stage (page with cursor while has_more) and add up the deals and their value_cents.
3. Flag deals whose updated_at is more than 14 days old and deals past their close_date.
Answer with a table of stages (deals, total value), the flagged deals with their ids, and a suggested next step for each.`,
		argument{"pipeline", "The pipeline's key (default: the default pipeline).", false, completions.Pipeline}),
	newPrompt("import_contacts", "Import and dedupe a list of contacts",
		"Import a list of people as contacts without creating duplicates.",
		`Import these contacts without creating duplicates:
{{.list}}
1. Turn each person into {email, first_name, last_name, phone, metadata}; call get_schema first if custom fields (metadata keys) are involved, and use only their keys and options.
2. Call batch_upsert_contacts with dedup_on ["email"], at most 500 contacts a call. Rows without an email cannot be deduplicated: list them and ask before creating them.
3. Report how many were created, updated and failed; for each failed row give the reason from its error and how to fix it.`,
		argument{"list", "The people to import: pasted CSV, a table or one per line.", true, ""}),
	newPrompt("follow_up_stale_deals", "Follow up on stale deals",
		"Find open deals nobody has touched lately and plan a follow-up for each.",
		`Find open deals{{if .pipeline}} in the {{.pipeline}} pipeline{{end}}{{if .stage}} at stage {{.stage}}{{end}} not updated in the last {{or .days "14"}} days, and plan a follow-up for each.
1. Call list_deals with filter {"updated_at": {"lt": "<the date {{or .days "14"}} days ago, RFC 3339>"}}{{if .pipeline}}, pipeline "{{.pipeline}}"{{end}}{{if .stage}}, stage "{{.stage}}"{{end}}; skip deals in won or lost stages (list_pipelines shows which stages those are).
2. For each deal, read its latest activities with list_activities (deal_id) to see what happened last.
3. Log a task for each with log_activity (type "task", deal_id, subject "Follow up: …") saying what to do next.
Answer with the deals, their last activity and the task you logged.`,
		argument{"days", "How many days without a change makes a deal stale (default 14).", false, ""},
		argument{"pipeline", "Only deals of this pipeline (its key).", false, completions.Pipeline},
		argument{"stage", "Only deals at this stage (its key).", false, completions.Stage}),
	newPrompt("setup_webhook", "Set up a webhook",
		"Subscribe a URL to this workspace's events and check that deliveries arrive.",
		`Subscribe {{.url}} to {{if .event}}{{.event}} events{{else}}every event{{end}}.
1. Call create_webhook with url "{{.url}}" and events [{{if .event}}"{{.event}}"{{else}}"*"{{end}}]. Show the whsec_ signing secret to the user once: it is not shown again.
2. Explain how the receiver verifies the relm-signature header (t=…,v1=…: HMAC-SHA256 of "t.body" with the secret) and must answer 2xx quickly.
3. After the next matching change, call list_webhook_deliveries with the endpoint's id and report each delivery's status; replay_webhook_delivery sends a failed one again.`,
		argument{"url", "The HTTPS URL that receives the events.", true, ""},
		argument{"event", "One event type to subscribe to (default: every event).", false, completions.EventType}),
	newPrompt("create_automation", "Create an automation",
		"Make a rule that acts when something happens in the CRM, and check that it works.",
		`Create an automation: when {{.trigger_event}} happens, {{.goal}}.
1. Call get_schema to learn the pipelines, stages and custom fields the rule may use.
2. Call create_automation with trigger_event "{{.trigger_event}}", conditions that narrow it to the right records, and actions among move_deal_stage, create_activity, set_metadata and send_email. Keep it to what was asked.
3. After the next matching event, call list_automation_runs with the rule's id and report whether it ran (success, error with the reason, or skipped).`,
		argument{"trigger_event", "The event type that starts the rule.", true, completions.EventType},
		argument{"goal", "What the rule should do, in plain words.", true, ""}),
}

// Info describes a prompt, for the documentation pages.
type Info struct {
	Name, Title, Description string
	Args                     []ArgInfo
}

// ArgInfo describes an argument of a prompt; Completes is the kind of value it completes
// to, "" for free text.
type ArgInfo struct {
	Name, Description string
	Required          bool
	Completes         string
}

// Describe lists the prompts with their arguments.
func Describe() []Info {
	out := make([]Info, len(All))
	for i, p := range All {
		out[i] = Info{Name: p.name, Title: p.title, Description: p.description}
		for _, a := range p.args {
			out[i].Args = append(out[i].Args, ArgInfo{Name: a.name, Description: a.description, Required: a.required, Completes: string(a.kind)})
		}
	}
	return out
}

// Names lists the prompts' names.
func Names() []string {
	names := make([]string, len(All))
	for i, p := range All {
		names[i] = p.name
	}
	return names
}

// Register adds every prompt to s.
func Register(s *mcp.Server) {
	for _, p := range All {
		s.AddPrompt(p.definition(), p.get)
	}
}

func (p prompt) definition() *mcp.Prompt {
	def := &mcp.Prompt{Name: p.name, Title: p.title, Description: p.description}
	for _, a := range p.args {
		def.Arguments = append(def.Arguments, &mcp.PromptArgument{Name: a.name, Description: a.description, Required: a.required})
	}
	return def
}

// get fills in the prompt's message; a required argument missing or an unknown one is an
// invalid-params error naming it.
func (p prompt) get(_ context.Context, req *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
	args := map[string]string{}
	if req.Params != nil && req.Params.Arguments != nil {
		args = req.Params.Arguments
	}
	for name := range args {
		if _, ok := p.argument(name); !ok {
			return nil, invalid("Prompt %s takes no argument %q; it takes %s.", p.name, name, p.argumentNames())
		}
	}
	for _, a := range p.args {
		if a.required && strings.TrimSpace(args[a.name]) == "" {
			return nil, invalid("Prompt %s needs the argument %q: %s", p.name, a.name, a.description)
		}
	}
	var b strings.Builder
	if err := p.text.Execute(&b, args); err != nil {
		return nil, err
	}
	return &mcp.GetPromptResult{Description: p.description,
		Messages: []*mcp.PromptMessage{{Role: "user", Content: &mcp.TextContent{Text: b.String()}}}}, nil
}

// invalid is the JSON-RPC invalid-params error for a prompt's arguments.
func invalid(format string, args ...any) error {
	return &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: fmt.Sprintf(format, args...)}
}

func (p prompt) argument(name string) (argument, bool) {
	for _, a := range p.args {
		if a.name == name {
			return a, true
		}
	}
	return argument{}, false
}

func (p prompt) argumentNames() string {
	names := make([]string, len(p.args))
	for i, a := range p.args {
		names[i] = a.name
	}
	return strings.Join(names, ", ")
}

// ArgumentKind is what the argument arg of the prompt name takes, for completion; ok is
// false for an unknown prompt or argument, or one that takes free text.
func ArgumentKind(name, arg string) (completions.Kind, bool) {
	for _, p := range All {
		if p.name == name {
			a, ok := p.argument(arg)
			return a.kind, ok && a.kind != ""
		}
	}
	return "", false
}
