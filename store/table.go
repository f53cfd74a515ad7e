package store

import (
	"context"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/relmcrm/relm/schemas"
	"github.com/relmcrm/relm/store/filter"
)

// row is a record type: a struct embedding Record, scanned by `db` tags.
type row interface{ Position() Cursor }

// Table describes one tenant record table, whose rows scan into R by `db` tags. The generic
// operations below are the only SQL that reads and writes records.
type Table[R row] struct {
	Name    string      // SQL table name
	Kind    string      // record kind ("contact"): cursor kind and event type prefix
	Prefix  string      // id prefix ("con_")
	Filters filter.Spec // fields a list may filter on
	cols    string
	known   map[string]bool // the columns of cols, the only names Insert and Update accept
	plan    scanPlan        // how a row of cols scans into R
	// triggers: the table's enabled rows are what events set off (webhook endpoints,
	// automations), so a transaction writing one looks for them again (RecordEvents).
	triggers bool
}

func newTable[R row](name, kind, prefix string, filters filter.Spec) *Table[R] {
	names := columns(reflect.TypeFor[R]())
	known := make(map[string]bool, len(names))
	for _, c := range names {
		known[c] = true
	}
	return &Table[R]{Name: name, Kind: kind, Prefix: prefix, Filters: filters, cols: strings.Join(names, ", "), known: known,
		plan: newScanPlan(reflect.TypeFor[R](), names)}
}

// triggering marks tb as holding what events set off.
func triggering[R row](tb *Table[R]) *Table[R] {
	tb.triggers = true
	return tb
}

// checkColumns refuses a column name that is not one of the table's, so that no caller's
// map key is ever spliced into SQL: a programming error, not a caller's.
func (tb *Table[R]) checkColumns(op string, names []string) error {
	for _, c := range names {
		if !tb.known[c] {
			return fmt.Errorf("store: %s %s: %s has no column %q", op, tb.Kind, tb.Name, c)
		}
	}
	return nil
}

// columns lists the `db` columns of struct t, embedded structs included.
func columns(t reflect.Type) []string {
	var cols []string
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			cols = append(cols, columns(f.Type)...)
		} else if c := f.Tag.Get("db"); c != "" && c != "-" {
			cols = append(cols, c)
		}
	}
	return cols
}

// Values are the columns of a new row.
type Values map[string]any

// Changes are the columns an update sets; a nil value stores NULL. Metadata, when Set,
// merges into the row's metadata (null removes a key; a null patch clears it).
type Changes struct {
	Set      map[string]any
	Metadata schemas.Nullable[map[string]any]
}

// Empty reports whether the update would change nothing.
func (c Changes) Empty() bool { return len(c.Set) == 0 && !c.Metadata.Set }

// scan collects rows into structs by `db` tags, like pgx.CollectRows with
// pgx.RowToStructByName (an empty result is an empty slice, not nil), matching a row of
// tb.cols to R's fields only once.
func (tb *Table[R]) scan(rows pgx.Rows) ([]R, error) {
	items, _, err := tb.scanWithin(rows, math.MaxInt)
	if err != nil {
		return nil, err
	}
	if items == nil {
		items = []R{}
	}
	return items, nil
}

func (tb *Table[R]) one(ctx context.Context, tx *Tx, op, sql string, args ...any) (R, error) {
	rows, err := tx.tx.Query(ctx, sql, args...)
	if err != nil {
		var zero R
		return zero, wrap(op+" "+tb.Kind, classify(err))
	}
	got, err := tb.scan(rows)
	var zero R
	if err != nil {
		return zero, wrap(op+" "+tb.Kind, classify(err))
	}
	if len(got) == 0 {
		return zero, ErrNotFound
	}
	return got[0], nil
}

// Get returns the tenant's record id, or ErrNotFound.
func Get[R row](ctx context.Context, tx *Tx, tb *Table[R], id string) (R, error) {
	return tb.one(ctx, tx, "get", `SELECT `+tb.cols+` FROM `+tb.Name+`
		WHERE workspace_id = $1 AND mode = $2 AND id = $3`, tx.t.WorkspaceID, tx.t.Mode, id)
}

// lockRow returns the record like Get and locks it until the transaction ends.
func lockRow[R row](ctx context.Context, tx *Tx, tb *Table[R], id string) (R, error) {
	return tb.one(ctx, tx, "lock", `SELECT `+tb.cols+` FROM `+tb.Name+`
		WHERE workspace_id = $1 AND mode = $2 AND id = $3 FOR UPDATE`, tx.t.WorkspaceID, tx.t.Mode, id)
}

