package tools

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/relmcrm/relm/schemas"
	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/store/filter"
)

// storeRow is what store tables hold.
type storeRow interface{ Position() store.Cursor }

// records is the one implementation of get, list, create, update and delete for a record
// kind: every write records its event in the same transaction.
type records[R storeRow, Out any] struct {
	s     *store.Store
	table *store.Table[R]
	out   func(R) Out
	// onUpdate adds events for an update beyond <kind>.updated (deal.stage_changed).
	onUpdate func(before, after Out, prev map[string]any) []store.NewEvent
	// onDelete clears references to the record before it is deleted, returning their events.
	onDelete func(ctx context.Context, tx *store.Tx, id string) ([]store.NewEvent, error)
	// values are the columns of a record's data as its result holds them: what undo writes
	// back (nil for kinds undo does not revert).
	values func(Out) store.Values
}

func (r records[R, Out]) kind() string { return r.table.Kind }

// inTx runs fn in a transaction for the caller of ctx.
func inTx(ctx context.Context, s *store.Store, fn func(tx *store.Tx) error) error {
	t, err := callerOf(ctx)
	if err != nil {
		return err
	}
	return s.InTx(ctx, t, fn)
}

// read runs fn's reads for the caller of ctx, each statement in one round trip (store.Read):
// for reads whose statements need no common snapshot.
func read(ctx context.Context, s *store.Store, fn func(tx *store.Tx) error) error {
	t, err := callerOf(ctx)
	if err != nil {
		return err
	}
	return s.Read(ctx, t, fn)
}

func (r records[R, Out]) get(ctx context.Context, id string) (Out, error) {
	var out Out
	err := read(ctx, r.s, func(tx *store.Tx) error {
		row, err := store.Get(ctx, tx, r.table, id)
		if err == nil {
			out = r.out(row)
		}
		return err
	})
	return out, r.fail(id, err)
}

func (r records[R, Out]) list(ctx context.Context, page Page, filters ...map[string]any) (List[Out], error) {
	var out List[Out]
	after, err := page.after(ctx)
	if err != nil {
		return out, err
	}
	err = read(ctx, r.s, func(tx *store.Tx) error {
		typed, err := metadataFilterFields(ctx, r.s, tx, r.kind(), filters)
		if err != nil {
			return err
		}
		p, err := store.List(ctx, tx, r.table, store.ListParams{Filters: filters, Limit: page.Limit, After: after, MetadataFields: typed})
		if err != nil {
			return err
		}
		out, err = listOf(ctx, p, r.out)
		return err
	})
	return out, r.fail("", err)
}

// create inserts a record; prepare may complete the values inside the transaction.
func (r records[R, Out]) create(ctx context.Context, v store.Values, prepare func(context.Context, *store.Tx, store.Values) error) (Out, error) {
	var out Out
	err := inTx(ctx, r.s, func(tx *store.Tx) error {
		if prepare != nil {
			if err := prepare(ctx, tx, v); err != nil {
				return err
			}
		}
		if md, ok := v["metadata"].(map[string]any); ok {
			if err := checkMetadata(ctx, r.s, tx, r.kind(), "metadata", md); err != nil {
				return err
			}
		}
		row, err := store.Insert(ctx, tx, r.table, v)
		if err != nil {
			return err
		}
		out = r.out(row)
		return tx.RecordEvents(ctx, event(r.kind()+".created", out, nil))
	})
	return out, r.fail("", err)
}

// update changes a record if it meets the precondition; prepare may adjust the changes given
// the locked current record.
func (r records[R, Out]) update(ctx context.Context, id string, p Precondition, ch store.Changes, prepare prepareUpdate[R]) (Out, error) {
	var out Out
	err := inTx(ctx, r.s, func(tx *store.Tx) error {
		before, after, err := store.Update(ctx, tx, r.table, id, func(cur R) (store.Changes, error) {
			if err := checkPrecondition(r.kind(), cur, p); err != nil {
				return ch, err
			}
			if err := checkMetadataPatch(ctx, r.s, tx, r.kind(), ch.Metadata); err != nil {
				return ch, err
			}
			if prepare == nil {
				return ch, nil
			}
			return ch, prepare(ctx, tx, cur, &ch)
		})
		if err != nil {
			return err
		}
		out = r.out(after)
		evs, err := r.updateEvents(r.out(before), out)
		if err != nil {
			return err
		}
		return tx.RecordEvents(ctx, evs...)
	})
	return out, r.fail(id, err)
}

// prepareUpdate completes an update's changes from the current, locked record.
type prepareUpdate[R any] func(ctx context.Context, tx *store.Tx, cur R, ch *store.Changes) error

// updateEvents is <kind>.updated with the changed fields' old values, plus any extra
// events; nothing when nothing changed.
func (r records[R, Out]) updateEvents(before, after Out) ([]store.NewEvent, error) {
	prev, err := changed(before, after)
	if err != nil || len(prev) == 0 {
		return nil, err
	}
	evs := []store.NewEvent{event(r.kind()+".updated", after, prev)}
	if r.onUpdate != nil {
		evs = append(evs, r.onUpdate(before, after, prev)...)
	}
	return evs, nil
}

