package store

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/relmcrm/relm/auth"
)

// Admin is the owner's handle on the database, for what stands outside any one tenant:
// creating, re-planning and deleting workspaces and managing keys from the CLI. The owner
// bypasses row-level security, so the HTTP server never holds one; `relm` commands, first
// start, eval sandboxes and tests do.
type Admin struct {
	pool *pgxpool.Pool
}

// OpenAdmin connects to the database at url as its owner (the role that ran Migrate).
func OpenAdmin(ctx context.Context, url string) (*Admin, error) {
	cfg, err := pgxConfig(url)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = 2
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	return &Admin{pool: pool}, nil
}

// Close releases every connection.
func (a *Admin) Close() { a.pool.Close() }

// EnsureWorkspace returns the workspace called name, creating it when missing. created
// reports whether this call made it.
func (a *Admin) EnsureWorkspace(ctx context.Context, name string) (ws Workspace, created bool, err error) {
	err = a.pool.QueryRow(ctx, `
		INSERT INTO workspaces (id, name) VALUES ($1, $2)
		ON CONFLICT (name) DO NOTHING
		RETURNING id, name`, NewID("ws_"), name).Scan(&ws.ID, &ws.Name)
	if err == nil {
		return ws, true, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return ws, false, fmt.Errorf("store: create workspace: %w", err)
	}
	ws, err = a.WorkspaceByName(ctx, name)
	if err != nil {
		return ws, false, fmt.Errorf("store: find workspace: %w", err)
	}
	return ws, false, nil
}

// WorkspaceByName finds a workspace.
func (a *Admin) WorkspaceByName(ctx context.Context, name string) (Workspace, error) {
	var ws Workspace
	err := a.pool.QueryRow(ctx, `SELECT id, name FROM workspaces WHERE name = $1`, name).Scan(&ws.ID, &ws.Name)
	if errors.Is(err, pgx.ErrNoRows) {
		return ws, ErrNotFound
	}
	return ws, err
}

// WorkspaceNames lists every workspace's name but the sandboxes', in order, for messages that
// name them.
func (a *Admin) WorkspaceNames(ctx context.Context) ([]string, error) {
	rows, err := a.pool.Query(ctx, `SELECT name FROM workspaces WHERE parent_id IS NULL ORDER BY name`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// CountWorkspaces is used on first start to decide whether to bootstrap one.
func (a *Admin) CountWorkspaces(ctx context.Context) (int, error) {
	var n int
	err := a.pool.QueryRow(ctx, `SELECT count(*) FROM workspaces`).Scan(&n)
	return n, err
}

// SetWorkspacePlan moves the workspace called name to plan. Plan-gated features see it on
// their next request (they read the plan as they run); the monthly quota within a second,
// when running servers next reconcile their counts. A missing workspace is ErrNotFound.
func (a *Admin) SetWorkspacePlan(ctx context.Context, name, plan string) error {
	if !slices.Contains(Plans, plan) {
		return fmt.Errorf("%w %q (want one of %v)", ErrUnknownPlan, plan, Plans)
	}
	tag, err := a.pool.Exec(ctx, `UPDATE workspaces SET plan = $2 WHERE name = $1`, name, plan)
	if err != nil {
		return fmt.Errorf("store: set plan: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// DeleteWorkspace permanently removes a workspace with everything in it: every tenant table
// references workspaces ON DELETE CASCADE, so its keys, records, events, logs and counters
// go in the same statement. An unknown id is ErrNotFound. Eval runs use it to remove the
// throwaway workspaces they create.
func (a *Admin) DeleteWorkspace(ctx context.Context, id string) error {
	tag, err := a.pool.Exec(ctx, `DELETE FROM workspaces WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("store: delete workspace: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// CreateAPIKey makes a new key for workspaceID in mode and returns its secret, which is
// not stored and cannot be recovered.
func (a *Admin) CreateAPIKey(ctx context.Context, workspaceID string, mode auth.Mode) (id, secret string, err error) {
	return insertAPIKey(ctx, a.pool, workspaceID, mode, auth.Full)
}

// CreateScopedAPIKey is CreateAPIKey for a key limited to scopes.
func (a *Admin) CreateScopedAPIKey(ctx context.Context, workspaceID string, mode auth.Mode, scopes auth.Scopes) (id, secret string, err error) {
	return insertAPIKey(ctx, a.pool, workspaceID, mode, scopes)
}

// RevokeAPIKey stops a key from working, immediately.
func (a *Admin) RevokeAPIKey(ctx context.Context, id string) error {
	tag, err := a.pool.Exec(ctx, `UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL`, id)
	if err != nil {
		return fmt.Errorf("store: revoke api key: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// ListAPIKeys returns the keys of a workspace, newest first; mode "" means both modes.
func (a *Admin) ListAPIKeys(ctx context.Context, workspaceID string, mode auth.Mode) ([]APIKey, error) {
	return listAPIKeys(ctx, a.pool, workspaceID, mode)
}