// Lock locks the tenant's record id until the transaction ends and returns it, or is
// ErrNotFound. A deletion locks its record first, so that no new reference to it (a foreign
// key, an association end) can commit while the references are being cleared, and so that
// its precondition holds until it commits.
func Lock[R row](ctx context.Context, tx *Tx, tb *Table[R], id string) (R, error) {
	return lockRow(ctx, tx, tb, id)
}

// Insert creates a record for the tenant with a new id, or with v["id"] when the caller
// chose it first (a value derived from it is part of the row).
func Insert[R row](ctx context.Context, tx *Tx, tb *Table[R], v Values) (R, error) {
	if err := tb.checkColumns("insert", slices.Sorted(maps.Keys(v))); err != nil {
		var zero R
		return zero, err
	}
	if tb.triggers {
		tx.triggersChanged()
	}
	q := query{}
	id, chosen := v["id"].(string)
	if !chosen {
		id = NewID(tb.Prefix)
	}
	cols := []string{"id", "workspace_id", "mode"}
	vals := []string{q.arg(id), q.arg(tx.t.WorkspaceID), q.arg(tx.t.Mode)}
	for _, c := range slices.Sorted(maps.Keys(v)) {
		if c == "id" {
			continue
		}
		cols = append(cols, c)
		vals = append(vals, q.arg(v[c]))
	}
	return tb.one(ctx, tx, "insert", `INSERT INTO `+tb.Name+` (`+strings.Join(cols, ", ")+`)
		VALUES (`+strings.Join(vals, ", ")+`) RETURNING `+tb.cols, q.args...)
}

// Update locks the tenant's record id, asks changes what to set given its current state,
// applies that, and returns the record before and after.
func Update[R row](ctx context.Context, tx *Tx, tb *Table[R], id string, changes func(before R) (Changes, error)) (before, after R, err error) {
	if before, err = lockRow(ctx, tx, tb, id); err != nil {
		return before, before, err
	}
	ch, err := changes(before)
	if err != nil || ch.Empty() {
		return before, before, err
	}
	if err := tb.checkColumns("update", slices.Sorted(maps.Keys(ch.Set))); err != nil {
		return before, before, err
	}
	if tb.triggers {
		tx.triggersChanged()
	}
	q := query{args: []any{tx.t.WorkspaceID, tx.t.Mode, id}}
	sets := []string{"updated_at = clock_timestamp()"}
	for _, c := range slices.Sorted(maps.Keys(ch.Set)) {
		sets = append(sets, c+" = "+q.arg(ch.Set[c]))
	}
	if ch.Metadata.Set {
		sets = append(sets, "metadata = "+mergeMetadata(&q, ch.Metadata))
	}
	after, err = tb.one(ctx, tx, "update", `UPDATE `+tb.Name+` SET `+strings.Join(sets, ", ")+`
		WHERE workspace_id = $1 AND mode = $2 AND id = $3 RETURNING `+tb.cols, q.args...)
	return before, after, err
}

// Delete removes the tenant's record id and returns what it was.
func Delete[R row](ctx context.Context, tx *Tx, tb *Table[R], id string) (R, error) {
	return tb.one(ctx, tx, "delete", `DELETE FROM `+tb.Name+`
		WHERE workspace_id = $1 AND mode = $2 AND id = $3 RETURNING `+tb.cols, tx.t.WorkspaceID, tx.t.Mode, id)
}

// Unlink clears column wherever it names id and returns the changed rows: deleting a
// record leaves no reference to it behind.
func Unlink[R row](ctx context.Context, tx *Tx, tb *Table[R], column, id string) ([]R, error) {
	if err := tb.checkColumns("unlink", []string{column}); err != nil {
		return nil, err
	}
	rows, err := tx.tx.Query(ctx, `UPDATE `+tb.Name+` SET `+column+` = NULL, updated_at = clock_timestamp()
		WHERE workspace_id = $1 AND mode = $2 AND `+column+` = $3 RETURNING `+tb.cols, tx.t.WorkspaceID, tx.t.Mode, id)
	if err != nil {
		return nil, wrap("unlink "+tb.Kind, err)
	}
	got, err := tb.scan(rows)
	return got, wrap("unlink "+tb.Kind, err)
}

// deleteWhere deletes the tenant's rows matching the trusted SQL condition cond (with $3
// bound to arg) and returns them. It locks them in id order first, so that a transaction
// locking two of them in the same order (CreateAssociation) waits instead of deadlocking.
func deleteWhere[R row](ctx context.Context, tx *Tx, tb *Table[R], cond string, arg any) ([]R, error) {
	rows, err := tx.tx.Query(ctx, `WITH doomed AS (
			SELECT id FROM `+tb.Name+` WHERE workspace_id = $1 AND mode = $2 AND `+cond+` ORDER BY id FOR UPDATE)
		DELETE FROM `+tb.Name+` WHERE workspace_id = $1 AND mode = $2 AND id IN (SELECT id FROM doomed)
		RETURNING `+tb.cols, tx.t.WorkspaceID, tx.t.Mode, arg)
	if err != nil {
		return nil, wrap("delete "+tb.Kind, err)
	}
	got, err := tb.scan(rows)
	return got, wrap("delete "+tb.Kind, err)
}

