// Package completions suggests values for the arguments of Relm's MCP prompts and resource
// templates (completion/complete): the workspace's pipeline, stage and custom-field keys and
// select options, activity and event types, and records found by name or email. Values
// come from the same capabilities as the tools, called as the request's caller, so they are
// scoped to its workspace and mode like any tool call.
package completions

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/relmcrm/relm/tools"
)

// Kind is what an argument takes, and so where its completions come from.
type Kind string

// The kinds of argument completions know.
const (
	Pipeline     Kind = "pipeline"      // a pipeline key
	Stage        Kind = "stage"         // a stage key (of the argument "pipeline", if given)
	FieldKey     Kind = "field_key"     // a custom field key
	FieldOption  Kind = "field_option"  // an option of the select field named by the argument "field"
	ActivityType Kind = "activity_type" // note, email, call, meeting, task
	EventType    Kind = "event_type"    // contact.created …
	Contact      Kind = "contact"       // a contact id, found by name or email
	Company      Kind = "company"       // a company id, found by name or domain
	Deal         Kind = "deal"          // a deal id, found by title
	Activity     Kind = "activity"      // an activity id, found by subject
)

// Max is the most values one completion returns (the protocol's limit is 100).
const Max = 20

// Complete returns the values of kind that start with (or, for records, match) prefix, for
// the caller in ctx; others are the request's other arguments already given. hasMore says
// whether values were left out.
func Complete(ctx context.Context, reg *tools.Registry, kind Kind, prefix string, others map[string]string) (values []string, hasMore bool, err error) {
	var all []string
	switch kind {
	case Pipeline, Stage:
		all, err = pipelineKeys(ctx, reg, kind, others["pipeline"])
	case FieldKey, FieldOption:
		all, err = fieldValues(ctx, reg, kind, others["field"])
	case ActivityType:
		all = enumOf(reg, "log_activity", "type")
	case EventType:
		all = tools.EventTypes
	case Contact, Company, Deal, Activity:
		return records(ctx, reg, kind, prefix)
	default:
		return nil, false, fmt.Errorf("completions: unknown kind %q", kind)
	}
	if err != nil {
		return nil, false, err
	}
	for _, v := range all {
		if strings.HasPrefix(strings.ToLower(v), strings.ToLower(prefix)) && !slices.Contains(values, v) {
			values = append(values, v)
		}
	}
	if len(values) > Max {
		return values[:Max], true, nil
	}
	return values, false, nil
}

// pipelineKeys lists the pipeline keys, or the stage keys of pipeline (of every pipeline
// when it is empty).
func pipelineKeys(ctx context.Context, reg *tools.Registry, kind Kind, pipeline string) ([]string, error) {
	list, err := reg.CallJSON(ctx, "list_pipelines", map[string]any{})
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, p := range tools.ListData(list) {
		key, _ := p["key"].(string)
		if kind == Pipeline {
			keys = append(keys, key)
			continue
		}
		if pipeline != "" && key != pipeline {
			continue
		}
		stages, _ := p["stages"].([]any)
		for _, s := range stages {
			if st, ok := s.(map[string]any); ok {
				keys = append(keys, fmt.Sprint(st["key"]))
			}
		}
	}
	return keys, nil
}

// fieldValues lists the custom field keys, or the options of the select field key.
func fieldValues(ctx context.Context, reg *tools.Registry, kind Kind, field string) ([]string, error) {
	list, err := reg.CallJSON(ctx, "list_custom_fields", map[string]any{})
	if err != nil {
		return nil, err
	}
	var values []string
	for _, f := range tools.ListData(list) {
		key, _ := f["key"].(string)
		if kind == FieldKey {
			values = append(values, key)
			continue
		}
		if field != "" && key != field {
			continue
		}
		options, _ := f["options"].([]any)
		for _, o := range options {
			values = append(values, fmt.Sprint(o))
		}
	}
	return values, nil
}

// records finds records of kind matching text with the search capability and returns their
// ids, best match first; text that is already an id prefix is matched against the ids of
// the most recent records instead.
func records(ctx context.Context, reg *tools.Registry, kind Kind, text string) ([]string, bool, error) {
	if strings.TrimSpace(text) == "" || strings.Contains(text, "_") {
		return recentIDs(ctx, reg, kind, text)
	}
	found, err := reg.CallJSON(ctx, "search", map[string]any{"q": text, "types": []any{string(kind)}, "limit": Max})
	if err != nil {
		return nil, false, err
	}
	var ids []string
	for _, r := range tools.ListData(found) {
		ids = append(ids, fmt.Sprint(r["id"]))
	}
	more, _ := found["has_more"].(bool)
	return ids, more, nil
}

// listTools are the list capabilities of the record kinds.
var listTools = map[Kind]string{Contact: "list_contacts", Company: "list_companies", Deal: "list_deals", Activity: "list_activities"}

// recentIDs returns the ids of the newest records of kind that start with prefix.
func recentIDs(ctx context.Context, reg *tools.Registry, kind Kind, prefix string) ([]string, bool, error) {
	list, err := reg.CallJSON(ctx, listTools[kind], map[string]any{"limit": 100})
	if err != nil {
		return nil, false, err
	}
	var ids []string
	for _, r := range tools.ListData(list) {
		if id := fmt.Sprint(r["id"]); strings.HasPrefix(id, prefix) {
			ids = append(ids, id)
		}
	}
	if len(ids) > Max {
		return ids[:Max], true, nil
	}
	more, _ := list["has_more"].(bool)
	return ids, more && len(ids) == 0, nil
}

// enumOf is the enum of the input property prop of capability name, from its schema.
func enumOf(reg *tools.Registry, name, prop string) []string {
	e, ok := reg.Lookup(name)
	if !ok {
		return nil
	}
	props, _ := e.InputSchema["properties"].(map[string]any)
	p, _ := props[prop].(map[string]any)
	var values []string
	for _, v := range asSlice(p["enum"]) {
		values = append(values, fmt.Sprint(v))
	}
	return values
}

func asSlice(v any) []any {
	switch x := v.(type) {
	case []any:
		return x
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out
	}
	return nil
}
