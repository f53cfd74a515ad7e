package tools

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/relmcrm/relm/schemas"
	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/store/filter"
)

// Deal is an opportunity moving through a pipeline's stages.
type Deal struct {
	ID               string         `json:"id" doc:"Unique id, starting with deal_."`
	Object           string         `json:"object" enum:"deal" doc:"Always \"deal\"."`
	Title            string         `json:"title"`
	ValueCents       *int64         `json:"value_cents" doc:"Value in the currency's minor unit (cents)."`
	Currency         string         `json:"currency" doc:"ISO 4217 code, such as USD."`
	Pipeline         string         `json:"pipeline" doc:"Key of the deal's pipeline."`
	Stage            string         `json:"stage" doc:"Key of the deal's stage within its pipeline."`
	CloseDate        *string        `json:"close_date" format:"date" doc:"Expected or actual close date (YYYY-MM-DD)."`
	CompanyID        *string        `json:"company_id"`
	PrimaryContactID *string        `json:"primary_contact_id"`
	Metadata         map[string]any `json:"metadata"`
	Mode             string         `json:"mode" enum:"live,test"`
	CreatedAt        time.Time      `json:"created_at"`
	UpdatedAt        time.Time      `json:"updated_at"`
	Version          int64          `json:"version" minimum:"1" doc:"1 when created, one more after every change: compare it, or pass it as expected_version (If-Match on REST), to detect changes made since you read the record."`
}

// CurrentVersion is the deal's version.
func (d Deal) CurrentVersion() int64 { return d.Version }

// CreateDealInput is the body of create_deal.
type CreateDealInput struct {
	Title            string         `json:"title" minLength:"1" maxLength:"500" doc:"What is being sold, e.g. \"Acme — 50 seats\"."`
	ValueCents       *int64         `json:"value_cents,omitempty" minimum:"0" maximum:"9007199254740991" doc:"Value in minor units (cents): 1250000 is 12,500.00."`
	Currency         *string        `json:"currency,omitempty" pattern:"^[A-Za-z]{3}$" doc:"ISO 4217 code; default USD."`
	Pipeline         *string        `json:"pipeline,omitempty" maxLength:"100" doc:"Pipeline key; default: the workspace's default pipeline (sales)."`
	Stage            *string        `json:"stage,omitempty" maxLength:"100" doc:"Stage key in that pipeline; default: its first stage (lead)."`
	CloseDate        *string        `json:"close_date,omitempty" format:"date" doc:"Expected close date, YYYY-MM-DD."`
	CompanyID        *CompanyID     `json:"company_id,omitempty" doc:"Company buying (cmp_…)."`
	PrimaryContactID *ContactID     `json:"primary_contact_id,omitempty" doc:"Main contact (con_…)."`
	Metadata         map[string]any `json:"metadata,omitempty" doc:"Key/value data; keys defined as custom fields (get_schema) must hold a value of their type."`
}

// UpdateDealInput changes only the fields present; null clears one.
type UpdateDealInput struct {
	ID               DealID                           `json:"id" doc:"Id of the deal to change (deal_…)."`
	Title            *string                          `json:"title,omitempty" minLength:"1" maxLength:"500" doc:"New title (not null: a deal always has a title)."`
	ValueCents       schemas.Nullable[int64]          `json:"value_cents,omitzero" minimum:"0" maximum:"9007199254740991" doc:"New value in cents, or null."`
	Currency         *string                          `json:"currency,omitempty" pattern:"^[A-Za-z]{3}$" doc:"New ISO 4217 code (not null: a deal always has a currency)."`
	Pipeline         *string                          `json:"pipeline,omitempty" maxLength:"100" doc:"Move to this pipeline (to its first stage unless stage is given)."`
	Stage            *string                          `json:"stage,omitempty" maxLength:"100" doc:"Move to this stage of the deal's pipeline."`
	CloseDate        schemas.Nullable[string]         `json:"close_date,omitzero" format:"date" doc:"New close date, or null."`
	CompanyID        schemas.Nullable[CompanyID]      `json:"company_id,omitzero"`
	PrimaryContactID schemas.Nullable[ContactID]      `json:"primary_contact_id,omitzero"`
	Metadata         schemas.Nullable[map[string]any] `json:"metadata,omitzero" doc:"Keys to merge into metadata; a key set to null is removed; metadata: null removes all keys."`
	Precondition
}

