package tools

import (
	"context"
	"errors"

	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/store/filter"
)

// plainRecords is get, list and delete of a tenant table whose changes record no events
// (webhook endpoints, automation rules, emails): the records helper without the event log.
type plainRecords[R storeRow, Out any] struct {
	s     *store.Store
	table *store.Table[R]
	out   func(R) Out
}

func (p plainRecords[R, Out]) get(ctx context.Context, id string) (Out, error) {
	var out Out
	err := read(ctx, p.s, func(tx *store.Tx) error {
		row, err := store.Get(ctx, tx, p.table, id)
		out = p.out(row)
		return err
	})
	return out, p.fail(err, id)
}

func (p plainRecords[R, Out]) list(ctx context.Context, page Page, filters ...map[string]any) (List[Out], error) {
	var out List[Out]
	after, err := page.after(ctx)
	if err != nil {
		return out, err
	}
	err = read(ctx, p.s, func(tx *store.Tx) error {
		pg, err := store.List(ctx, tx, p.table, store.ListParams{Filters: filters, Limit: page.Limit, After: after})
		if err == nil {
			out, err = listOf(ctx, pg, p.out)
		}
		return err
	})
	return out, p.fail(err, "")
}

func (p plainRecords[R, Out]) remove(ctx context.Context, id string) (Deleted, error) {
	err := inTx(ctx, p.s, func(tx *store.Tx) error {
		_, err := store.Delete(ctx, tx, p.table, id)
		return err
	})
	if err != nil {
		return Deleted{}, p.fail(err, id)
	}
	return Deleted{ID: id, Object: p.table.Kind, Deleted: true}, nil
}

// fail maps a store failure about record id onto the caller-facing error.
func (p plainRecords[R, Out]) fail(err error, id string) error {
	var te *Error
	var fe *filter.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &te):
		return te
	case errors.Is(err, store.ErrNotFound):
		return NotFound(p.table.Kind, id)
	case errors.As(err, &fe):
		return FilterError(fe)
	}
	return err
}
