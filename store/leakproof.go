package store

import (
	"context"
	"database/sql"
	"fmt"
)

// leakproofFunctions are the built-in functions inside Relm's index-served list predicates:
// lower(email) = … (email lookups and filters, batch import), jsonb @> jsonb (metadata
// equality, GIN), and metadata->'key' compared with a JSON number or metadata->>'key' with a
// date string (custom-field ranges, which expression indexes can serve: docs/api.md).
// Beneath a row-level security policy PostgreSQL uses an index for a condition only if every
// function in it is marked LEAKPROOF, i.e. cannot reveal anything about its arguments except
// through its result — no error that depends on row data. None of these raises one: lower
// fails only on encodings the database already rejects; -> and ->> return NULL for what
// they cannot read; containment and the jsonb comparisons compare values (recursing only as
// deep as the values nest, which Relm's input limits keep to 32 levels). PostgreSQL ships
// them unmarked, and without the mark each of those queries reads every row of the tenant.
// Left alone on purpose: casts to numeric and regular expressions (which fail on bad input;
// the filters check types after the indexed comparison instead), and @@ and LIKE (LIKE
// errors on a pattern ending in an escape character only for rows that reach it): search
// gets its candidates from definer functions instead (migration 00008).
var leakproofFunctions = []string{
	"pg_catalog.lower(text)",
	"pg_catalog.jsonb_contains(jsonb, jsonb)",
	"pg_catalog.jsonb_object_field(jsonb, text)",
	"pg_catalog.jsonb_object_field_text(jsonb, text)",
	"pg_catalog.jsonb_lt(jsonb, jsonb)",
	"pg_catalog.jsonb_le(jsonb, jsonb)",
	"pg_catalog.jsonb_gt(jsonb, jsonb)",
	"pg_catalog.jsonb_ge(jsonb, jsonb)",
}

const unmarkedSQL = `SELECT p.oid::regprocedure::text FROM pg_proc p
	WHERE p.oid = ANY($1::regprocedure[]) AND NOT p.proleakproof ORDER BY 1`

// markLeakproof marks leakproofFunctions LEAKPROOF in this database (pg_proc is per
// database) when the migrating role is a superuser, which only a superuser may do. It runs
// on every Migrate, so the marks come back after a major-version upgrade rebuilds the
// catalog. Elsewhere it does nothing; see Store.UnmarkedLeakproof.
func markLeakproof(ctx context.Context, db *sql.DB) error {
	var super bool
	if err := db.QueryRowContext(ctx, `SELECT rolsuper FROM pg_roles WHERE rolname = current_user`).Scan(&super); err != nil || !super {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// Replicas starting together would otherwise update the same catalog rows at once.
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('relm:leakproof'))`); err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, unmarkedSQL, leakproofFunctions)
	if err != nil {
		return err
	}
	var unmarked []string
	for rows.Next() {
		var f string
		if err := rows.Scan(&f); err != nil {
			return err
		}
		unmarked = append(unmarked, f)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, f := range unmarked {
		// f is the catalog's own regprocedure spelling of one of our constants.
		if _, err := tx.ExecContext(ctx, "ALTER FUNCTION "+f+" LEAKPROOF"); err != nil {
			return fmt.Errorf("store: mark %s leakproof: %w", f, err)
		}
	}
	return tx.Commit()
}

// UnmarkedLeakproof lists the functions of leakproofFunctions not marked LEAKPROOF in this
// database, with the statements a superuser can run to mark them. Relm works correctly
// without the marks; email lookups and metadata filters then read every row of the tenant
// instead of using their indexes.
func (s *Store) UnmarkedLeakproof(ctx context.Context) (unmarked []string, fix string, err error) {
	rows, err := s.pool.Query(ctx, unmarkedSQL, leakproofFunctions)
	if err != nil {
		return nil, "", fmt.Errorf("store: read pg_proc: %w", err)
	}
	for rows.Next() {
		var f string
		if err := rows.Scan(&f); err != nil {
			return nil, "", err
		}
		unmarked = append(unmarked, f)
		fix += "ALTER FUNCTION " + f + " LEAKPROOF; "
	}
	return unmarked, fix, rows.Err()
}