// MoveDealStageInput moves a deal to a stage.
type MoveDealStageInput struct {
	ID       DealID  `json:"id" doc:"Id of the deal (deal_…)."`
	Stage    string  `json:"stage" minLength:"1" maxLength:"100" doc:"Key of the target stage."`
	Pipeline *string `json:"pipeline,omitempty" maxLength:"100" doc:"Move into this pipeline as well; default: stay in the deal's pipeline."`
	Precondition
}

// DealIDInput names one deal.
type DealIDInput struct {
	ID     DealID       `json:"id" doc:"Id of the deal (deal_…)."`
	Fields Fields[Deal] `json:"fields,omitempty"`
}

// DeleteDealInput names the deal to delete.
type DeleteDealInput struct {
	ID DealID `json:"id" doc:"Id of the deal (deal_…)."`
	Precondition
}

type dealFilter struct{}

func (dealFilter) spec() filter.Spec { return store.Deals.Filters }

// ListDealsInput filters and pages the deal list.
type ListDealsInput struct {
	Stage     string             `json:"stage,omitempty" maxLength:"100" doc:"Only deals in this stage."`
	Pipeline  string             `json:"pipeline,omitempty" maxLength:"100" doc:"Only deals in this pipeline."`
	CompanyID CompanyID          `json:"company_id,omitempty" doc:"Only deals of this company."`
	Filter    Filter[dealFilter] `json:"filter,omitempty"`
	Fields    Fields[Deal]       `json:"fields,omitempty"`
	Page
}

type dealHandlers struct {
	records[store.Deal, Deal]
}

// dealRecords is the deal table as the tools write it.
func dealRecords(s *store.Store) records[store.Deal, Deal] {
	r := records[store.Deal, Deal]{s: s, table: store.Deals, out: dealOut, onUpdate: dealMoved, values: dealValues}
	r.onDelete = func(ctx context.Context, tx *store.Tx, id string) ([]store.NewEvent, error) {
		evs, err := deleteOrphanActivities(ctx, tx, "deal_id", id)
		if err != nil {
			return nil, err
		}
		more, err := unlink(ctx, tx, store.Activities, activityOut, "deal_id", id)
		return append(evs, more...), err
	}
	return r
}

// dealValues are the columns of d's data, as a restore writes them back.
func dealValues(d Deal) store.Values {
	var closeDate *time.Time
	if d.CloseDate != nil {
		if t, err := time.Parse(time.DateOnly, *d.CloseDate); err == nil {
			closeDate = &t
		}
	}
	return store.Values{"title": d.Title, "value_cents": d.ValueCents, "currency": d.Currency, "pipeline": d.Pipeline,
		"stage": d.Stage, "close_date": closeDate, "company_id": d.CompanyID, "primary_contact_id": d.PrimaryContactID,
		"metadata": orEmpty(d.Metadata)}
}

