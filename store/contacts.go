package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
)

// ErrEmailTaken means another contact of the tenant already has the email.
var ErrEmailTaken = errors.New("store: email already taken")

// ContactIDByEmail finds the tenant's contact with email (case-insensitively).
func ContactIDByEmail(ctx context.Context, tx *Tx, email string) (string, error) {
	var id string
	err := tx.tx.QueryRow(ctx, `SELECT id FROM contacts WHERE workspace_id = $1 AND mode = $2 AND lower(email) = lower($3)`,
		tx.t.WorkspaceID, tx.t.Mode, email).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrNotFound
	}
	return id, wrap("find contact by email", err)
}
