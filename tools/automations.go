package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/relmcrm/relm/schemas"
	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/store/filter"
)

// The grammar of automation rules.
var (
	ConditionOps = []string{"eq", "neq", "contains", "exists", "in"}
	ActionTypes  = []string{"move_deal_stage", "create_activity", "set_metadata", "send_email"}
	// MetadataTargets are the records set_metadata may change; auto is the event's own.
	MetadataTargets = []string{"auto", "contact", "deal", "company"}
)

// Condition is one test of an event; a rule's conditions are ANDed.
type Condition struct {
	Field string            `json:"field" minLength:"1" maxLength:"200" doc:"A dot-path into the event's record (type, stage, metadata.source) or its data (new_stage, previous_attributes.stage)."`
	Op    string            `json:"op" doc:"eq, neq, contains (text or list), exists, in (value is a list)."`
	Value schemas.JSONValue `json:"value,omitzero" doc:"What to compare with; for in, a list; for exists, optional (false tests absence)."`
}

// Action is one step a rule takes, in order. Which fields apply depends on type.
type Action struct {
	Type         string            `json:"type" doc:"move_deal_stage, create_activity, set_metadata or send_email."`
	Stage        string            `json:"stage,omitempty" maxLength:"64" doc:"move_deal_stage: the stage to move the deal in context to."`
	Pipeline     string            `json:"pipeline,omitempty" maxLength:"64" doc:"move_deal_stage: the pipeline, to move it across pipelines (default: its own)."`
	ActivityType string            `json:"activity_type,omitempty" doc:"create_activity: note, email, call, meeting or task."`
	Subject      string            `json:"subject,omitempty" maxLength:"998" doc:"create_activity, send_email: the subject."`
	Body         string            `json:"body,omitempty" maxLength:"65536" doc:"create_activity: the text."`
	Target       string            `json:"target,omitempty" doc:"set_metadata: auto (the event's record; default), contact, deal or company in the event's context."`
	Key          string            `json:"key,omitempty" maxLength:"100" doc:"set_metadata: the metadata key."`
	Value        schemas.JSONValue `json:"value,omitzero" doc:"set_metadata: the value (null removes the key)."`
	To           Addresses         `json:"to,omitempty" doc:"send_email: one address or a list."`
	HTML         string            `json:"html,omitempty" maxLength:"1000000" doc:"send_email: the HTML body."`
	Text         string            `json:"text,omitempty" maxLength:"1000000" doc:"send_email: the text body."`
	From         string            `json:"from,omitempty" maxLength:"254" doc:"send_email: the sender (default: the integration's from_email)."`
}

// Automation is a rule: when an event of trigger_event fires and its conditions hold, run
// its actions.
type Automation struct {
	ID           string      `json:"id" doc:"Unique id, starting with auto_."`
	Object       string      `json:"object" enum:"automation" doc:"Always \"automation\"."`
	Name         string      `json:"name"`
	TriggerEvent string      `json:"trigger_event" doc:"*, an event type (deal.stage_changed), or <kind>.* (deal.*)."`
	Enabled      bool        `json:"enabled"`
	Conditions   []Condition `json:"conditions"`
	Actions      []Action    `json:"actions"`
	Mode         string      `json:"mode" enum:"live,test"`
	CreatedAt    time.Time   `json:"created_at"`
	UpdatedAt    time.Time   `json:"updated_at"`
}

// CreateAutomationInput is a new rule.
type CreateAutomationInput struct {
	Name         string      `json:"name" minLength:"1" maxLength:"200"`
	TriggerEvent string      `json:"trigger_event" minLength:"1" maxLength:"100" doc:"*, an event type such as activity.created or deal.stage_changed, or <kind>.* such as deal.*."`
	Enabled      *bool       `json:"enabled,omitempty" doc:"Default true."`
	Conditions   []Condition `json:"conditions,omitempty" maxItems:"20" doc:"ANDed tests of the event; none: every event of the trigger."`
	Actions      []Action    `json:"actions" minItems:"1" maxItems:"10" doc:"What to do, in order."`
}

