package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/schemas"
)

// Contact is a person, as stored.
type Contact struct {
	ID        string
	Mode      auth.Mode
	Email     *string
	FirstName *string
	LastName  *string
	Phone     *string
	CompanyID *string
	Metadata  map[string]any
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ContactFields are the writable fields of a new contact.
type ContactFields struct {
	Email, FirstName, LastName, Phone, CompanyID *string
	Metadata                                     map[string]any
}

// ContactPatch changes only the fields that are Set; Null clears one. Metadata is merged
// key by key, and a key whose value is null is removed.
type ContactPatch struct {
	Email, FirstName, LastName, Phone, CompanyID schemas.Nullable[string]
	Metadata                                     schemas.Nullable[map[string]any]
}

// ContactFilter narrows a contact list. Email matches case-insensitively.
type ContactFilter struct {
	Email     *string
	CompanyID *string
}

// EmailTakenError is returned when another contact of the tenant already has the email.
type EmailTakenError struct{ ExistingID string }

func (e *EmailTakenError) Error() string { return "store: email already used by " + e.ExistingID }

const contactColumns = `id, mode, email, first_name, last_name, phone, company_id, metadata, created_at, updated_at`

func scanContact(row pgx.Row) (Contact, error) {
	var c Contact
	err := row.Scan(&c.ID, &c.Mode, &c.Email, &c.FirstName, &c.LastName, &c.Phone, &c.CompanyID,
		&c.Metadata, &c.CreatedAt, &c.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, ErrNotFound
	}
	return c, err
}

// CreateContact inserts a contact for the tenant.
func (s *Store) CreateContact(ctx context.Context, t auth.Caller, f ContactFields) (Contact, error) {
	if f.Metadata == nil {
		f.Metadata = map[string]any{}
	}
	c, err := scanContact(s.pool.QueryRow(ctx, `
		INSERT INTO contacts (id, workspace_id, mode, email, first_name, last_name, phone, company_id, metadata)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		RETURNING `+contactColumns,
		NewID("con_"), t.WorkspaceID, t.Mode, f.Email, f.FirstName, f.LastName, f.Phone, f.CompanyID, f.Metadata))
	if err != nil {
		return c, s.contactWriteError(ctx, t, f.Email, err)
	}
	return c, nil
}

// GetContact returns the tenant's contact id, or ErrNotFound.
func (s *Store) GetContact(ctx context.Context, t auth.Caller, id string) (Contact, error) {
	c, err := scanContact(s.pool.QueryRow(ctx, `
		SELECT `+contactColumns+` FROM contacts WHERE workspace_id = $1 AND mode = $2 AND id = $3`,
		t.WorkspaceID, t.Mode, id))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return c, fmt.Errorf("store: get contact: %w", err)
	}
	return c, err
}

// UpdateContact applies p to the tenant's contact id and returns the result.
func (s *Store) UpdateContact(ctx context.Context, t auth.Caller, id string, p ContactPatch) (Contact, error) {
	q := query{args: []any{t.WorkspaceID, t.Mode, id}}
	sets := []string{"updated_at = clock_timestamp()"}
	for _, f := range []struct {
		col string
		v   schemas.Nullable[string]
	}{{"email", p.Email}, {"first_name", p.FirstName}, {"last_name", p.LastName}, {"phone", p.Phone}, {"company_id", p.CompanyID}} {
		if f.v.Set {
			sets = append(sets, f.col+" = "+q.arg(f.v.Ptr()))
		}
	}
	if p.Metadata.Set {
		sets = append(sets, "metadata = "+mergeMetadata(&q, p.Metadata))
	}
	if len(sets) == 1 {
		return s.GetContact(ctx, t, id) // nothing to change
	}
	c, err := scanContact(s.pool.QueryRow(ctx, `
		UPDATE contacts SET `+strings.Join(sets, ", ")+`
		WHERE workspace_id = $1 AND mode = $2 AND id = $3
		RETURNING `+contactColumns, q.args...))
	if err != nil {
		return c, s.contactWriteError(ctx, t, p.Email.Ptr(), err)
	}
	return c, nil
}

// DeleteContact removes the tenant's contact id, or returns ErrNotFound.
func (s *Store) DeleteContact(ctx context.Context, t auth.Caller, id string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM contacts WHERE workspace_id = $1 AND mode = $2 AND id = $3`,
		t.WorkspaceID, t.Mode, id)
	if err != nil {
		return fmt.Errorf("store: delete contact: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// ListContacts returns one page of the tenant's contacts, newest first, after cursor.
func (s *Store) ListContacts(ctx context.Context, t auth.Caller, f ContactFilter, limit int, after *Cursor) (Page[Contact], error) {
	limit = ClampLimit(limit)
	q := query{args: []any{t.WorkspaceID, t.Mode}}
	where := []string{"workspace_id = $1", "mode = $2"}
	if f.Email != nil {
		where = append(where, "lower(email) = lower("+q.arg(*f.Email)+")")
	}
	if f.CompanyID != nil {
		where = append(where, "company_id = "+q.arg(*f.CompanyID))
	}
	if after != nil {
		where = append(where, "(created_at, id) < ("+q.arg(after.CreatedAt)+", "+q.arg(after.ID)+")")
	}
	rows, err := s.pool.Query(ctx, `
		SELECT `+contactColumns+` FROM contacts WHERE `+strings.Join(where, " AND ")+`
		ORDER BY created_at DESC, id DESC LIMIT `+q.arg(limit+1), q.args...)
	if err != nil {
		return Page[Contact]{}, fmt.Errorf("store: list contacts: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Contact, error) { return scanContact(r) })
	if err != nil {
		return Page[Contact]{}, fmt.Errorf("store: list contacts: %w", err)
	}
	return paginate("contact", items, limit, func(c Contact) Cursor { return Cursor{c.CreatedAt, c.ID} }), nil
}

// contactWriteError turns a failed contact write into ErrNotFound, EmailTakenError or a
// wrapped error.
func (s *Store) contactWriteError(ctx context.Context, t auth.Caller, email *string, err error) error {
	if errors.Is(err, ErrNotFound) {
		return err
	}
	if isUniqueViolation(err, "contacts_email") && email != nil {
		var id string
		if qerr := s.pool.QueryRow(ctx, `
			SELECT id FROM contacts WHERE workspace_id = $1 AND mode = $2 AND lower(email) = lower($3)`,
			t.WorkspaceID, t.Mode, *email).Scan(&id); qerr == nil {
			return &EmailTakenError{ExistingID: id}
		}
	}
	return fmt.Errorf("store: write contact: %w", err)
}
