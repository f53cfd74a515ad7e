package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// DuplicatePair is two records of the tenant that may be the same person or organization,
// with what they share: A is the newer of the two.
type DuplicatePair struct {
	AID            string    `db:"a_id"`
	BID            string    `db:"b_id"`
	ACreatedAt     time.Time `db:"a_created_at"`
	SameEmail      bool      `db:"same_email"`
	SamePhone      bool      `db:"same_phone"`
	SameDomain     bool      `db:"same_domain"`
	NameSimilarity float64   `db:"name_similarity"`
}

// Position is the pair's place in the newest-first list of pairs: its newer record's, then
// the two ids.
func (p DuplicatePair) Position() Cursor {
	return Cursor{CreatedAt: p.ACreatedAt, ID: p.AID + "|" + p.BID}
}

// SimilarNames is the trigram similarity (pg_trgm) from which two names count as similar.
const SimilarNames = 0.5

// duplicatePairs are the pair queries per kind: each pairs a record with every older one
// and says what they share.
var duplicatePairs = map[string]string{
	"contact": `SELECT a.id AS a_id, b.id AS b_id, a.created_at AS a_created_at,
			coalesce(lower(a.email) = lower(b.email), false) AS same_email,
			coalesce(length(regexp_replace(a.phone, '\D', '', 'g')) >= 7
				AND regexp_replace(a.phone, '\D', '', 'g') = regexp_replace(b.phone, '\D', '', 'g'), false) AS same_phone,
			false AS same_domain,
			CASE WHEN btrim(concat_ws(' ', a.first_name, a.last_name)) = '' OR btrim(concat_ws(' ', b.first_name, b.last_name)) = '' THEN 0
				ELSE similarity(lower(concat_ws(' ', a.first_name, a.last_name)), lower(concat_ws(' ', b.first_name, b.last_name))) END::float8 AS name_similarity
		FROM contacts a JOIN contacts b ON b.workspace_id = a.workspace_id AND b.mode = a.mode AND (b.created_at, b.id) < (a.created_at, a.id)
		WHERE a.workspace_id = $1 AND a.mode = $2`,
	"company": `SELECT a.id AS a_id, b.id AS b_id, a.created_at AS a_created_at,
			false AS same_email, false AS same_phone,
			coalesce(lower(a.domain) = lower(b.domain), false) AS same_domain,
			similarity(lower(a.name), lower(b.name))::float8 AS name_similarity
		FROM companies a JOIN companies b ON b.workspace_id = a.workspace_id AND b.mode = a.mode AND (b.created_at, b.id) < (a.created_at, a.id)
		WHERE a.workspace_id = $1 AND a.mode = $2`,
}

// FindDuplicates returns one page of the tenant's pairs of records of kind (contact or
// company) that share an email, phone digits or a domain, or have similar names
// (SimilarNames), newest first by their newer record.
func FindDuplicates(ctx context.Context, tx *Tx, kind string, limit int, after *Cursor) (Page[DuplicatePair], error) {
	limit = ClampLimit(limit)
	q := query{args: []any{tx.t.WorkspaceID, tx.t.Mode, SimilarNames}}
	where := ""
	if after != nil {
		where = " AND (a_created_at, a_id || '|' || b_id) < (" + q.arg(after.CreatedAt) + ", " + q.arg(after.ID) + ")"
	}
	rows, err := tx.tx.Query(ctx, `SELECT * FROM (`+duplicatePairs[kind]+`) p
		WHERE (same_email OR same_phone OR same_domain OR name_similarity >= $3)`+where+`
		ORDER BY a_created_at DESC, a_id || '|' || b_id DESC LIMIT `+q.arg(limit+1), q.args...)
	if err != nil {
		return Page[DuplicatePair]{}, wrap("find duplicates", err)
	}
	items, err := pgx.CollectRows(rows, pgx.RowToStructByName[DuplicatePair])
	if err != nil {
		return Page[DuplicatePair]{}, wrap("find duplicates", err)
	}
	return paginate(items, limit, DuplicatePair.Position), nil
}

// Repoint sets column to to wherever it names from, and returns the changed rows: a merge
// moves references to the record that stays.
func Repoint[R row](ctx context.Context, tx *Tx, tb *Table[R], column, from, to string) ([]R, error) {
	if err := tb.checkColumns("repoint", []string{column}); err != nil {
		return nil, err
	}
	rows, err := tx.tx.Query(ctx, `UPDATE `+tb.Name+` SET `+column+` = $4, updated_at = clock_timestamp()
		WHERE workspace_id = $1 AND mode = $2 AND `+column+` = $3 RETURNING `+tb.cols, tx.t.WorkspaceID, tx.t.Mode, from, to)
	if err != nil {
		return nil, wrap("repoint "+tb.Kind, err)
	}
	got, err := tb.scan(rows)
	return got, wrap("repoint "+tb.Kind, err)
}

// MoveAssociations moves the tenant's associations at either end of record from to record
// into. An edge that would link into to itself, or that into already has (same ends and
// label), is deleted instead; it returns the edges deleted and those moved (as they are now).
func MoveAssociations(ctx context.Context, tx *Tx, from, into string) (dropped, moved []Association, err error) {
	rows, err := tx.tx.Query(ctx, `DELETE FROM associations a
		WHERE a.workspace_id = $1 AND a.mode = $2 AND (a.from_id = $3 OR a.to_id = $3) AND (
			(a.from_id = $3 AND a.to_id = $4) OR (a.to_id = $3 AND a.from_id = $4) OR EXISTS (
				SELECT 1 FROM associations e WHERE e.workspace_id = $1 AND e.mode = $2
					AND e.from_id = CASE WHEN a.from_id = $3 THEN $4 ELSE a.from_id END
					AND e.to_id = CASE WHEN a.to_id = $3 THEN $4 ELSE a.to_id END
					AND e.label IS NOT DISTINCT FROM a.label))
		RETURNING `+Associations.cols, tx.t.WorkspaceID, tx.t.Mode, from, into)
	if err != nil {
		return nil, nil, wrap("move associations", err)
	}
	if dropped, err = Associations.scan(rows); err != nil {
		return nil, nil, wrap("move associations", err)
	}
	rows, err = tx.tx.Query(ctx, `UPDATE associations
		SET from_id = CASE WHEN from_id = $3 THEN $4 ELSE from_id END, to_id = CASE WHEN to_id = $3 THEN $4 ELSE to_id END
		WHERE workspace_id = $1 AND mode = $2 AND (from_id = $3 OR to_id = $3)
		RETURNING `+Associations.cols, tx.t.WorkspaceID, tx.t.Mode, from, into)
	if err != nil {
		return nil, nil, wrap("move associations", err)
	}
	moved, err = Associations.scan(rows)
	return dropped, moved, wrap("move associations", classify(err))
}

// SetAssociationEnds sets the ends of the tenant's association id, if it exists; false
// when it does not.
func SetAssociationEnds(ctx context.Context, tx *Tx, id, fromID, toID string) (bool, error) {
	tag, err := tx.tx.Exec(ctx, `UPDATE associations SET from_id = $4, to_id = $5
		WHERE workspace_id = $1 AND mode = $2 AND id = $3`, tx.t.WorkspaceID, tx.t.Mode, id, fromID, toID)
	if err != nil {
		return false, wrap("set association ends", classify(err))
	}
	return tag.RowsAffected() == 1, nil
}