// UpdateAutomationInput changes only the fields present; conditions and actions replace.
type UpdateAutomationInput struct {
	ID           AutomationID `json:"id" doc:"Id of the rule (auto_…)."`
	Name         *string      `json:"name,omitempty" minLength:"1" maxLength:"200" doc:"New name (not null)."`
	TriggerEvent *string      `json:"trigger_event,omitempty" minLength:"1" maxLength:"100" doc:"New trigger (not null): *, an event type, or <kind>.*."`
	Enabled      *bool        `json:"enabled,omitempty"`
	Conditions   *[]Condition `json:"conditions,omitempty" maxItems:"20"`
	Actions      *[]Action    `json:"actions,omitempty" minItems:"1" maxItems:"10"`
}

// AutomationIDInput names one rule.
type AutomationIDInput struct {
	ID AutomationID `json:"id" doc:"Id of the rule (auto_…)."`
}

type automationFilter struct{}

func (automationFilter) spec() filter.Spec { return store.Automations.Filters }

// ListAutomationsInput pages the rules.
type ListAutomationsInput struct {
	Filter Filter[automationFilter] `json:"filter,omitempty"`
	Page
}

// AutomationRun is one rule acting, or not, on one event.
type AutomationRun struct {
	ID           string         `json:"id" doc:"Unique id, starting with arun_."`
	Object       string         `json:"object" enum:"automation_run"`
	AutomationID string         `json:"automation_id"`
	EventID      string         `json:"event_id"`
	EventType    string         `json:"event_type"`
	Status       string         `json:"status" enum:"pending,success,error,skipped" doc:"pending: not run yet; success: every action ran; error: an action failed (failed_action, reason) and the run's changes were rolled back; skipped: the conditions did not hold, or the loop guard stopped it (reason)."`
	Reason       *string        `json:"reason"`
	FailedAction *int           `json:"failed_action" doc:"Index (from 0) of the action that failed."`
	Results      []ActionResult `json:"results" doc:"What each action that ran created or changed."`
	Mode         string         `json:"mode" enum:"live,test"`
	CreatedAt    time.Time      `json:"created_at"`
	UpdatedAt    time.Time      `json:"updated_at"`
}

// ActionResult is what one action did.
type ActionResult struct {
	Action string `json:"action" doc:"The action's type."`
	Object string `json:"object" doc:"The kind of record it created or changed: deal, activity, contact, email, …"`
	ID     string `json:"id" doc:"That record's id."`
}

type runFilter struct{}

func (runFilter) spec() filter.Spec { return store.AutomationRuns.Filters }

// ListRunsInput pages a rule's runs.
type ListRunsInput struct {
	ID     AutomationID      `json:"id" doc:"Id of the rule (auto_…)."`
	Status string            `json:"status,omitempty" enum:"pending,success,error,skipped"`
	Filter Filter[runFilter] `json:"filter,omitempty"`
	Page
}

type automationHandlers struct {
	plainRecords[store.Automation, Automation]
}

func automationOut(a store.Automation) Automation {
	out := Automation{ID: a.ID, Object: "automation", Name: a.Name, TriggerEvent: a.TriggerEvent, Enabled: a.Enabled,
		Conditions: []Condition{}, Actions: []Action{}, Mode: string(a.Mode), CreatedAt: a.CreatedAt.UTC(), UpdatedAt: a.UpdatedAt.UTC()}
	_ = schemas.UnmarshalExact(a.Conditions, &out.Conditions)
	_ = schemas.UnmarshalExact(a.Actions, &out.Actions)
	return out
}

func runOut(r store.AutomationRun) AutomationRun {
	out := AutomationRun{ID: r.ID, Object: "automation_run", AutomationID: r.AutomationID, EventID: r.EventID, EventType: r.EventType,
		Status: r.Status, Reason: r.Reason, FailedAction: r.FailedAction, Results: []ActionResult{}, Mode: string(r.Mode),
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	_ = json.Unmarshal(r.Results, &out.Results)
	return out
}

// recordFields are the fields of each kind of record conditions may name (their roots),
// from the record's wire type; "*" allows any.
var recordFields = map[string][]string{
	"contact": jsonFields[Contact](), "company": jsonFields[Company](), "deal": jsonFields[Deal](), "activity": jsonFields[Activity](),
	"email": jsonFields[Email](),
}

// eventDataFields are the fields an event type adds beside its record.
var eventDataFields = map[string][]string{
	"deal.stage_changed":    {"old_stage", "new_stage", "pipeline"},
	"deal.pipeline_changed": {"old_pipeline", "new_pipeline"},
}

func jsonFields[T any]() []string {
	var names []string
	var walk func(reflect.Type)
	walk = func(t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Anonymous {
				walk(f.Type)
				continue
			}
			if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name != "" && name != "-" {
				names = append(names, name)
			}
		}
	}
	walk(reflect.TypeFor[T]())
	return names
}

