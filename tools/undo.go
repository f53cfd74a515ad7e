package tools

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/relmcrm/relm/store"
)

// UndoChangeInput names the event whose change to revert.
type UndoChangeInput struct {
	ID    EventID `json:"id" doc:"Id of the event recording the change to revert (evt_…), as list_events shows it."`
	Force bool    `json:"force,omitempty" doc:"Revert even if the record changed since: the fields the change set get their old values back, later changes to other fields stay. Without it such a revert fails with conflict and the differences."`
}

// UndoRequestInput names the request whose changes to revert.
type UndoRequestInput struct {
	RequestID RequestIDArg `json:"request_id" doc:"The request's id (req_…): its Request-Id header, request_logs' request_id, or an event's request_id."`
	Force     bool         `json:"force,omitempty" doc:"Revert even the records that changed since, as undo_change's force does."`
}

// Revert is what a revert did.
type Revert struct {
	Object   string   `json:"object" enum:"revert" doc:"Always \"revert\"."`
	Reverted []string `json:"reverted_event_ids" doc:"The events whose changes were reverted, newest first: the one named (or every one of the request), and for a deletion the changes made with it to the links of the deleted record."`
	Events   []Event  `json:"events" doc:"The events the revert recorded, in order; each has data.reverted_event_id naming the event it reverts, and can itself be reverted."`
}

// maxRequestEvents bounds the changes undo_request reverts in one transaction.
const maxRequestEvents = 1000

// derivedEvents restate part of another event of the same change (deal.updated): reverting
// that event reverts them too.
var derivedEvents = []string{"deal.stage_changed", "deal.pipeline_changed"}

// undo reverts changes recorded in the event log.
type undo struct {
	s      *store.Store
	kinds  map[string]reverter // by record kind, the kinds whose changes can be reverted
	merges map[string]mergeReverter
}

// mergeReverter takes back the merges of one kind of record.
type mergeReverter interface {
	revertMerge(ctx context.Context, tx *store.Tx, u undo, rv *reverting, evID string, data json.RawMessage, force bool) error
}

func undoTools(s *store.Store) []Tool {
	u := undo{s: s, kinds: map[string]reverter{
		"contact": contactRecords(s), "company": companyRecords(s), "deal": dealRecords(s),
		"activity": activityRecords(s), "association": associationReverter{},
	}, merges: map[string]mergeReverter{
		"contact": merger[store.Contact, Contact]{records: contactRecords(s)},
		"company": merger[store.Company, Company]{records: companyRecords(s)},
	}}
	return []Tool{
		&Capability[UndoChangeInput, Revert]{Info: Info{
			Name: "undo_change", Title: "Undo a change", Toolset: "events",
			Description: "Revert the change one event recorded; id (evt_…) is required. An update gets its old field values back, " +
				"a creation is deleted, a deletion is restored with its id and its links (associations, references from deals and " +
				"activities, activities deleted with it) where the linked records still exist. If the record changed since, it " +
				"fails with conflict and differences (each field now and as the change left it): pass force: true to revert anyway. " +
				"The revert records its own events (data.reverted_event_id), which can themselves be reverted. Returns " +
				"{reverted_event_ids, events}.",
			Annotations: Annotations{Destructive: true},
			REST:        &Route{Method: http.MethodPost, Path: "/v1/events/{id}/revert", Status: http.StatusOK},
		}, Handle: u.change},
		&Capability[UndoRequestInput, Revert]{Info: Info{
			Name: "undo_request", Title: "Undo a request", Toolset: "events",
			Description: "Revert every change one request made (request_id, req_…, is required: the Request-Id of the call, or an " +
				"event's request_id), newest first, all in one transaction: if one cannot be reverted (a record changed since: " +
				"conflict with differences, unless force: true), nothing is. Returns {reverted_event_ids, events}.",
			Annotations: Annotations{Destructive: true},
			REST:        &Route{Method: http.MethodPost, Path: "/v1/request_logs/{request_id}/revert", Status: http.StatusOK},
		}, Handle: u.request},
	}
}

