package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/relmcrm/relm/auth"
)

// Workspace is a tenant: every record belongs to exactly one, in one mode.
type Workspace struct {
	ID   string
	Name string
}

// EnsureWorkspace returns the workspace called name, creating it when missing. created
// reports whether this call made it.
func (s *Store) EnsureWorkspace(ctx context.Context, name string) (ws Workspace, created bool, err error) {
	err = s.pool.QueryRow(ctx, `
		INSERT INTO workspaces (id, name) VALUES ($1, $2)
		ON CONFLICT (name) DO NOTHING
		RETURNING id, name`, NewID("ws_"), name).Scan(&ws.ID, &ws.Name)
	if err == nil {
		return ws, true, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return ws, false, fmt.Errorf("store: create workspace: %w", err)
	}
	err = s.pool.QueryRow(ctx, `SELECT id, name FROM workspaces WHERE name = $1`, name).Scan(&ws.ID, &ws.Name)
	if err != nil {
		return ws, false, fmt.Errorf("store: find workspace: %w", err)
	}
	return ws, false, nil
}

// CountWorkspaces is used on first start to decide whether to bootstrap one.
func (s *Store) CountWorkspaces(ctx context.Context) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM workspaces`).Scan(&n)
	return n, err
}

// CreateAPIKey makes a new key for workspaceID in mode and returns its secret, which is
// not stored and cannot be recovered.
func (s *Store) CreateAPIKey(ctx context.Context, workspaceID string, mode auth.Mode) (id, secret string, err error) {
	k := auth.GenerateKey(mode)
	id = NewID("key_")
	_, err = s.pool.Exec(ctx, `
		INSERT INTO api_keys (id, workspace_id, mode, secret_hash, prefix, last4)
		VALUES ($1, $2, $3, $4, $5, $6)`, id, workspaceID, mode, k.Hash, k.Prefix, k.Last4)
	if err != nil {
		return "", "", fmt.Errorf("store: create api key: %w", err)
	}
	return id, k.Secret, nil
}

// RevokeAPIKey stops a key from working, immediately.
func (s *Store) RevokeAPIKey(ctx context.Context, id string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL`, id)
	if err != nil {
		return fmt.Errorf("store: revoke api key: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// Authenticate finds the caller behind a key secret. Unknown and revoked keys are ErrNotFound.
func (s *Store) Authenticate(ctx context.Context, secret string) (auth.Caller, error) {
	var c auth.Caller
	err := s.pool.QueryRow(ctx, `
		SELECT id, workspace_id, mode FROM api_keys
		WHERE secret_hash = $1 AND revoked_at IS NULL`, auth.HashKey(secret)).Scan(&c.KeyID, &c.WorkspaceID, &c.Mode)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, ErrNotFound
	}
	if err != nil {
		return c, fmt.Errorf("store: authenticate: %w", err)
	}
	return c, nil
}

// APIKey describes a key without its secret.
type APIKey struct {
	ID        string     `db:"id"`
	Mode      auth.Mode  `db:"mode"`
	Prefix    string     `db:"prefix"`
	Last4     string     `db:"last4"`
	CreatedAt time.Time  `db:"created_at"`
	RevokedAt *time.Time `db:"revoked_at"`
}

// ListAPIKeys returns the keys of a workspace, newest first; mode "" means both modes.
func (s *Store) ListAPIKeys(ctx context.Context, workspaceID string, mode auth.Mode) ([]APIKey, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, mode, prefix, last4, created_at, revoked_at FROM api_keys
		WHERE workspace_id = $1 AND ($2 = '' OR mode::text = $2) ORDER BY created_at DESC, id DESC`, workspaceID, string(mode))
	if err != nil {
		return nil, fmt.Errorf("store: list api keys: %w", err)
	}
	keys, err := collect[APIKey](rows)
	if err != nil {
		return nil, fmt.Errorf("store: list api keys: %w", err)
	}
	return keys, nil
}

// RevokeTenantAPIKey revokes key id if it belongs to the tenant t; otherwise ErrNotFound.
func (s *Store) RevokeTenantAPIKey(ctx context.Context, t auth.Caller, id string) (APIKey, error) {
	rows, err := s.pool.Query(ctx, `UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())
		WHERE id = $1 AND workspace_id = $2 AND mode = $3
		RETURNING id, mode, prefix, last4, created_at, revoked_at`, id, t.WorkspaceID, t.Mode)
	if err != nil {
		return APIKey{}, fmt.Errorf("store: revoke api key: %w", err)
	}
	keys, err := collect[APIKey](rows)
	if err != nil {
		return APIKey{}, fmt.Errorf("store: revoke api key: %w", err)
	}
	if len(keys) == 0 {
		return APIKey{}, ErrNotFound
	}
	return keys[0], nil
}

// WorkspaceByName finds a workspace.
func (s *Store) WorkspaceByName(ctx context.Context, name string) (Workspace, error) {
	var ws Workspace
	err := s.pool.QueryRow(ctx, `SELECT id, name FROM workspaces WHERE name = $1`, name).Scan(&ws.ID, &ws.Name)
	if errors.Is(err, pgx.ErrNoRows) {
		return ws, ErrNotFound
	}
	return ws, err
}
