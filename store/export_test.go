package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/relmcrm/relm/store/filter"
)

// Raw is the transaction underneath, for tests that query beneath the store's own SQL.
func (tx *Tx) Raw() pgx.Tx { return tx.tx }

// RawPool is the store's pool, for tests of sessions outside any tenant transaction.
func (s *Store) RawPool() *pgxpool.Pool { return s.pool }
func (a *Admin) RawPool() *pgxpool.Pool { return a.pool }

// PreferCustomPlansForTest is preferCustomPlans, for the test of what a Read carries.
func PreferCustomPlansForTest(ctx context.Context, tx *Tx) error { return preferCustomPlans(ctx, tx) }

// ScanForTest scans rows the way tb's reads do.
func ScanForTest[R row](tb *Table[R], rows pgx.Rows) ([]R, error) { return tb.scan(rows) }

// ScanWithinForTest is tb.scanWithin, the scan of a list page.
func ScanWithinForTest[R row](tb *Table[R], rows pgx.Rows, maxBytes int) ([]R, bool, error) {
	return tb.scanWithin(rows, maxBytes)
}

// NewTableForTest is a table of R named name, for tests of how rows scan into R.
func NewTableForTest[R row](name string) *Table[R] {
	return newTable[R](name, name, name+"_", filter.Spec{})
}

// PlannedForTest reports whether a row of tb's columns scans by tb's precomputed plan.
func PlannedForTest[R row](tb *Table[R]) bool { return tb.plan.paths != nil }

// Columns are tb's columns, as its queries select them.
func (tb *Table[R]) Columns() string { return tb.cols }

// NewTimeIDAt is NewTimeID at the time now.
func NewTimeIDAt(prefix string, now time.Time) string { return newTimeID(prefix, now) }

// DeferredForTest is how many statements of tx's transaction wait for its next statement
// or its COMMIT.
func DeferredForTest(tx *Tx) int {
	if w := rootTx(tx.tx); w != nil {
		return len(w.deferred)
	}
	return 0
}
