package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/relmcrm/relm/auth"
)

// CustomField is a custom field definition: a typed key of the metadata of one object type
// (contact, company, deal, activity) in one workspace and mode.
type CustomField struct {
	ID          string    `db:"id"`
	Mode        auth.Mode `db:"mode"`
	ObjectType  string    `db:"object_type"`
	Key         string    `db:"key"`
	Label       string    `db:"label"`
	Type        string    `db:"type"`
	Options     []string  `db:"options"` // select only; empty otherwise
	Description *string   `db:"description"`
	CreatedAt   time.Time `db:"created_at"`
	UpdatedAt   time.Time `db:"updated_at"`
}

// CustomFieldObjectTypes are the record kinds custom fields can type, in display order.
var CustomFieldObjectTypes = RecordKinds

// MaxCustomFields bounds the custom fields of one object type per workspace and mode.
const MaxCustomFields = 100

// NewCustomField is a definition to create.
type NewCustomField struct {
	ObjectType, Key, Label, Type string
	Options                      []string
	Description                  *string
}

// ErrCustomFieldKeyTaken means the object type already has a custom field with the key.
var ErrCustomFieldKeyTaken = errors.New("store: custom field key taken")

// ErrTooManyCustomFields means the object type already has MaxCustomFields custom fields.
var ErrTooManyCustomFields = errors.New("store: too many custom fields")

const customFieldCols = `id, mode, object_type, key, label, type, options, description, created_at, updated_at`

// CreateCustomField adds a definition for the tenant and bumps its schema version. It is
// ErrCustomFieldKeyTaken when the key is taken for the object type.
func CreateCustomField(ctx context.Context, tx *Tx, f NewCustomField) (CustomField, error) {
	if err := changeSchema(ctx, tx); err != nil {
		return CustomField{}, err
	}
	var n int
	if err := tx.tx.QueryRow(ctx, `SELECT count(*) FROM custom_fields WHERE workspace_id = $1 AND mode = $2 AND object_type = $3`,
		tx.t.WorkspaceID, tx.t.Mode, f.ObjectType).Scan(&n); err != nil {
		return CustomField{}, wrap("create custom field", err)
	}
	if n >= MaxCustomFields {
		return CustomField{}, ErrTooManyCustomFields
	}
	options := f.Options
	if options == nil {
		options = []string{}
	}
	rows, err := tx.tx.Query(ctx, `INSERT INTO custom_fields (id, workspace_id, mode, object_type, key, label, type, options, description)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT ON CONSTRAINT custom_fields_key DO NOTHING
		RETURNING `+customFieldCols, NewID("fld_"), tx.t.WorkspaceID, tx.t.Mode, f.ObjectType, f.Key, f.Label, f.Type, options, f.Description)
	if err != nil {
		return CustomField{}, wrap("create custom field", err)
	}
	got, err := collect[CustomField](rows)
	if err != nil {
		return CustomField{}, wrap("create custom field", err)
	}
	if len(got) == 0 {
		return CustomField{}, ErrCustomFieldKeyTaken
	}
	return got[0], nil
}

// CustomFieldByKey returns the tenant's definition of key for objectType, or ErrNotFound.
func CustomFieldByKey(ctx context.Context, tx *Tx, objectType, key string) (CustomField, error) {
	rows, err := tx.tx.Query(ctx, `SELECT `+customFieldCols+` FROM custom_fields
		WHERE workspace_id = $1 AND mode = $2 AND object_type = $3 AND key = $4`, tx.t.WorkspaceID, tx.t.Mode, objectType, key)
	return oneCustomField(rows, err, "get custom field")
}

// DeleteCustomField removes the tenant's definition id, returning what it was, and bumps
// the schema version. Records keep their metadata values, which become free-form.
func DeleteCustomField(ctx context.Context, tx *Tx, id string) (CustomField, error) {
	if err := changeSchema(ctx, tx); err != nil {
		return CustomField{}, err
	}
	rows, err := tx.tx.Query(ctx, `DELETE FROM custom_fields WHERE workspace_id = $1 AND mode = $2 AND id = $3
		RETURNING `+customFieldCols, tx.t.WorkspaceID, tx.t.Mode, id)
	return oneCustomField(rows, err, "delete custom field")
}

func oneCustomField(rows pgx.Rows, err error, op string) (CustomField, error) {
	if err != nil {
		return CustomField{}, wrap(op, err)
	}
	got, err := collect[CustomField](rows)
	switch {
	case err != nil:
		return CustomField{}, wrap(op, err)
	case len(got) == 0:
		return CustomField{}, ErrNotFound
	}
	return got[0], nil
}

// ListCustomFields returns the tenant's definitions for objectType ("" for every type),
// by object type, then oldest first.
func ListCustomFields(ctx context.Context, tx *Tx, objectType string) ([]CustomField, error) {
	rows, err := tx.tx.Query(ctx, `SELECT `+customFieldCols+` FROM custom_fields
		WHERE workspace_id = $1 AND mode = $2 AND ($3::text = '' OR object_type = $3::text)
		ORDER BY array_position($4::text[], object_type), created_at, id`,
		tx.t.WorkspaceID, tx.t.Mode, objectType, CustomFieldObjectTypes)
	if err != nil {
		return nil, wrap("list custom fields", err)
	}
	got, err := collect[CustomField](rows)
	return got, wrap("list custom fields", err)
}