// ListParams select one page of a list.
type ListParams struct {
	Filters []map[string]any // structured filters (see package filter), ANDed
	Limit   int
	After   *Cursor
	// MetadataFields types metadata keys for the filters (the caller's custom fields).
	MetadataFields map[string]filter.MetadataField
}

// List returns one page of the tenant's records, newest first. A bad filter is a
// *filter.Error. A list filtered on metadata is planned for its values (preferCustomPlans).
func List[R row](ctx context.Context, tx *Tx, tb *Table[R], p ListParams) (Page[R], error) {
	if filter.NamesMetadata(p.Filters) {
		if err := preferCustomPlans(ctx, tx); err != nil {
			return Page[R]{}, err
		}
	}
	limit := ClampLimit(p.Limit)
	q := query{args: []any{tx.t.WorkspaceID, tx.t.Mode}}
	where := []string{"workspace_id = $1", "mode = $2"}
	spec := tb.Filters
	spec.MetadataFields = p.MetadataFields
	for _, f := range p.Filters {
		conds, ferr := spec.Compile(f, q.arg)
		if ferr != nil {
			return Page[R]{}, ferr
		}
		where = append(where, conds...)
	}
	if p.After != nil {
		where = append(where, "(created_at, id) < ("+q.arg(p.After.CreatedAt)+", "+q.arg(p.After.ID)+")")
	}
	rows, err := tx.tx.Query(ctx, `SELECT `+tb.cols+` FROM `+tb.Name+` WHERE `+strings.Join(where, " AND ")+`
		ORDER BY created_at DESC, id DESC LIMIT `+q.arg(limit+1), q.args...)
	if err != nil {
		return Page[R]{}, wrap("list "+tb.Kind, err)
	}
	items, full, err := tb.scanWithin(rows, PageBytes)
	if err != nil {
		return Page[R]{}, wrap("list "+tb.Kind, err)
	}
	if full { // the rows left unread start the next page
		next := items[len(items)-1].Position()
		return Page[R]{Items: items, HasMore: true, Next: &next}, nil
	}
	return paginate(items, limit, R.Position), nil
}

// PageBytes bounds the records of one page of a list: a page ends before the record that
// would take it past PageBytes (it always holds at least one), so that no request holds a
// tenant's whole data set in memory. Lists measure rows as PostgreSQL sends them, and the
// tools layer the JSON it answers with.
const PageBytes = 1 << 20

// scanWithin scans rows into structs by `db` tags until the next row would take their raw
// size past maxBytes, keeping at least one; full reports that it stopped there. The rows
// left unread are discarded without being decoded.
func (tb *Table[R]) scanWithin(rows pgx.Rows, maxBytes int) (items []R, full bool, err error) {
	defer rows.Close()
	size := 0
	sc := scanner[R]{plan: &tb.plan}
	for rows.Next() {
		n := 0
		for _, v := range rows.RawValues() {
			n += len(v)
		}
		if len(items) > 0 && n > maxBytes-size {
			return items, true, nil
		}
		size += n
		var zero R
		items = append(items, zero)
		if err := sc.scanInto(rows, &items[len(items)-1]); err != nil {
			return nil, false, err
		}
	}
	return items, false, rows.Err()
}

// recentContactActivitiesSQL selects the $4 most recent activities of tenant ($1, $2) of
// contact $3, built once: every contact read sends it.
var recentContactActivitiesSQL = `SELECT ` + Activities.cols + ` FROM activities
		WHERE workspace_id = $1 AND mode = $2 AND contact_id = $3
		ORDER BY occurred_at DESC, id DESC LIMIT $4`

// GetMany returns the tenant's records among ids, in no particular order.
func GetMany[R row](ctx context.Context, tx *Tx, tb *Table[R], ids []string) ([]R, error) {
	rows, err := tx.tx.Query(ctx, `SELECT `+tb.cols+` FROM `+tb.Name+`
		WHERE workspace_id = $1 AND mode = $2 AND id = ANY($3)`, tx.t.WorkspaceID, tx.t.Mode, ids)
	if err != nil {
		return nil, wrap("get "+tb.Name, err)
	}
	got, err := tb.scan(rows)
	return got, wrap("get "+tb.Name, err)
}

// collect scans rows into structs by `db` tags.
func collect[T any](rows pgx.Rows) ([]T, error) {
	return pgx.CollectRows(rows, pgx.RowToStructByName[T])
}