// delete removes a record if it meets the precondition, with the references to it.
func (r records[R, Out]) delete(ctx context.Context, id string, p Precondition) (Deleted, error) {
	err := inTx(ctx, r.s, func(tx *store.Tx) error {
		// Lock first, so no new reference to the record commits while they are cleared.
		cur, err := store.Lock(ctx, tx, r.table, id)
		if err != nil {
			return err
		}
		if err := checkPrecondition(r.kind(), cur, p); err != nil {
			return err
		}
		evs, err := r.deleteLocked(ctx, tx, id)
		if err != nil {
			return err
		}
		return tx.RecordEvents(ctx, evs...)
	})
	if err != nil {
		return Deleted{}, r.fail(id, err)
	}
	return Deleted{ID: id, Object: r.kind(), Deleted: true}, nil
}

// deleteLocked deletes the record id, which tx has locked, with the references to it, and
// returns the events to record: the references' changes, then <kind>.deleted.
func (r records[R, Out]) deleteLocked(ctx context.Context, tx *store.Tx, id string) ([]store.NewEvent, error) {
	var evs []store.NewEvent
	if _, linkable := store.AssociationTypes[r.kind()]; linkable {
		var err error
		if evs, err = dropAssociations(ctx, tx, id); err != nil {
			return nil, err
		}
	}
	if r.onDelete != nil {
		more, err := r.onDelete(ctx, tx, id)
		if err != nil {
			return nil, err
		}
		evs = append(evs, more...)
	}
	row, err := store.Delete(ctx, tx, r.table, id)
	if err != nil {
		return nil, err
	}
	return append(evs, event(r.kind()+".deleted", r.out(row), nil)), nil
}

// unlink clears column of table wherever it names id, returning <kind>.updated events.
func unlink[R storeRow, Out any](ctx context.Context, tx *store.Tx, table *store.Table[R], out func(R) Out, column, id string) ([]store.NewEvent, error) {
	rows, err := store.Unlink(ctx, tx, table, column, id)
	evs := make([]store.NewEvent, len(rows))
	for i, row := range rows {
		evs[i] = event(table.Kind+".updated", out(row), map[string]any{column: id})
	}
	return evs, err
}

// fail maps a store failure about record id onto the caller-facing error.
func (r records[R, Out]) fail(id string, err error) error {
	if err == nil {
		return nil
	}
	var te *Error
	var ref *store.InvalidReferenceError
	var opt *store.UnknownOptionError
	var fe *filter.Error
	switch {
	case errors.As(err, &te):
		return te
	case errors.Is(err, store.ErrNotFound):
		return NotFound(r.kind(), id)
	case errors.As(err, &ref):
		e := NewError(CodeInvalidReference, "%s does not name a %s in this workspace and mode. Check the id, or create the record first.",
			ref.Field, referencedKind(ref.Field))
		e.Param = ref.Field
		return e
	case errors.As(err, &opt):
		e := NewError(CodeValidationFailed, "%q is not a %s of this workspace. Use one of the valid options.", opt.Value, opt.Field)
		if opt.Value == "" && len(opt.Valid) == 0 { // a pipeline without stages
			e = NewError(CodeValidationFailed, "The pipeline has no stages yet, so no deal can be in it. Add one with create_pipeline_stage first.")
		}
		e.Param, e.ValidOptions, e.Suggestion = opt.Field, opt.Valid, closest(opt.Value, opt.Valid)
		return e
	case errors.As(err, &fe):
		return FilterError(fe)
	}
	return fmt.Errorf("%s %s: %w", r.kind(), id, err)
}

// FilterError is the caller-facing form of a filter the caller must fix, with a suggestion
// when the unknown field or operator is close to a valid one.
func FilterError(fe *filter.Error) *Error {
	e := NewError(CodeInvalidFilter, "%s", fe.Message)
	e.Param, e.ValidOptions = fe.Param, fe.ValidOptions
	if len(fe.ValidOptions) > 0 {
		// The unknown name is the last bracketed part of the parameter: filter[f] or filter[f][op].
		if i := strings.LastIndex(fe.Param, "["); i >= 0 {
			e.Suggestion = closest(strings.TrimSuffix(fe.Param[i+1:], "]"), fe.ValidOptions)
		}
	}
	return e
}

func referencedKind(field string) string {
	switch field {
	case "company_id":
		return "company"
	case "contact_id", "primary_contact_id":
		return "contact"
	case "deal_id":
		return "deal"
	}
	return "record"
}

// event builds a log entry: data.object is the record after the change and, for updates,
// data.previous_attributes holds the changed fields' old values.
func event(typ string, object any, prev map[string]any) store.NewEvent {
	data := map[string]any{"object": object}
	if prev != nil {
		data["previous_attributes"] = prev
	}
	return eventWith(typ, data)
}

// changed returns the old values of the fields that differ between two versions of a
// record, ignoring updated_at and version (which every change moves); numbers stay exact.
func changed(before, after any) (map[string]any, error) {
	var b, a map[string]any
	if err := schemas.UnmarshalExact(Encode(before), &b); err != nil {
		return nil, err
	}
	if err := schemas.UnmarshalExact(Encode(after), &a); err != nil {
		return nil, err
	}
	prev := map[string]any{}
	for k, v := range b {
		if k != "updated_at" && k != "version" && !reflect.DeepEqual(v, a[k]) {
			prev[k] = v
		}
	}
	return prev, nil
}

// Filter is a structured list filter over the fields of spec S (see package filter); its
// schema documents the fields for models and OpenAPI.
type Filter[S filterSpec] map[string]any

type filterSpec interface{ spec() filter.Spec }

// Schema describes the filter of S.
func (Filter[S]) Schema(huma.Registry) *huma.Schema {
	var s S
	return &huma.Schema{Extensions: s.spec().Schema()}
}
