package tools

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"reflect"
	"slices"
	"time"

	"github.com/relmcrm/relm/schemas"
	"github.com/relmcrm/relm/store"
)

// eventData is the part of an event's data a revert reads.
type eventData struct {
	Object   json.RawMessage            `json:"object"`
	Previous map[string]json.RawMessage `json:"previous_attributes"`
}

// recordRef is the id and kind of the record an event's data.object is.
type recordRef struct {
	ID     string `json:"id"`
	Object string `json:"object"`
}

// reverter takes back the changes events recorded of one kind of record. Each method
// works inside the caller's transaction and returns the events the revert records.
type reverter interface {
	// revertCreate deletes the record obj, created by the event, as the delete tool would.
	revertCreate(ctx context.Context, tx *store.Tx, d eventData, force bool) ([]store.NewEvent, error)
	// revertUpdate restores the fields the event changed.
	revertUpdate(ctx context.Context, tx *store.Tx, d eventData, force bool) ([]store.NewEvent, error)
	// restore inserts the deleted record again with its id; its own references to records
	// that no longer exist are left empty.
	restore(ctx context.Context, tx *store.Tx, d eventData) ([]store.NewEvent, error)
	// relink sets column of record id to target, if the record exists and the column still
	// holds want (nil: is empty); no events otherwise.
	relink(ctx context.Context, tx *store.Tx, id, column string, want *string, target string) ([]store.NewEvent, error)
}

// decodeOut reads a record result from an event's JSON, numbers exactly.
func decodeOut[Out any](raw json.RawMessage) (Out, error) {
	var out Out
	err := schemas.UnmarshalExact(raw, &out)
	return out, err
}

// overlay is obj with the fields of prev replaced: a record before the update that left obj.
func overlay(obj json.RawMessage, prev map[string]json.RawMessage) (json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(obj, &m); err != nil {
		return nil, err
	}
	for k, v := range prev {
		m[k] = v
	}
	return json.Marshal(m)
}

// differences lists the fields of the record now (cur) whose values are not those the
// event left (want), ignoring updated_at and version, which every change moves.
func differences(kind, id string, cur, want any) ([]Difference, error) {
	var c, w map[string]any
	if err := schemas.UnmarshalExact(Encode(cur), &c); err != nil {
		return nil, err
	}
	if err := schemas.UnmarshalExact(Encode(want), &w); err != nil {
		return nil, err
	}
	var diffs []Difference
	for _, k := range slices.Sorted(maps.Keys(w)) {
		if k != "updated_at" && k != "version" && !reflect.DeepEqual(c[k], w[k]) {
			diffs = append(diffs, Difference{Object: kind, ID: id, Field: k, Current: c[k], Event: w[k]})
		}
	}
	return diffs, nil
}

// conflict is the refusal of a revert whose record changed since the event.
func conflict(kind, id string, diffs []Difference) *Error {
	n := nameOf(kind)
	e := NewError(CodeConflict, "The %s %s changed since this change was made, so reverting it would undo those later changes too. "+
		"Nothing was changed. Check differences (its values now, and those the change left), then revert with force: true "+
		"to restore the fields the change set anyway, or leave it.", n.one, id)
	e.Param, e.Differences = "force", diffs
	return e
}

// gone is the refusal of a revert whose record no longer exists (or exists again).
func gone(kind, id string, exists bool) *Error {
	n := nameOf(kind)
	if exists {
		e := NewError(CodeConflict, "The %s %s exists again (it was restored or re-created since), so there is nothing to restore. Nothing was changed.", n.one, id)
		e.Differences = []Difference{{Object: kind, ID: id, Field: "record", Current: "exists", Event: nil}}
		return e
	}
	e := NewError(CodeConflict, "The %s %s no longer exists (it was deleted since), so this change cannot be reverted. Nothing was changed. "+
		"Revert its deletion first if you want it back.", n.one, id)
	e.Differences = []Difference{{Object: kind, ID: id, Field: "record", Current: nil, Event: "exists"}}
	return e
}

