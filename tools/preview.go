package tools

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/relmcrm/relm/store"
)

// PreviewInput names a write tool and its arguments.
type PreviewInput struct {
	Tool      string         `json:"tool" minLength:"1" maxLength:"100" doc:"Name of the write tool to preview, such as update_contact or delete_deal."`
	Arguments map[string]any `json:"arguments,omitempty" doc:"Its arguments, exactly as you would pass them to it."`
}

// Preview is what a write would do, without its being kept.
type Preview struct {
	Object           string   `json:"object" enum:"preview" doc:"Always \"preview\"."`
	Tool             string   `json:"tool" doc:"The tool previewed."`
	Result           any      `json:"result" doc:"What the tool would return (its output, as if it had run)."`
	Events           []Event  `json:"events" doc:"The events it would record, in order (their ids and times are not kept)."`
	WebhookEndpoints []string `json:"webhook_endpoint_ids" doc:"The webhook endpoints those events would be delivered to (whep_…)."`
	Automations      []string `json:"automation_ids" doc:"The automations those events would start (auto_…), runs that would be skipped by the loop guard excluded."`
}

// previewToolsets are the toolsets whose writes preview_change runs: their work is all in
// the database, so rolling back its transaction undoes all of it. Email reaches Resend;
// custom fields, API keys and sandboxes feed in-process caches and credentials.
var previewToolsets = []string{"contacts", "companies", "deals", "activities", "associations", "pipelines", "automations", "webhooks", "events"}

// errPreviewed rolls back a preview's transaction once its outcome is read.
var errPreviewed = errors.New("tools: preview rolled back")

type registryKey struct{}

// previewable reports whether preview_change runs e.
func (e *Entry) previewable() bool {
	return !e.Annotations.ReadOnly && !e.SecretOutput && !e.Transient && slices.Contains(previewToolsets, e.Toolset)
}

func previewTools(s *store.Store) []Tool {
	return []Tool{
		&Capability[PreviewInput, Preview]{Info: Info{
			Name: "preview_change", Title: "Preview a change", Toolset: "events",
			Description: "Dry run: run a write tool (tool, required, with its arguments) for real, with its validation, then roll " +
				"it back, so nothing is stored, delivered or started. Returns {result: what the tool would return, events: " +
				"the events it would record, webhook_endpoint_ids and automation_ids they would trigger}. A call the tool " +
				"would refuse fails with the same error. Works for the contact, company, deal, activity, association, " +
				"pipeline, automation, webhook and undo tools; email, custom field, API key and sandbox tools are refused.",
			Annotations: Annotations{Idempotent: true}, // nothing is kept: repeating it changes nothing
			REST:        &Route{Method: http.MethodPost, Path: "/v1/previews", Status: http.StatusOK},
			Transient:   true,
		}, Handle: func(ctx context.Context, in PreviewInput) (Preview, error) { return preview(ctx, s, in) }},
	}
}

func preview(ctx context.Context, s *store.Store, in PreviewInput) (Preview, error) {
	reg, _ := ctx.Value(registryKey{}).(*Registry)
	if reg == nil {
		return Preview{}, errors.New("tools: preview_change called outside its registry")
	}
	var names []string
	for _, e := range reg.entries {
		if e.previewable() {
			names = append(names, e.Name)
		}
	}
	e, ok := reg.Lookup(in.Tool)
	if !ok || !e.previewable() {
		err := NewError(CodeValidationFailed, "%q is not a write tool preview_change can run. Use one of valid_options; email, custom field, "+
			"API key and sandbox tools reach outside the database or hold secrets, so they cannot be previewed.", in.Tool)
		err.Param, err.ValidOptions, err.Suggestion = "tool", names, closest(in.Tool, names)
		return Preview{}, err
	}
	args := in.Arguments
	if args == nil {
		args = map[string]any{}
	}
	out := Preview{Object: "preview", Tool: e.Name, Events: []Event{}, WebhookEndpoints: []string{}, Automations: []string{}}
	err := inTx(ctx, s, func(tx *store.Tx) error {
		res, terr := e.Call(store.WithTx(ctx, tx), args)
		if terr != nil {
			return terr
		}
		out.Result = res
		evs, err := store.EventsOfRequest(ctx, tx, RequestID(ctx), maxRequestEvents)
		if err != nil {
			return err
		}
		ids := make([]string, len(evs))
		for i, ev := range slices.Backward(evs) {
			out.Events = append(out.Events, eventOut(ev))
			ids[len(evs)-1-i] = ev.ID
		}
		if out.WebhookEndpoints, out.Automations, err = store.TriggeredBy(ctx, tx, ids); err != nil {
			return err
		}
		return errPreviewed
	})
	if !errors.Is(err, errPreviewed) {
		return Preview{}, err
	}
	return out, nil
}
