package tools

import (
	"context"
	"net/http"
	"time"

	"github.com/relmcrm/relm/schemas"
	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/store/filter"
)

// Activity is a note, email, call, meeting or task logged against records.
type Activity struct {
	ID         string         `json:"id" doc:"Unique id, starting with act_."`
	Object     string         `json:"object" enum:"activity" doc:"Always \"activity\"."`
	Type       string         `json:"type" enum:"note,email,call,meeting,task"`
	Subject    *string        `json:"subject"`
	Body       *string        `json:"body"`
	ContactID  *string        `json:"contact_id"`
	DealID     *string        `json:"deal_id"`
	CompanyID  *string        `json:"company_id"`
	OccurredAt time.Time      `json:"occurred_at" doc:"When it happened."`
	Metadata   map[string]any `json:"metadata"`
	Mode       string         `json:"mode" enum:"live,test"`
	CreatedAt  time.Time      `json:"created_at"`
	UpdatedAt  time.Time      `json:"updated_at"`
	Version    int64          `json:"version" minimum:"1" doc:"1 when created, one more after every change: compare it, or pass it as expected_version (If-Match on REST), to detect changes made since you read the record."`
}

// CurrentVersion is the activity's version.
func (a Activity) CurrentVersion() int64 { return a.Version }

// LogActivityInput is the body of log_activity.
type LogActivityInput struct {
	Type       string         `json:"type" enum:"note,email,call,meeting,task" doc:"What kind of activity it is."`
	Subject    *string        `json:"subject,omitempty" maxLength:"500" doc:"One-line summary."`
	Body       *string        `json:"body,omitempty" maxLength:"65536" doc:"Full text: the note, email body or call notes."`
	ContactID  *ContactID     `json:"contact_id,omitempty" doc:"Contact it concerns (con_…)."`
	DealID     *DealID        `json:"deal_id,omitempty" doc:"Deal it concerns (deal_…)."`
	CompanyID  *CompanyID     `json:"company_id,omitempty" doc:"Company it concerns (cmp_…)."`
	OccurredAt *time.Time     `json:"occurred_at,omitempty" doc:"When it happened (RFC 3339); defaults to now."`
	Metadata   map[string]any `json:"metadata,omitempty" doc:"Key/value data; keys defined as custom fields (get_schema) must hold a value of their type."`
}

// UpdateActivityInput changes only the fields present; null clears one.
type UpdateActivityInput struct {
	ID         ActivityID                       `json:"id" doc:"Id of the activity to change (act_…)."`
	Type       *string                          `json:"type,omitempty" enum:"note,email,call,meeting,task" doc:"New kind (not null: an activity always has a kind)."`
	Subject    schemas.Nullable[string]         `json:"subject,omitzero" maxLength:"500"`
	Body       schemas.Nullable[string]         `json:"body,omitzero" maxLength:"65536"`
	ContactID  schemas.Nullable[ContactID]      `json:"contact_id,omitzero"`
	DealID     schemas.Nullable[DealID]         `json:"deal_id,omitzero"`
	CompanyID  schemas.Nullable[CompanyID]      `json:"company_id,omitzero"`
	OccurredAt *time.Time                       `json:"occurred_at,omitempty" doc:"New time (not null: an activity always has a time)."`
	Metadata   schemas.Nullable[map[string]any] `json:"metadata,omitzero" doc:"Keys to merge into metadata; a key set to null is removed; metadata: null removes all keys."`
	Precondition
}

// ActivityIDInput names one activity.
type ActivityIDInput struct {
	ID     ActivityID       `json:"id" doc:"Id of the activity (act_…)."`
	Fields Fields[Activity] `json:"fields,omitempty"`
}

// DeleteActivityInput names the activity to delete.
type DeleteActivityInput struct {
	ID ActivityID `json:"id" doc:"Id of the activity (act_…)."`
	Precondition
}

type activityFilter struct{}

func (activityFilter) spec() filter.Spec { return store.Activities.Filters }

