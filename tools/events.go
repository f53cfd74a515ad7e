package tools

import (
	"context"
	"encoding/json"
	"github.com/danielgtaylor/huma/v2"
	"net/http"
	"time"

	"github.com/relmcrm/relm/schemas"
	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/store/filter"
)

// Event is one entry of the workspace's event log.
type Event struct {
	ID        string         `json:"id" doc:"Unique id, starting with evt_."`
	Object    string         `json:"object" enum:"event" doc:"Always \"event\"."`
	Type      string         `json:"type" doc:"What happened: contact.created, deal.updated, deal.stage_changed, …"`
	Data      map[string]any `json:"data" doc:"object: the record after the change (before it, for deletions); previous_attributes: for updates, the changed fields' old values."`
	Mode      string         `json:"mode" enum:"live,test"`
	CausedBy  *CausedBy      `json:"caused_by" doc:"The automation run that made the change; null for a change made through the API."`
	RequestID *string        `json:"request_id" doc:"The request that made the change (its Request-Id, req_…): undo_request reverts every change of it. Null for changes made by automations."`
	Depth     int            `json:"depth" doc:"0 for a change made through the API; n+1 for one made by an automation acting on an event of depth n. Events of depth 2 trigger no automation."`
	CreatedAt time.Time      `json:"created_at"`
}

// CausedBy names the automation run behind an event.
type CausedBy struct {
	AutomationID string `json:"automation_id"`
	RunID        string `json:"run_id"`
}

// EventIDInput names one event.
type EventIDInput struct {
	ID     EventID       `json:"id" doc:"Id of the event (evt_…)."`
	Fields Fields[Event] `json:"fields,omitempty"`
}

type eventFilter struct{}

func (eventFilter) spec() filter.Spec { return store.Events.Filters }

// ListEventsInput filters and pages the event log.
type ListEventsInput struct {
	Type   EventType           `json:"type,omitempty" doc:"Only events of this type, such as deal.stage_changed (one of the event types; for patterns, filter on type with ilike)."`
	Filter Filter[eventFilter] `json:"filter,omitempty"`
	Fields Fields[Event]       `json:"fields,omitempty"`
	Page
}

func eventTools(s *store.Store) []Tool {
	r := records[store.Event, Event]{s: s, table: store.Events, out: eventOut}
	return []Tool{
		&Capability[ListEventsInput, List[Event]]{Info: Info{
			Name: "list_events", Title: "List events", Toolset: "events",
			Description: "List the event log, newest first: every create, update and delete in this workspace and " +
				"mode (contact.created, deal.updated, deal.stage_changed, …). Filter by type, or with filter, e.g. " +
				"{\"type\":{\"ilike\":\"deal.%\"},\"created_at\":{\"gte\":\"2026-11-01\"}}. Returns {data, has_more, next_cursor}.",
			Annotations: Annotations{ReadOnly: true, Idempotent: true},
			REST:        &Route{Method: http.MethodGet, Path: "/v1/events", Status: http.StatusOK},
		}, Handle: func(ctx context.Context, in ListEventsInput) (List[Event], error) {
			return r.list(ctx, in.Page, in.Filter, shorthand(map[string]string{"type": string(in.Type)}))
		}},
		&Capability[EventIDInput, Event]{Info: Info{
			Name: "get_event", Title: "Get event", Toolset: "events",
			Description: "Fetch one event by id (evt_…). Returns the event with its data.",
			Annotations: Annotations{ReadOnly: true, Idempotent: true},
			REST:        &Route{Method: http.MethodGet, Path: "/v1/events/{id}", Status: http.StatusOK},
		}, Handle: func(ctx context.Context, in EventIDInput) (Event, error) { return r.get(ctx, string(in.ID)) }},
	}
}

func eventOut(e store.Event) Event {
	out := Event{ID: e.ID, Object: "event", Type: e.Type, Mode: string(e.Mode), RequestID: e.RequestID, Depth: e.Depth, CreatedAt: e.CreatedAt.UTC()}
	if len(e.CausedBy) > 0 && string(e.CausedBy) != "null" {
		var c CausedBy
		if json.Unmarshal(e.CausedBy, &c) == nil {
			out.CausedBy = &c
		}
	}
	if err := schemas.UnmarshalExact(e.Data, &out.Data); err != nil {
		out.Data = map[string]any{} // unreachable: data is JSON written by RecordEvents
	}
	return out
}

// EventPayload is an event as GET /v1/events/{id} returns it: the body of its webhook
// deliveries.
func EventPayload(e store.Event) []byte { return Encode(eventOut(e)) }

// Schema is an object with the rule and run, or null.
func (CausedBy) Schema(huma.Registry) *huma.Schema {
	str := &huma.Schema{Type: "string"}
	return &huma.Schema{Type: "object", Nullable: true, Description: "The automation run that made the change; null for a change made through the API.",
		Properties: map[string]*huma.Schema{"automation_id": str, "run_id": str}, Required: []string{"automation_id", "run_id"},
		AdditionalProperties: false}
}
