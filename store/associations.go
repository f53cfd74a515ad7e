package store

import (
	"cmp"
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/store/filter"
)

// Association is a directed, optionally labelled edge between two records of a tenant.
// Edges are never changed: only created and deleted.
type Association struct {
	ID        string    `db:"id"`
	Mode      auth.Mode `db:"mode"`
	FromType  string    `db:"from_type"`
	FromID    string    `db:"from_id"`
	ToType    string    `db:"to_type"`
	ToID      string    `db:"to_id"`
	Label     *string   `db:"label"`
	CreatedAt time.Time `db:"created_at"`
}

// Position is the edge's place in newest-first lists.
func (a Association) Position() Cursor { return Cursor{CreatedAt: a.CreatedAt, ID: a.ID} }

// AssociationTypes are the record kinds an association may link, with their id prefixes.
var AssociationTypes = map[string]string{"contact": "con_", "company": "cmp_", "deal": "deal_", "activity": "act_"}

// associationEnds maps each kind an association may link to its table.
var associationEnds = map[string]string{"contact": "contacts", "company": "companies", "deal": "deals", "activity": "activities"}

// associationTypeNames lists AssociationTypes in a fixed order, for filters and messages.
var associationTypeNames = RecordKinds

// Associations is the association table.
var Associations = newTable[Association]("associations", "association", "asc_", filter.Spec{Fields: []filter.Field{
	idField,
	{Name: "from_type", Column: "from_type", Kind: filter.Enum, Values: associationTypeNames},
	{Name: "from_id", Column: "from_id", Kind: filter.ID},
	{Name: "to_type", Column: "to_type", Kind: filter.Enum, Values: associationTypeNames},
	{Name: "to_id", Column: "to_id", Kind: filter.ID},
	{Name: "label", Column: "label", Kind: filter.Text},
	{Name: "created_at", Column: "created_at", Kind: filter.Timestamp},
}})

// NewAssociation is an edge to create.
type NewAssociation struct {
	ID               string // the id of an edge being restored; new when empty
	FromType, FromID string
	ToType, ToID     string
	Label            *string
}

// AssociationExistsError means the same edge (from, to and label) exists already.
type AssociationExistsError struct{ ExistingID string }

func (e *AssociationExistsError) Error() string {
	return "store: association exists: " + e.ExistingID
}

// CreateAssociation inserts an edge for the tenant. Each end must be a record of the
// tenant, or it is an *InvalidReferenceError naming from_id or to_id; both ends stay
// locked FOR KEY SHARE until the transaction ends, so neither can be deleted under the new
// edge (a concurrent deletion waits, then deletes the edge with its record). An edge
// with the same from, to and label is an *AssociationExistsError naming it.
func CreateAssociation(ctx context.Context, tx *Tx, a NewAssociation) (Association, error) {
	// Lock activities last, and two of a kind in id order: deleting a contact, company or
	// deal locks it before the activities it deletes, and those in id order (deleteWhere),
	// so taking locks in the same order cannot deadlock with it.
	ends := []struct{ field, typ, id string }{{"from_id", a.FromType, a.FromID}, {"to_id", a.ToType, a.ToID}}
	if (a.FromType == "activity") != (a.ToType == "activity") && a.FromType == "activity" ||
		(a.FromType == "activity") == (a.ToType == "activity") && a.ToID < a.FromID {
		ends[0], ends[1] = ends[1], ends[0]
	}
	missing := ""
	for _, end := range ends {
		found, err := lockEnd(ctx, tx, end.typ, end.id)
		if err != nil {
			return Association{}, err
		}
		if !found && (missing == "" || end.field == "from_id") {
			missing = end.field
		}
	}
	if missing != "" {
		return Association{}, &InvalidReferenceError{Field: missing}
	}
	rows, err := tx.tx.Query(ctx, `INSERT INTO associations (id, workspace_id, mode, from_type, from_id, to_type, to_id, label)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT ON CONSTRAINT associations_edge DO NOTHING
		RETURNING `+Associations.cols,
		cmp.Or(a.ID, NewID(Associations.Prefix)), tx.t.WorkspaceID, tx.t.Mode, a.FromType, a.FromID, a.ToType, a.ToID, a.Label)
	if err != nil {
		return Association{}, wrap("insert association", classify(err))
	}
	got, err := Associations.scan(rows)
	if err != nil {
		return Association{}, wrap("insert association", classify(err))
	}
	if len(got) == 1 {
		return got[0], nil
	}
	var existing string
	err = tx.tx.QueryRow(ctx, `SELECT id FROM associations
		WHERE workspace_id = $1 AND mode = $2 AND from_id = $3 AND to_id = $4 AND label IS NOT DISTINCT FROM $5`,
		tx.t.WorkspaceID, tx.t.Mode, a.FromID, a.ToID, a.Label).Scan(&existing)
	if err != nil {
		return Association{}, wrap("find association", err)
	}
	return Association{}, &AssociationExistsError{ExistingID: existing}
}

// lockEnd reports whether the tenant has a record of kind typ with id, locking it FOR KEY
// SHARE (as a foreign key check would) so it cannot be deleted before the transaction ends.
func lockEnd(ctx context.Context, tx *Tx, typ, id string) (bool, error) {
	table, ok := associationEnds[typ]
	if !ok {
		return false, nil
	}
	var one int
	err := tx.tx.QueryRow(ctx, `SELECT 1 FROM `+table+` WHERE workspace_id = $1 AND mode = $2 AND id = $3 FOR KEY SHARE`,
		tx.t.WorkspaceID, tx.t.Mode, id).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, wrap("check "+typ, err)
	}
	return true, nil
}

// DeleteAssociationsOf deletes the tenant's edges that have any of ids at either end and
// returns them, newest first. Run it after locking (or deleting) the records, so that no
// edge to them can be committed after it.
func DeleteAssociationsOf(ctx context.Context, tx *Tx, ids []string) ([]Association, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := tx.tx.Query(ctx, `WITH gone AS (
			DELETE FROM associations
			WHERE workspace_id = $1 AND mode = $2 AND (from_id = ANY($3) OR to_id = ANY($3))
			RETURNING `+Associations.cols+`)
		SELECT `+Associations.cols+` FROM gone ORDER BY created_at DESC, id DESC`, tx.t.WorkspaceID, tx.t.Mode, ids)
	if err != nil {
		return nil, wrap("delete associations", err)
	}
	got, err := Associations.scan(rows)
	return got, wrap("delete associations", err)
}

// recentAssociationsSQL selects the $4 newest edges of tenant ($1, $2) with $3 at either end.
var recentAssociationsSQL = `SELECT ` + Associations.cols + ` FROM associations
		WHERE workspace_id = $1 AND mode = $2 AND (from_id = $3 OR to_id = $3)
		ORDER BY created_at DESC, id DESC LIMIT $4`
