package tools

import (
	"slices"

	"github.com/danielgtaylor/huma/v2"
	"github.com/relmcrm/relm/store"
)

// EventTypes are the types of event the log records: the one list that list_events'
// type, webhook endpoints' events and automations' trigger_event are checked against, and
// the only types an event can be recorded with (eventWith).
var EventTypes = func() []string {
	var types []string
	for _, kind := range append(slices.Clone(store.RecordKinds), "pipeline", "pipeline_stage") {
		types = append(types, kind+".created", kind+".updated", kind+".deleted")
	}
	return append(types, "deal.stage_changed", "deal.pipeline_changed", "custom_field.created", "custom_field.deleted",
		"association.created", "association.deleted", "email.sent", "contact.merged", "company.merged")
}()

// EventType is an argument naming one event type; its schema enumerates EventTypes, so an
// unknown type is validation_failed with them as valid_options and a suggestion.
type EventType string

// Schema is a string enumerating EventTypes.
func (EventType) Schema(huma.Registry) *huma.Schema {
	enum := make([]any, len(EventTypes))
	for i, t := range EventTypes {
		enum[i] = t
	}
	return &huma.Schema{Type: "string", Enum: enum}
}

// eventWith builds a log entry of type typ with data; typ must be one of EventTypes (a new
// type is added there, where every check finds it).
func eventWith(typ string, data map[string]any) store.NewEvent {
	if !slices.Contains(EventTypes, typ) {
		panic("tools: event type " + typ + " is missing from EventTypes")
	}
	return store.NewEvent{Type: typ, Data: Encode(data)}
}