func (u undo) change(ctx context.Context, in UndoChangeInput) (Revert, error) {
	return u.run(ctx, func(tx *store.Tx, rv *reverting) error {
		ev, err := store.Get(ctx, tx, store.Events, string(in.ID))
		if errors.Is(err, store.ErrNotFound) {
			return NotFound("event", string(in.ID))
		} else if err != nil {
			return err
		}
		if slices.Contains(derivedEvents, ev.Type) {
			e := NewError(CodeValidationFailed, "A %s event restates part of the deal.updated event recorded with it: revert that "+
				"one (list_events with filter {\"request_id\": %q}, or undo_request).", ev.Type, deref(ev.RequestID))
			e.Param = "id"
			return e
		}
		if err := u.revertable(ev); err != nil {
			return err
		}
		return u.revert(ctx, tx, rv, ev, in.Force)
	})
}

func (u undo) request(ctx context.Context, in UndoRequestInput) (Revert, error) {
	return u.run(ctx, func(tx *store.Tx, rv *reverting) error {
		evs, err := store.EventsOfRequest(ctx, tx, string(in.RequestID), maxRequestEvents+1)
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			e := NewError(CodeNotFound, "No change of this workspace and mode was made by that request. Check the id (list_request_logs, "+
				"or an event's request_id); requests that only read change nothing, and automations' changes have no request.")
			e.Param = "request_id"
			return e
		}
		if len(evs) > maxRequestEvents {
			e := NewError(CodeValidationFailed, "Request %s made more than %d changes, more than one revert takes back. Revert its events one by one with undo_change.",
				in.RequestID, maxRequestEvents)
			e.Param = "request_id"
			return e
		}
		for _, ev := range evs {
			if err := u.revertable(ev); err != nil && !slices.Contains(derivedEvents, ev.Type) {
				return err
			}
		}
		for _, ev := range evs {
			if rv.done[ev.ID] || slices.Contains(derivedEvents, ev.Type) {
				continue
			}
			if err := u.revert(ctx, tx, rv, ev, in.Force); err != nil {
				return err
			}
		}
		return nil
	})
}

// RequestIDArg is the id of a request (req_…), as the Request-Id header carries it.
type RequestIDArg string

// Schema is the shape of the ids the server gives requests.
func (RequestIDArg) Schema(huma.Registry) *huma.Schema {
	return idSchema("request")
}

// reverting is the progress of one revert.
type reverting struct {
	done     map[string]bool // events already reverted
	reverted []string
	recorded []string // ids of the events recorded
}

// run reverts in one transaction and returns the result.
func (u undo) run(ctx context.Context, fn func(*store.Tx, *reverting) error) (Revert, error) {
	out := Revert{Object: "revert"}
	rv := &reverting{done: map[string]bool{}}
	err := inTx(ctx, u.s, func(tx *store.Tx) error {
		if err := fn(tx, rv); err != nil {
			return err
		}
		out.Events = make([]Event, 0, len(rv.recorded))
		for _, id := range rv.recorded {
			ev, err := store.Get(ctx, tx, store.Events, id)
			if err != nil {
				return err
			}
			out.Events = append(out.Events, eventOut(ev))
		}
		return nil
	})
	if err != nil {
		var te *Error
		if errors.As(err, &te) {
			return Revert{}, te
		}
		return Revert{}, err
	}
	out.Reverted = rv.reverted
	return out, nil
}

// split is the kind and action of an event type ("contact", "deleted").
func split(typ string) (kind, action string) {
	kind, action, _ = strings.Cut(typ, ".")
	return kind, action
}

// revertable refuses an event whose change undo cannot take back.
func (u undo) revertable(ev store.Event) error {
	kind, action := split(ev.Type)
	_, known := u.kinds[kind]
	if known && (action == "created" || action == "deleted" || action == "updated" && kind != "association") || action == "merged" && u.merges[kind] != nil {
		return nil
	}
	e := NewError(CodeValidationFailed, "A %s event cannot be reverted: undo takes back the creation, update and deletion of contacts, "+
		"companies, deals and activities and of associations. Change it back with the tool that made it.", ev.Type)
	e.Param = "id"
	return e
}