// schemaLockClass namespaces the advisory locks guarding each tenant's custom field
// definitions (the two-key form, apart from the one-key locks migrations take).
const schemaLockClass = 0x52656c6d // "Relm"

// schemaLockKey is the SQL of the second advisory lock key of the tenant ($1, $2).
const schemaLockKey = `hashtext($1::text || '/' || $2::text)`

// changeSchema takes the tenant's schema lock exclusively, waiting for every transaction
// that validated metadata against the current definitions to end, and bumps the version.
func changeSchema(ctx context.Context, tx *Tx) error {
	if _, err := tx.tx.Exec(ctx, `SELECT pg_advisory_xact_lock($3, `+schemaLockKey+`)`,
		tx.t.WorkspaceID, tx.t.Mode, schemaLockClass); err != nil {
		return wrap("lock custom fields", err)
	}
	_, err := tx.tx.Exec(ctx, `INSERT INTO custom_field_versions (workspace_id, mode, version) VALUES ($1, $2, 1)
		ON CONFLICT (workspace_id, mode) DO UPDATE SET version = custom_field_versions.version + 1`, tx.t.WorkspaceID, tx.t.Mode)
	return wrap("bump custom field version", err)
}

// schemaVersion returns the tenant's custom field version. With lock, it first takes the
// tenant's schema lock shared until the transaction ends, so no definition can change
// before the transaction's writes commit; both statements go in one round trip, each with
// its own snapshot, so the version read is the one current once the lock is held.
func schemaVersion(ctx context.Context, tx *Tx, lock bool) (int64, error) {
	const read = `SELECT coalesce((SELECT version FROM custom_field_versions WHERE workspace_id = $1 AND mode = $2), 0)`
	var version int64
	if !lock {
		err := tx.tx.QueryRow(ctx, read, tx.t.WorkspaceID, tx.t.Mode).Scan(&version)
		return version, wrap("read custom field version", err)
	}
	b := &pgx.Batch{}
	b.Queue(`SELECT pg_advisory_xact_lock_shared($3, `+schemaLockKey+`)`, tx.t.WorkspaceID, tx.t.Mode, schemaLockClass)
	b.Queue(read, tx.t.WorkspaceID, tx.t.Mode).QueryRow(func(row pgx.Row) error { return row.Scan(&version) })
	err := tx.tx.SendBatch(ctx, b).Close()
	return version, wrap("lock custom fields", err)
}

// loadCustomFields reads the tenant's version and every definition in one statement, so
// they belong together even when a definition changes concurrently.
func loadCustomFields(ctx context.Context, tx *Tx) (int64, []CustomField, error) {
	rows, err := tx.tx.Query(ctx, `
		WITH v AS (SELECT coalesce((SELECT version FROM custom_field_versions WHERE workspace_id = $1 AND mode = $2), 0) AS version)
		SELECT v.version, f.id, f.mode, f.object_type, f.key, f.label, f.type, f.options, f.description, f.created_at, f.updated_at
		FROM v LEFT JOIN custom_fields f ON f.workspace_id = $1 AND f.mode = $2
		ORDER BY f.created_at, f.id`, tx.t.WorkspaceID, tx.t.Mode)
	if err != nil {
		return 0, nil, wrap("load custom fields", err)
	}
	type row struct {
		Version     int64      `db:"version"`
		ID          *string    `db:"id"`
		Mode        *string    `db:"mode"`
		ObjectType  *string    `db:"object_type"`
		Key         *string    `db:"key"`
		Label       *string    `db:"label"`
		Type        *string    `db:"type"`
		Options     []string   `db:"options"`
		Description *string    `db:"description"`
		CreatedAt   *time.Time `db:"created_at"`
		UpdatedAt   *time.Time `db:"updated_at"`
	}
	got, err := collect[row](rows)
	if err != nil || len(got) == 0 {
		return 0, nil, wrap("load custom fields", err)
	}
	var fields []CustomField
	for _, r := range got {
		if r.ID == nil {
			continue
		}
		fields = append(fields, CustomField{ID: *r.ID, Mode: modeOf(*r.Mode), ObjectType: *r.ObjectType, Key: *r.Key,
			Label: *r.Label, Type: *r.Type, Options: r.Options, Description: r.Description,
			CreatedAt: *r.CreatedAt, UpdatedAt: *r.UpdatedAt})
	}
	return got[0].Version, fields, nil
}

// preferCustomPlans makes the rest of the transaction plan each statement for its bound
// values. Lists filtered on metadata need it: a prepared statement's generic plan cannot
// see the value (so never picks the GIN index on metadata for a rare one) nor the key (so
// never an expression index on it), and PostgreSQL switches to it after five executions.
func preferCustomPlans(ctx context.Context, tx *Tx) error {
	if r, ok := tx.tx.(*readTx); ok { // each statement of a Read is its own transaction: set it on each
		r.customPlans = true
		return nil
	}
	_, err := tx.tx.Exec(ctx, `SET LOCAL plan_cache_mode = force_custom_plan`)
	return wrap("prefer custom plans", err)
}