// ListActivitiesInput filters and pages the activity list.
type ListActivitiesInput struct {
	ContactID ContactID              `json:"contact_id,omitempty" doc:"Only activities about this contact."`
	DealID    DealID                 `json:"deal_id,omitempty" doc:"Only activities about this deal."`
	CompanyID CompanyID              `json:"company_id,omitempty" doc:"Only activities about this company."`
	Type      string                 `json:"type,omitempty" enum:"note,email,call,meeting,task" doc:"Only activities of this kind."`
	Filter    Filter[activityFilter] `json:"filter,omitempty"`
	Fields    Fields[Activity]       `json:"fields,omitempty"`
	Page
}

type activityHandlers struct {
	records[store.Activity, Activity]
}

// activityRecords is the activity table as the tools write it.
func activityRecords(s *store.Store) records[store.Activity, Activity] {
	return records[store.Activity, Activity]{s: s, table: store.Activities, out: activityOut, values: activityValues}
}

// activityValues are the columns of a's data, as a restore writes them back.
func activityValues(a Activity) store.Values {
	return store.Values{"type": a.Type, "subject": a.Subject, "body": a.Body, "contact_id": a.ContactID,
		"deal_id": a.DealID, "company_id": a.CompanyID, "occurred_at": a.OccurredAt, "metadata": orEmpty(a.Metadata)}
}

func activityTools(s *store.Store) []Tool {
	h := activityHandlers{activityRecords(s)}
	return []Tool{
		&Capability[LogActivityInput, Activity]{Info: Info{
			Name: "log_activity", Title: "Log activity", Toolset: "activities",
			Description: "Record an activity of a type (note, email, call, meeting or task) against a contact, a deal and/or a company " +
				"(at least one of contact_id, deal_id, company_id). occurred_at defaults to now. Returns the activity.",
			REST: &Route{Method: http.MethodPost, Path: "/v1/activities", Status: http.StatusCreated},
		}, Handle: h.create},
		&Capability[ActivityIDInput, Activity]{Info: Info{
			Name: "get_activity", Title: "Get activity", Toolset: "activities",
			Description: "Fetch one activity by id (act_…). Returns the activity with its type, subject, body, links and occurred_at.",
			Annotations: Annotations{ReadOnly: true, Idempotent: true},
			REST:        &Route{Method: http.MethodGet, Path: "/v1/activities/{id}", Status: http.StatusOK},
		}, Handle: h.get},
		&Capability[UpdateActivityInput, Activity]{Info: Info{
			Name: "update_activity", Title: "Update activity", Toolset: "activities",
			Description: "Change the activity with id (act_…). Only the fields you pass change; null clears subject, body or a link, " +
				"but an activity must keep at least one of contact_id, deal_id, company_id. Returns the updated activity." + preconditionHint,
			Annotations: Annotations{Destructive: true, Idempotent: true},
			REST:        &Route{Method: http.MethodPatch, Path: "/v1/activities/{id}", Status: http.StatusOK},
		}, Handle: h.update},
		&Capability[ListActivitiesInput, List[Activity]]{Info: Info{
			Name: "list_activities", Title: "List activities", Toolset: "activities",
			Description: "List activities, newest first. Filter by contact_id, deal_id, company_id or type, or with " +
				"filter, e.g. {\"occurred_at\":{\"gte\":\"2026-01-01\"}}. Returns {data, has_more, next_cursor}.",
			Annotations: Annotations{ReadOnly: true, Idempotent: true},
			REST:        &Route{Method: http.MethodGet, Path: "/v1/activities", Status: http.StatusOK},
		}, Handle: h.list},
		&Capability[DeleteActivityInput, Deleted]{Info: Info{
			Name: "delete_activity", Title: "Delete activity", Toolset: "activities",
			Description: "Permanently delete an activity by id. Returns {id, object, deleted: true}." + preconditionHint,
			Annotations: Annotations{Destructive: true, Idempotent: true},
			REST:        &Route{Method: http.MethodDelete, Path: "/v1/activities/{id}", Status: http.StatusOK},
		}, Handle: h.remove},
	}
}