// revert takes back the change of ev and records the events of doing so.
func (u undo) revert(ctx context.Context, tx *store.Tx, rv *reverting, ev store.Event, force bool) error {
	var d eventData
	if err := json.Unmarshal(ev.Data, &d); err != nil {
		return err
	}
	kind, action := split(ev.Type)
	if action == "merged" {
		return u.merges[kind].revertMerge(ctx, tx, u, rv, ev.ID, ev.Data, force)
	}
	r := u.kinds[kind]
	var evs []store.NewEvent
	var err error
	switch action {
	case "created":
		evs, err = r.revertCreate(ctx, tx, d, force)
	case "updated":
		evs, err = r.revertUpdate(ctx, tx, d, force)
	case "deleted":
		evs, err = r.restore(ctx, tx, d)
	}
	if err != nil {
		return err
	}
	if err := u.record(ctx, tx, rv, ev.ID, evs); err != nil {
		return err
	}
	if action == "deleted" && kind != "association" {
		return u.restoreLinks(ctx, tx, rv, ev, d)
	}
	return nil
}

// record marks the event reverted as done and records evs, each marked as reverting it.
func (u undo) record(ctx context.Context, tx *store.Tx, rv *reverting, reverted string, evs []store.NewEvent) error {
	rv.done[reverted] = true
	rv.reverted = append(rv.reverted, reverted)
	for i := range evs {
		var data map[string]json.RawMessage
		if err := json.Unmarshal(evs[i].Data, &data); err != nil {
			return err
		}
		data["reverted_event_id"] = json.RawMessage(Encode(reverted))
		evs[i].Data, evs[i].ID = Encode(data), store.NewID(store.Events.Prefix)
		rv.recorded = append(rv.recorded, evs[i].ID)
	}
	return tx.RecordEvents(ctx, evs...)
}

// restoreLinks reverts, after the deleted record of event del is restored, the changes its
// deletion made to what linked to it: the events its request recorded before it that
// deleted an association or an activity of the record, or cleared a reference to it. A
// link whose other end no longer exists, or a reference set to something else since, is
// left as it is.
func (u undo) restoreLinks(ctx context.Context, tx *store.Tx, rv *reverting, del store.Event, d eventData) error {
	if del.RequestID == nil {
		return nil
	}
	ref, err := decodeOut[recordRef](d.Object)
	if err != nil {
		return err
	}
	siblings, err := store.EventsOfRequest(ctx, tx, *del.RequestID, maxRequestEvents)
	if err != nil {
		return err
	}
	for _, ev := range siblings {
		if rv.done[ev.ID] || ev.ID == del.ID || ev.CreatedAt.After(del.CreatedAt) {
			continue
		}
		var sd eventData
		if err := json.Unmarshal(ev.Data, &sd); err != nil {
			return err
		}
		var links map[string]any
		if err := json.Unmarshal(sd.Object, &links); err != nil {
			return err
		}
		kind, action := split(ev.Type)
		var evs []store.NewEvent
		switch {
		case ev.Type == "association.deleted" && (links["from_id"] == ref.ID || links["to_id"] == ref.ID),
			ev.Type == "activity.deleted" && (links["contact_id"] == ref.ID || links["deal_id"] == ref.ID || links["company_id"] == ref.ID):
			evs, err = u.kinds[kind].restore(ctx, tx, sd)
			var te *Error
			if errors.As(err, &te) && te.Code == CodeConflict {
				continue // the other end is gone, or the link exists again
			}
		case action == "updated" && u.kinds[kind] != nil:
			column := ""
			for c, v := range sd.Previous {
				if string(v) == string(Encode(ref.ID)) && links[c] == nil {
					column = c
				}
			}
			if column == "" {
				continue
			}
			var id recordRef
			if id, err = decodeOut[recordRef](sd.Object); err == nil {
				evs, err = u.kinds[kind].relink(ctx, tx, id.ID, column, nil, ref.ID)
			}
		default:
			continue
		}
		if err != nil {
			return err
		}
		if err := u.record(ctx, tx, rv, ev.ID, evs); err != nil {
			return err
		}
	}
	return nil
}