func (r records[R, Out]) revertCreate(ctx context.Context, tx *store.Tx, d eventData, force bool) ([]store.NewEvent, error) {
	after, err := decodeOut[Out](d.Object)
	if err != nil {
		return nil, err
	}
	ref, err := decodeOut[recordRef](d.Object)
	if err != nil {
		return nil, err
	}
	cur, err := store.Lock(ctx, tx, r.table, ref.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, gone(r.kind(), ref.ID, false)
	} else if err != nil {
		return nil, err
	}
	diffs, err := differences(r.kind(), ref.ID, r.out(cur), after)
	if err != nil {
		return nil, err
	}
	if len(diffs) > 0 && !force {
		return nil, conflict(r.kind(), ref.ID, diffs)
	}
	return r.deleteLocked(ctx, tx, ref.ID)
}

func (r records[R, Out]) revertUpdate(ctx context.Context, tx *store.Tx, d eventData, force bool) ([]store.NewEvent, error) {
	after, err := decodeOut[Out](d.Object)
	if err != nil {
		return nil, err
	}
	beforeJSON, err := overlay(d.Object, d.Previous)
	if err != nil {
		return nil, err
	}
	before, err := decodeOut[Out](beforeJSON)
	if err != nil {
		return nil, err
	}
	ref, err := decodeOut[recordRef](d.Object)
	if err != nil {
		return nil, err
	}
	vb, va := r.values(before), r.values(after)
	set := map[string]any{}
	for c, v := range vb {
		if !reflect.DeepEqual(v, va[c]) {
			set[c] = v
		}
	}
	b, a, err := store.Update(ctx, tx, r.table, ref.ID, func(cur R) (store.Changes, error) {
		diffs, err := differences(r.kind(), ref.ID, r.out(cur), after)
		if err != nil {
			return store.Changes{}, err
		}
		if len(diffs) > 0 && !force {
			return store.Changes{}, conflict(r.kind(), ref.ID, diffs)
		}
		return store.Changes{Set: set}, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, gone(r.kind(), ref.ID, false)
	} else if err != nil {
		return nil, r.fail(ref.ID, err)
	}
	return r.updateEvents(r.out(b), r.out(a))
}

func (r records[R, Out]) restore(ctx context.Context, tx *store.Tx, d eventData) ([]store.NewEvent, error) {
	obj, err := decodeOut[Out](d.Object)
	if err != nil {
		return nil, err
	}
	var ref struct {
		recordRef
		CreatedAt time.Time `json:"created_at"`
	}
	if err := json.Unmarshal(d.Object, &ref); err != nil {
		return nil, err
	}
	if _, err := store.Get(ctx, tx, r.table, ref.ID); err == nil {
		return nil, gone(r.kind(), ref.ID, true)
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	v := r.values(obj)
	for col, kind := range referenceColumns {
		target, ok := v[col].(*string)
		if !ok || target == nil {
			continue
		}
		found, err := recordExists(ctx, tx, kind, *target)
		if err != nil {
			return nil, err
		}
		if !found {
			v[col] = (*string)(nil)
		}
	}
	if r.kind() == "activity" && v["contact_id"] == (*string)(nil) && v["deal_id"] == (*string)(nil) && v["company_id"] == (*string)(nil) {
		e := NewError(CodeConflict, "The activity %s cannot be restored: every record it was logged against has been deleted since. Nothing was changed.", ref.ID)
		e.Differences = []Difference{{Object: "activity", ID: ref.ID, Field: "record", Current: nil, Event: "exists"}}
		return nil, e
	}
	v["id"] = ref.ID
	if !ref.CreatedAt.IsZero() {
		v["created_at"] = ref.CreatedAt
	}
	row, err := store.Insert(ctx, tx, r.table, v)
	if errors.Is(err, store.ErrIDTaken) {
		return nil, gone(r.kind(), ref.ID, true)
	} else if err != nil {
		return nil, r.fail(ref.ID, err)
	}
	return []store.NewEvent{event(r.kind()+".created", r.out(row), nil)}, nil
}

func (r records[R, Out]) relink(ctx context.Context, tx *store.Tx, id, column string, want *string, target string) ([]store.NewEvent, error) {
	if _, ok := r.values(*new(Out))[column]; !ok {
		return nil, nil
	}
	b, a, err := store.Update(ctx, tx, r.table, id, func(cur R) (store.Changes, error) {
		if v, _ := r.values(r.out(cur))[column].(*string); (v == nil) != (want == nil) || v != nil && *v != *want {
			return store.Changes{}, nil
		}
		return store.Changes{Set: map[string]any{column: &target}}, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return r.updateEvents(r.out(b), r.out(a))
}

// referenceColumns are the record columns that name another record, with its kind.
var referenceColumns = map[string]string{
	"company_id": "company", "contact_id": "contact", "primary_contact_id": "contact", "deal_id": "deal",
}

// recordExists reports whether the tenant has the record id of kind.
func recordExists(ctx context.Context, tx *store.Tx, kind, id string) (bool, error) {
	var err error
	switch kind {
	case "contact":
		_, err = store.Get(ctx, tx, store.Contacts, id)
	case "company":
		_, err = store.Get(ctx, tx, store.Companies, id)
	case "deal":
		_, err = store.Get(ctx, tx, store.Deals, id)
	case "activity":
		_, err = store.Get(ctx, tx, store.Activities, id)
	default:
		return false, nil
	}
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// associationReverter reverts the creation and deletion of associations (which are never
// updated).
type associationReverter struct{}

func (associationReverter) revertCreate(ctx context.Context, tx *store.Tx, d eventData, _ bool) ([]store.NewEvent, error) {
	ref, err := decodeOut[recordRef](d.Object)
	if err != nil {
		return nil, err
	}
	if _, err := store.Lock(ctx, tx, store.Associations, ref.ID); errors.Is(err, store.ErrNotFound) {
		return nil, gone("association", ref.ID, false)
	} else if err != nil {
		return nil, err
	}
	row, err := store.Delete(ctx, tx, store.Associations, ref.ID)
	if err != nil {
		return nil, err
	}
	return []store.NewEvent{event("association.deleted", associationOut(row), nil)}, nil
}

func (associationReverter) revertUpdate(context.Context, *store.Tx, eventData, bool) ([]store.NewEvent, error) {
	return nil, errors.New("tools: associations are never updated")
}

func (associationReverter) restore(ctx context.Context, tx *store.Tx, d eventData) ([]store.NewEvent, error) {
	a, err := decodeOut[Association](d.Object)
	if err != nil {
		return nil, err
	}
	row, err := store.CreateAssociation(ctx, tx, store.NewAssociation{ID: a.ID, FromType: string(a.FromType), FromID: a.FromID,
		ToType: string(a.ToType), ToID: a.ToID, Label: a.Label})
	var ref *store.InvalidReferenceError
	var exists *store.AssociationExistsError
	switch {
	case errors.As(err, &exists), errors.Is(err, store.ErrIDTaken):
		return nil, gone("association", a.ID, true)
	case errors.As(err, &ref):
		e := NewError(CodeConflict, "The association %s cannot be restored: the record at its %s has been deleted since. Nothing was changed.", a.ID, ref.Field)
		e.Param = ref.Field
		e.Differences = []Difference{{Object: "association", ID: a.ID, Field: ref.Field, Current: nil, Event: "exists"}}
		return nil, e
	case err != nil:
		return nil, err
	}
	return []store.NewEvent{event("association.created", associationOut(row), nil)}, nil
}

func (associationReverter) relink(context.Context, *store.Tx, string, string, *string, string) ([]store.NewEvent, error) {
	return nil, nil
}