// fieldsOf lists the roots a condition may name for trigger; nil means any.
func fieldsOf(trigger string) []string {
	kind, verb, _ := strings.Cut(trigger, ".")
	fields, known := recordFields[kind]
	if trigger == "*" || !known {
		return nil
	}
	out := slices.Clone(fields)
	if verb == "updated" || verb == "*" || verb == "stage_changed" || verb == "pipeline_changed" {
		out = append(out, "previous_attributes")
	}
	for t, extra := range eventDataFields {
		if t == trigger || (verb == "*" && strings.HasPrefix(t, kind+".")) {
			out = append(out, extra...)
		}
	}
	return out
}

// triggers lists every valid trigger_event.
func triggers() []string {
	out := []string{"*"}
	for _, t := range EventTypes {
		kind, _, _ := strings.Cut(t, ".")
		if !slices.Contains(out, kind+".*") {
			out = append(out, kind+".*")
		}
	}
	return append(out, EventTypes...)
}

// invalid is a validation_failed naming param, with the valid options.
func invalid(param, format string, valid []string, got string, args ...any) *Error {
	e := NewError(CodeValidationFailed, "Invalid input: "+format, args...)
	e.Param, e.ValidOptions = param, valid
	if got != "" && len(valid) > 0 {
		e.Suggestion = closest(got, valid)
	}
	return e
}

// checkRule refuses a rule that cannot work, naming the first fault precisely.
func (h automationHandlers) checkRule(ctx context.Context, trigger string, conds []Condition, actions []Action) error {
	if !slices.Contains(triggers(), trigger) {
		return invalid("trigger_event", "%q is not an event type, \"*\", or <kind>.*.", triggers(), trigger, trigger)
	}
	fields := fieldsOf(trigger)
	for i, c := range conds {
		p := fmt.Sprintf("conditions.%d", i)
		if !slices.Contains(ConditionOps, c.Op) {
			return invalid(p+".op", "%q is not an operator.", ConditionOps, c.Op, c.Op)
		}
		root, sub, _ := strings.Cut(c.Field, ".")
		if fields != nil && !slices.Contains(fields, root) {
			return invalid(p+".field", "%s events have no field %q: name one of theirs (metadata.<key> for metadata, previous_attributes.<field> for old values).",
				fields, root, trigger, c.Field)
		}
		if root == "previous_attributes" && sub == "" {
			return invalid(p+".field", "name the field: previous_attributes.<field>.", nil, "")
		}
		if _, isList := c.Value.V.([]any); c.Op == "in" && !isList {
			return invalid(p+".value", "in needs a list of values, such as [\"won\", \"lost\"].", nil, "")
		}
		if c.Op != "exists" && c.Value.V == nil {
			return invalid(p+".value", "%s needs a value to compare with.", nil, "", c.Op)
		}
	}
	for i, a := range actions {
		p := fmt.Sprintf("actions.%d", i)
		missing := func(field string) error { return invalid(p+"."+field, "%s needs %s.", nil, "", a.Type, field) }
		switch a.Type {
		case "move_deal_stage":
			if a.Stage == "" {
				return missing("stage")
			}
			if err := h.checkStage(ctx, p, a); err != nil {
				return err
			}
		case "create_activity":
			if !slices.Contains(store.ActivityTypes, a.ActivityType) {
				return invalid(p+".activity_type", "%q is not an activity type.", store.ActivityTypes, a.ActivityType, a.ActivityType)
			}
		case "set_metadata":
			if a.Key == "" {
				return missing("key")
			}
			if a.Target != "" && !slices.Contains(MetadataTargets, a.Target) {
				return invalid(p+".target", "%q is not a target.", MetadataTargets, a.Target, a.Target)
			}
		case "send_email":
			if len(a.To) == 0 {
				return missing("to")
			}
			if a.Subject == "" {
				return missing("subject")
			}
			if a.HTML == "" && a.Text == "" {
				return missing("html or text")
			}
			if bad := badAddresses(p+".to", []string(a.To)); len(bad) > 0 {
				return ValidationFailed(bad)
			}
		default:
			return invalid(p+".type", "%q is not an action type.", ActionTypes, a.Type, a.Type)
		}
	}
	return nil
}