func dealTools(s *store.Store) []Tool {
	h := dealHandlers{dealRecords(s)}
	return []Tool{
		&Capability[CreateDealInput, Deal]{Info: Info{
			Name: "create_deal", Title: "Create deal", Toolset: "deals",
			Description: "Create an opportunity. title is required; value_cents is in minor units (cents) of currency " +
				"(default USD). Without pipeline it goes to the default pipeline, without stage to its first stage; an " +
				"unknown pipeline or stage fails with valid_options. Link company_id and primary_contact_id. Returns the deal.",
			REST: &Route{Method: http.MethodPost, Path: "/v1/deals", Status: http.StatusCreated},
		}, Handle: h.create},
		&Capability[DealIDInput, Deal]{Info: Info{
			Name: "get_deal", Title: "Get deal", Toolset: "deals",
			Description: "Fetch one deal by id (deal_…). Returns the deal with its pipeline and stage.",
			Annotations: Annotations{ReadOnly: true, Idempotent: true},
			REST:        &Route{Method: http.MethodGet, Path: "/v1/deals/{id}", Status: http.StatusOK},
		}, Handle: h.get},
		&Capability[UpdateDealInput, Deal]{Info: Info{
			Name: "update_deal", Title: "Update deal", Toolset: "deals",
			Description: "Change the deal with id (deal_…): any of title, value_cents, currency, pipeline, stage, close_date, company_id, " +
				"primary_contact_id, metadata. Only the fields you pass change; null clears optional ones. A stage " +
				"change records deal.stage_changed; a pipeline change (to its first stage unless stage is given) also " +
				"records deal.pipeline_changed. Returns the updated deal." + preconditionHint,
			Annotations: Annotations{Destructive: true, Idempotent: true},
			REST:        &Route{Method: http.MethodPatch, Path: "/v1/deals/{id}", Status: http.StatusOK},
		}, Handle: h.update},
		&Capability[MoveDealStageInput, Deal]{Info: Info{
			Name: "move_deal_stage", Title: "Move deal stage", Toolset: "deals",
			Description: "Move the deal with id (deal_…) to another stage (and optionally another pipeline: list_pipelines shows their stage keys). " +
				"Fires deal.stage_changed, and deal.pipeline_changed when the pipeline changes. " +
				"An unknown stage fails with valid_options listing the pipeline's stages. Returns the updated deal." + preconditionHint,
			Annotations: Annotations{Idempotent: true},
			REST:        &Route{Method: http.MethodPost, Path: "/v1/deals/{id}/move_stage", Status: http.StatusOK},
		}, Handle: h.move},
		&Capability[ListDealsInput, List[Deal]]{Info: Info{
			Name: "list_deals", Title: "List deals", Toolset: "deals",
			Description: "List deals, newest first. Filter by stage, pipeline or company_id, or with filter, e.g. " +
				"{\"value_cents\":{\"gte\":1000000},\"close_date\":{\"lt\":\"2027-01-01\"}}. Returns {data, has_more, next_cursor}.",
			Annotations: Annotations{ReadOnly: true, Idempotent: true},
			REST:        &Route{Method: http.MethodGet, Path: "/v1/deals", Status: http.StatusOK},
		}, Handle: h.list},
		&Capability[DeleteDealInput, Deleted]{Info: Info{
			Name: "delete_deal", Title: "Delete deal", Toolset: "deals",
			Description: "Permanently delete a deal. Activities about only this deal are deleted with it; others keep " +
				"existing with deal_id cleared. Returns {id, object, deleted: true}." + preconditionHint,
			Annotations: Annotations{Destructive: true, Idempotent: true},
			REST:        &Route{Method: http.MethodDelete, Path: "/v1/deals/{id}", Status: http.StatusOK},
		}, Handle: h.remove},
	}
}

func dealOut(d store.Deal) Deal {
	out := Deal{ID: d.ID, Object: "deal", Title: d.Title, ValueCents: d.ValueCents, Currency: d.Currency,
		Pipeline: d.Pipeline, Stage: d.Stage, CompanyID: d.CompanyID, PrimaryContactID: d.PrimaryContactID,
		Metadata: d.Metadata, Mode: string(d.Mode), CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC(), Version: d.Version}
	if d.CloseDate != nil {
		s := d.CloseDate.Format(time.DateOnly)
		out.CloseDate = &s
	}
	return out
}

// dealMoved adds deal.stage_changed and deal.pipeline_changed to a deal update that moved it.
func dealMoved(before, after Deal, prev map[string]any) []store.NewEvent {
	var evs []store.NewEvent
	if _, ok := prev["pipeline"]; ok {
		evs = append(evs, eventWith("deal.pipeline_changed", map[string]any{
			"object": after, "previous_attributes": prev, "old_pipeline": before.Pipeline, "new_pipeline": after.Pipeline}))
	}
	if _, ok := prev["stage"]; ok || before.Pipeline != after.Pipeline {
		evs = append(evs, eventWith("deal.stage_changed", map[string]any{
			"object": after, "previous_attributes": prev, "pipeline": after.Pipeline,
			"old_stage": before.Stage, "new_stage": after.Stage}))
	}
	return evs
}

