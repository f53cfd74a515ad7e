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

// ContactWithRecent returns the tenant's contact id with its n most recent activities and
// n newest associations, the three queries sent together in one round trip (one snapshot),
// or ErrNotFound.
func ContactWithRecent(ctx context.Context, tx *Tx, id string, n int) (Contact, []Activity, []Association, error) {
	b := &pgx.Batch{}
	b.Queue(`SELECT `+Contacts.cols+` FROM contacts WHERE workspace_id = $1 AND mode = $2 AND id = $3`,
		tx.t.WorkspaceID, tx.t.Mode, id)
	b.Queue(recentContactActivitiesSQL, tx.t.WorkspaceID, tx.t.Mode, id, n)
	b.Queue(recentAssociationsSQL, tx.t.WorkspaceID, tx.t.Mode, id, n)
	br := tx.tx.SendBatch(ctx, b)
	defer br.Close()
	var (
		contacts []Contact
		acts     []Activity
		edges    []Association
	)
	rows, err := br.Query()
	if err == nil {
		contacts, err = Contacts.scan(rows)
	}
	if err == nil {
		if rows, err = br.Query(); err == nil {
			acts, err = Activities.scan(rows)
		}
	}
	if err == nil {
		if rows, err = br.Query(); err == nil {
			edges, err = Associations.scan(rows)
		}
	}
	if err == nil {
		err = br.Close()
	}
	if err != nil {
		return Contact{}, nil, nil, wrap("get contact", err)
	}
	if len(contacts) == 0 {
		return Contact{}, nil, nil, ErrNotFound
	}
	return contacts[0], acts, edges, nil
}