// checkStage refuses a move to a stage its pipeline (given, or the default) does not have.
func (h automationHandlers) checkStage(ctx context.Context, p string, a Action) error {
	var pipelines []store.Pipeline
	err := inTx(ctx, h.s, func(tx *store.Tx) (err error) {
		pipelines, err = store.ListPipelines(ctx, tx)
		return err
	})
	if err != nil {
		return err
	}
	var stages, keys []string
	found := false
	for _, pl := range pipelines {
		keys = append(keys, pl.Key)
		if pl.Key == a.Pipeline || (a.Pipeline == "" && pl.IsDefault) {
			found = true
			for _, s := range pl.Stages {
				stages = append(stages, s.Key)
			}
		}
	}
	if !found {
		return invalid(p+".pipeline", "there is no pipeline %q.", keys, a.Pipeline, a.Pipeline)
	}
	if !slices.Contains(stages, a.Stage) {
		return invalid(p+".stage", "the pipeline has no stage %q (add it with create_pipeline_stage, or pick one of the valid options).",
			stages, a.Stage, a.Stage)
	}
	return nil
}

func (h automationHandlers) create(ctx context.Context, in CreateAutomationInput) (Automation, error) {
	if err := h.checkRule(ctx, in.TriggerEvent, in.Conditions, in.Actions); err != nil {
		return Automation{}, err
	}
	conds := in.Conditions
	if conds == nil {
		conds = []Condition{}
	}
	var out Automation
	err := inTx(ctx, h.s, func(tx *store.Tx) error {
		a, err := store.Insert(ctx, tx, store.Automations, store.Values{"name": in.Name, "trigger_event": in.TriggerEvent,
			"enabled": in.Enabled == nil || *in.Enabled, "conditions": Encode(conds), "actions": Encode(in.Actions)})
		out = automationOut(a)
		return err
	})
	return out, h.fail(err, "")
}

func (h automationHandlers) get(ctx context.Context, in AutomationIDInput) (Automation, error) {
	return h.plainRecords.get(ctx, string(in.ID))
}

func (h automationHandlers) list(ctx context.Context, in ListAutomationsInput) (List[Automation], error) {
	return h.plainRecords.list(ctx, in.Page, in.Filter)
}

func (h automationHandlers) update(ctx context.Context, in UpdateAutomationInput) (Automation, error) {
	var out Automation
	err := inTx(ctx, h.s, func(tx *store.Tx) error {
		_, after, err := store.Update(ctx, tx, store.Automations, string(in.ID), func(cur store.Automation) (store.Changes, error) {
			now := automationOut(cur)
			trigger, conds, actions := now.TriggerEvent, now.Conditions, now.Actions
			ch := store.Changes{Set: map[string]any{}}
			setPtr(ch.Set, "name", in.Name)
			if in.TriggerEvent != nil {
				trigger = *in.TriggerEvent
				ch.Set["trigger_event"] = trigger
			}
			if in.Conditions != nil {
				conds = *in.Conditions
				ch.Set["conditions"] = Encode(conds)
			}
			if in.Actions != nil {
				actions = *in.Actions
				ch.Set["actions"] = Encode(actions)
			}
			if in.Enabled != nil {
				ch.Set["enabled"] = *in.Enabled
			}
			return ch, h.checkRule(ctx, trigger, conds, actions)
		})
		out = automationOut(after)
		return err
	})
	return out, h.fail(err, string(in.ID))
}

func (h automationHandlers) remove(ctx context.Context, in AutomationIDInput) (Deleted, error) {
	return h.plainRecords.remove(ctx, string(in.ID))
}

func (h automationHandlers) runs(ctx context.Context, in ListRunsInput) (List[AutomationRun], error) {
	var out List[AutomationRun]
	after, err := in.Page.after(ctx)
	if err != nil {
		return out, err
	}
	err = inTx(ctx, h.s, func(tx *store.Tx) error {
		if _, err := store.Get(ctx, tx, store.Automations, string(in.ID)); err != nil {
			return err
		}
		filters := []map[string]any{in.Filter, {"automation_id": string(in.ID)}, shorthand(map[string]string{"status": in.Status})}
		p, err := store.List(ctx, tx, store.AutomationRuns, store.ListParams{Filters: filters, Limit: in.Limit, After: after})
		if err == nil {
			out, err = listOf(ctx, p, runOut)
		}
		return err
	})
	return out, h.fail(err, string(in.ID))
}