// currency normalises and checks an ISO 4217 code.
func currency(code string) (string, error) {
	up := strings.ToUpper(code)
	if !currencies[up] {
		e := NewError(CodeValidationFailed, "Invalid input: currency %q is not an ISO 4217 code (such as USD, EUR, GBP).", code)
		e.Param = "currency"
		return "", e
	}
	return up, nil
}

// date parses a YYYY-MM-DD close date (already format-checked by the schema).
func date(s *string) (*time.Time, error) {
	if s == nil {
		return nil, nil
	}
	d, err := time.Parse(time.DateOnly, *s)
	if err != nil {
		e := NewError(CodeValidationFailed, "Invalid input: close_date must be a date like 2026-12-31.")
		e.Param = "close_date"
		return nil, e
	}
	return &d, nil
}

func (h dealHandlers) create(ctx context.Context, in CreateDealInput) (Deal, error) {
	cur := "USD"
	if in.Currency != nil {
		var err error
		if cur, err = currency(*in.Currency); err != nil {
			return Deal{}, err
		}
	}
	closeDate, err := date(in.CloseDate)
	if err != nil {
		return Deal{}, err
	}
	v := store.Values{"title": in.Title, "value_cents": in.ValueCents, "currency": cur, "close_date": closeDate,
		"company_id": idPtr(in.CompanyID), "primary_contact_id": idPtr(in.PrimaryContactID), "metadata": orEmpty(in.Metadata)}
	return h.records.create(ctx, v, func(ctx context.Context, tx *store.Tx, v store.Values) error {
		p, s, err := store.ResolveStage(ctx, tx, deref(in.Pipeline), deref(in.Stage))
		v["pipeline"], v["stage"] = p, s
		return err
	})
}

func (h dealHandlers) get(ctx context.Context, in DealIDInput) (Deal, error) {
	return h.records.get(ctx, string(in.ID))
}

func (h dealHandlers) update(ctx context.Context, in UpdateDealInput) (Deal, error) {
	ch := store.Changes{Set: map[string]any{}, Metadata: in.Metadata}
	setPtr(ch.Set, "title", in.Title)
	setIf(ch.Set, "value_cents", in.ValueCents)
	if in.Currency != nil {
		c, err := currency(*in.Currency)
		if err != nil {
			return Deal{}, err
		}
		ch.Set["currency"] = c
	}
	if in.CloseDate.Set {
		d, err := date(in.CloseDate.Ptr())
		if err != nil {
			return Deal{}, err
		}
		ch.Set["close_date"] = d
	}
	setID(ch.Set, "company_id", in.CompanyID)
	setID(ch.Set, "primary_contact_id", in.PrimaryContactID)
	return h.records.update(ctx, string(in.ID), in.Precondition, ch, h.placeIn(in.Pipeline, in.Stage))
}

// placeIn resolves a requested pipeline and/or stage against the deal's current place.
func (h dealHandlers) placeIn(pipeline, stage *string) prepareUpdate[store.Deal] {
	return func(ctx context.Context, tx *store.Tx, cur store.Deal, ch *store.Changes) error {
		if pipeline == nil && stage == nil {
			return nil
		}
		p, s := cur.Pipeline, deref(stage)
		if pipeline != nil && *pipeline != cur.Pipeline {
			p = *pipeline
		} else if stage == nil {
			return nil // same pipeline, no stage: nothing moves
		}
		p, s, err := store.ResolveStage(ctx, tx, p, s)
		if err != nil {
			return err
		}
		ch.Set["pipeline"], ch.Set["stage"] = p, s
		return nil
	}
}

func (h dealHandlers) move(ctx context.Context, in MoveDealStageInput) (Deal, error) {
	return h.records.update(ctx, string(in.ID), in.Precondition, store.Changes{Set: map[string]any{}}, h.placeIn(in.Pipeline, &in.Stage))
}

func (h dealHandlers) list(ctx context.Context, in ListDealsInput) (List[Deal], error) {
	short := shorthand(map[string]string{"stage": in.Stage, "pipeline": in.Pipeline, "company_id": string(in.CompanyID)})
	return h.records.list(ctx, in.Page, in.Filter, short)
}

func (h dealHandlers) remove(ctx context.Context, in DeleteDealInput) (Deleted, error) {
	return h.records.delete(ctx, string(in.ID), in.Precondition)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
