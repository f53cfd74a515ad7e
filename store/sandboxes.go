package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/relmcrm/relm/auth"
)

// Sandboxes are test-mode workspaces made by another workspace's key (migration 00015).
const (
	SandboxPrefix     = "sbx_"             // a sandbox's workspace id
	MaxSandboxes      = 50                 // unexpired sandboxes per workspace, both modes together
	DefaultSandboxTTL = 24 * time.Hour     // how long a sandbox lives unless told otherwise
	MaxSandboxTTL     = 7 * 24 * time.Hour // the longest it may live
)

// Sandbox is a sandbox as its parent sees it.
type Sandbox struct {
	ID        string    `db:"id"`
	Name      *string   `db:"sandbox_name"`
	Plan      string    `db:"plan"`
	CreatedAt time.Time `db:"created_at"`
	ExpiresAt time.Time `db:"expires_at"`
}

// NewSandbox is what to make: an optional name, a plan (one of Plans; "" for the parent's)
// and a lifetime.
type NewSandbox struct {
	Name *string
	Plan string
	TTL  time.Duration
}

// PlanAboveParentError means a sandbox was asked for on a plan above its parent's.
type PlanAboveParentError struct{ Parent string }

func (e *PlanAboveParentError) Error() string {
	return "store: a sandbox's plan cannot be above its parent's (" + e.Parent + ")"
}

// ErrSandboxNesting means a sandbox's key tried to make a sandbox.
var ErrSandboxNesting = errors.New("store: a sandbox cannot create sandboxes")

// ErrTooManySandboxes means the workspace already holds MaxSandboxes unexpired sandboxes.
var ErrTooManySandboxes = errors.New("store: too many sandboxes")

const sandboxColumns = `id, sandbox_name, plan, created_at, expires_at`

// CreateSandbox makes a sandbox of the tenant t, with t's schema (pipelines and stages with
// their keys, custom fields with new ids) and one test key, whose id and secret it returns;
// the secret is not stored.
func (s *Store) CreateSandbox(ctx context.Context, t auth.Caller, in NewSandbox) (sb Sandbox, keyID, secret string, err error) {
	k := auth.GenerateKey(auth.Test)
	keyID = NewID("key_")
	err = s.InTx(ctx, t, func(tx *Tx) error {
		parent, err := tx.WorkspacePlan(ctx)
		if err != nil {
			return err
		}
		if in.Plan == "" {
			in.Plan = parent
		}
		if slices.Index(Plans, in.Plan) > slices.Index(Plans, parent) {
			return &PlanAboveParentError{Parent: parent}
		}
		// The parent's custom fields get new ids in the sandbox, like every record made there.
		// Locking the fields' version row, which every change of a field bumps, holds their
		// number still until the copy is made.
		var fields int
		if err := tx.tx.QueryRow(ctx, `SELECT count(*) FROM custom_fields, (SELECT 1 FROM custom_field_versions
			WHERE workspace_id = $1 AND mode = $2 FOR SHARE) AS v WHERE workspace_id = $1 AND mode = $2`,
			t.WorkspaceID, t.Mode).Scan(&fields); err != nil {
			return err
		}
		fieldIDs := make([]string, fields)
		for i := range fieldIDs {
			fieldIDs[i] = NewID("fld_")
		}
		rows, err := tx.tx.Query(ctx, `SELECT `+sandboxColumns+` FROM relm_create_sandbox($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			NewID(SandboxPrefix), in.Name, in.Plan, in.TTL, keyID, k.Hash, k.Prefix, k.Last4, MaxSandboxes, fieldIDs)
		if err != nil {
			return err
		}
		sb, err = pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Sandbox])
		return err
	})
	var pgErr *pgconn.PgError
	var above *PlanAboveParentError
	switch {
	case errors.As(err, &above):
		return sb, "", "", above
	case errors.As(err, &pgErr) && pgErr.Code == "RX001":
		return sb, "", "", ErrSandboxNesting
	case errors.As(err, &pgErr) && pgErr.Code == "RX002":
		return sb, "", "", ErrTooManySandboxes
	case err != nil:
		return sb, "", "", fmt.Errorf("store: create sandbox: %w", err)
	}
	return sb, keyID, k.Secret, nil
}

// ListSandboxes returns the unexpired sandboxes the tenant t made, newest first.
func (s *Store) ListSandboxes(ctx context.Context, t auth.Caller) (sbs []Sandbox, err error) {
	err = s.InTx(ctx, t, func(tx *Tx) error {
		rows, err := tx.tx.Query(ctx, `SELECT `+sandboxColumns+` FROM workspaces
			WHERE parent_id = $1 AND parent_mode = $2 AND expires_at > clock_timestamp()
			ORDER BY created_at DESC, id DESC`, t.WorkspaceID, t.Mode)
		if err != nil {
			return err
		}
		sbs, err = collect[Sandbox](rows)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: list sandboxes: %w", err)
	}
	return sbs, nil
}

// GetSandbox returns one unexpired sandbox the tenant t made; otherwise ErrNotFound.
func (s *Store) GetSandbox(ctx context.Context, t auth.Caller, id string) (sb Sandbox, err error) {
	return s.oneSandbox(ctx, t, "get", `SELECT `+sandboxColumns+` FROM workspaces
		WHERE id = $1 AND parent_id = $2 AND parent_mode = $3 AND expires_at > clock_timestamp()`, id, t.WorkspaceID, t.Mode)
}

// DeleteSandbox deletes one unexpired sandbox the tenant t made, with everything in it, and
// returns it; otherwise ErrNotFound.
func (s *Store) DeleteSandbox(ctx context.Context, t auth.Caller, id string) (Sandbox, error) {
	sb, err := s.oneSandbox(ctx, t, "delete", `SELECT `+sandboxColumns+` FROM relm_delete_sandbox($1)`, id)
	if err == nil {
		s.keys.invalidate(s.keys.isListening()) // its keys, at once here; other processes on the notification
	}
	return sb, err
}

// oneSandbox runs a statement of the tenant t returning at most one sandbox.
func (s *Store) oneSandbox(ctx context.Context, t auth.Caller, op, sql string, args ...any) (sb Sandbox, err error) {
	err = s.InTx(ctx, t, func(tx *Tx) error {
		rows, err := tx.tx.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		sbs, err := collect[Sandbox](rows)
		if err == nil && len(sbs) == 0 {
			return ErrNotFound
		}
		if err == nil {
			sb = sbs[0]
		}
		return err
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		err = fmt.Errorf("store: %s sandbox: %w", op, err)
	}
	return sb, err
}

// PurgeSandboxes deletes every expired sandbox, of every tenant, with its data.
func (s *Store) PurgeSandboxes(ctx context.Context) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT relm_purge_sandboxes()`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: purge sandboxes: %w", err)
	}
	return n, nil
}