func automationTools(s *store.Store) []Tool {
	h := automationHandlers{plainRecords[store.Automation, Automation]{s: s, table: store.Automations, out: automationOut}}
	return []Tool{
		&Capability[CreateAutomationInput, Automation]{Info: Info{
			Name: "create_automation", Title: "Create automation", Toolset: "automations",
			Description: "Create a rule that acts on events of this workspace and mode. trigger_event: *, an event type " +
				"(activity.created, deal.stage_changed) or <kind>.* (deal.*). conditions (ANDed): {field, op, value?} with field a " +
				"dot-path into the event's record or data (type, metadata.source, new_stage, previous_attributes.stage) and op eq, " +
				"neq, contains, exists or in. actions, in order: {type: move_deal_stage, stage, pipeline?}, {type: create_activity, " +
				"activity_type, subject?, body?}, {type: set_metadata, target?, key, value}, {type: send_email, to, subject, html?, " +
				"text?, from?}. Example: {\"name\":\"Won → task\",\"trigger_event\":\"deal.stage_changed\",\"conditions\":[{\"field\":" +
				"\"new_stage\",\"op\":\"eq\",\"value\":\"won\"}],\"actions\":[{\"type\":\"create_activity\",\"activity_type\":\"task\"," +
				"\"subject\":\"Kick-off\"}]}. Runs happen in the background shortly after each event; changes they make record " +
				"events too (two levels deep at most). Returns the rule.",
			REST: &Route{Method: http.MethodPost, Path: "/v1/automations", Status: http.StatusCreated},
		}, Handle: h.create},
		&Capability[ListAutomationsInput, List[Automation]]{Info: Info{
			Name: "list_automations", Title: "List automations", Toolset: "automations",
			Description: "List the automation rules of this workspace and mode, newest first. Returns {data, has_more, next_cursor}.",
			Annotations: Annotations{ReadOnly: true, Idempotent: true},
			REST:        &Route{Method: http.MethodGet, Path: "/v1/automations", Status: http.StatusOK},
		}, Handle: h.list},
		&Capability[AutomationIDInput, Automation]{Info: Info{
			Name: "get_automation", Title: "Get automation", Toolset: "automations",
			Description: "Fetch one automation rule by id (auto_…). Returns the rule with its trigger, conditions and actions.",
			Annotations: Annotations{ReadOnly: true, Idempotent: true},
			REST:        &Route{Method: http.MethodGet, Path: "/v1/automations/{id}", Status: http.StatusOK},
		}, Handle: h.get},
		&Capability[UpdateAutomationInput, Automation]{Info: Info{
			Name: "update_automation", Title: "Update automation", Toolset: "automations",
			Description: "Change the automation rule with id (auto_…): name, trigger_event, enabled (false pauses it), conditions and actions " +
				"(each replaced whole; the grammar is create_automation's). Returns the rule.",
			Annotations: Annotations{Destructive: true, Idempotent: true},
			REST:        &Route{Method: http.MethodPatch, Path: "/v1/automations/{id}", Status: http.StatusOK},
		}, Handle: h.update},
		&Capability[AutomationIDInput, Deleted]{Info: Info{
			Name: "delete_automation", Title: "Delete automation", Toolset: "automations",
			Description: "Delete an automation rule and its runs; it stops acting at once. Returns {id, object, deleted: true}.",
			Annotations: Annotations{Destructive: true, Idempotent: true},
			REST:        &Route{Method: http.MethodDelete, Path: "/v1/automations/{id}", Status: http.StatusOK},
		}, Handle: h.remove},
		&Capability[ListRunsInput, List[AutomationRun]]{Info: Info{
			Name: "list_automation_runs", Title: "List automation runs", Toolset: "automations",
			Description: "List the runs of the automation rule with id (auto_…), newest first: the event, status (pending, success, error, " +
				"skipped), the reason for errors and skips, the failing action's index, and what each action created or changed. " +
				"Returns {data, has_more, next_cursor}.",
			Annotations: Annotations{ReadOnly: true, Idempotent: true},
			REST:        &Route{Method: http.MethodGet, Path: "/v1/automations/{id}/runs", Status: http.StatusOK},
		}, Handle: h.runs},
	}
}