func activityOut(a store.Activity) Activity {
	return Activity{ID: a.ID, Object: "activity", Type: a.Type, Subject: a.Subject, Body: a.Body,
		ContactID: a.ContactID, DealID: a.DealID, CompanyID: a.CompanyID, OccurredAt: a.OccurredAt.UTC(),
		Metadata: a.Metadata, Mode: string(a.Mode), CreatedAt: a.CreatedAt.UTC(), UpdatedAt: a.UpdatedAt.UTC(), Version: a.Version}
}

var errNoActivityLink = ValidationFailed([]schemas.FieldError{{Message: "needs at least one of contact_id, deal_id or company_id"}})

func (h activityHandlers) create(ctx context.Context, in LogActivityInput) (Activity, error) {
	if in.ContactID == nil && in.DealID == nil && in.CompanyID == nil {
		return Activity{}, errNoActivityLink
	}
	v := store.Values{"type": in.Type, "subject": in.Subject, "body": in.Body, "contact_id": idPtr(in.ContactID),
		"deal_id": idPtr(in.DealID), "company_id": idPtr(in.CompanyID), "metadata": orEmpty(in.Metadata)}
	if in.OccurredAt != nil {
		v["occurred_at"] = *in.OccurredAt
	}
	return h.records.create(ctx, v, nil)
}

func (h activityHandlers) get(ctx context.Context, in ActivityIDInput) (Activity, error) {
	return h.records.get(ctx, string(in.ID))
}

func (h activityHandlers) update(ctx context.Context, in UpdateActivityInput) (Activity, error) {
	ch := store.Changes{Set: map[string]any{}, Metadata: in.Metadata}
	setPtr(ch.Set, "type", in.Type)
	setIf(ch.Set, "subject", in.Subject)
	setIf(ch.Set, "body", in.Body)
	setID(ch.Set, "contact_id", in.ContactID)
	setID(ch.Set, "deal_id", in.DealID)
	setID(ch.Set, "company_id", in.CompanyID)
	setPtr(ch.Set, "occurred_at", in.OccurredAt)
	return h.records.update(ctx, string(in.ID), in.Precondition, ch, func(_ context.Context, _ *store.Tx, cur store.Activity, ch *store.Changes) error {
		links := 0
		for col, now := range map[string]*string{"contact_id": cur.ContactID, "deal_id": cur.DealID, "company_id": cur.CompanyID} {
			if v, ok := ch.Set[col]; ok {
				if p, _ := v.(*string); p != nil {
					links++
				}
			} else if now != nil {
				links++
			}
		}
		if links == 0 {
			return errNoActivityLink
		}
		return nil
	})
}

func (h activityHandlers) list(ctx context.Context, in ListActivitiesInput) (List[Activity], error) {
	short := shorthand(map[string]string{"contact_id": string(in.ContactID), "deal_id": string(in.DealID), "company_id": string(in.CompanyID), "type": in.Type})
	return h.records.list(ctx, in.Page, in.Filter, short)
}

func (h activityHandlers) remove(ctx context.Context, in DeleteActivityInput) (Deleted, error) {
	return h.records.delete(ctx, string(in.ID), in.Precondition)
}

// deleteOrphanActivities deletes the activities linked only by column to the record id, which
// its deletion would leave linked to nothing, returning their events.
func deleteOrphanActivities(ctx context.Context, tx *store.Tx, column, id string) ([]store.NewEvent, error) {
	gone, err := store.DeleteActivitiesOnlyAbout(ctx, tx, column, id)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(gone))
	for i, a := range gone {
		ids[i] = a.ID
	}
	evs, err := dropAssociations(ctx, tx, ids...) // their edges go with them
	for _, a := range gone {
		evs = append(evs, event("activity.deleted", activityOut(a), nil))
	}
	return evs, err
}
