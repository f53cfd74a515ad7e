package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/relmcrm/relm/auth"
)

// Workspace is a tenant: every record belongs to exactly one, in one mode.
type Workspace struct {
	ID   string
	Name string
}

// querier is what both a pool and a transaction offer.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// insertAPIKey makes a key for workspaceID in mode with scopes and returns its id and secret.
func insertAPIKey(ctx context.Context, q querier, workspaceID string, mode auth.Mode, scopes auth.Scopes) (id, secret string, err error) {
	k := auth.GenerateKey(mode)
	id = NewID("key_")
	var stored *string
	if scopes != auth.Full {
		c := string(scopes.Canonical())
		stored = &c
	}
	_, err = q.Exec(ctx, `
		INSERT INTO api_keys (id, workspace_id, mode, secret_hash, prefix, last4, scopes)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, id, workspaceID, mode, k.Hash, k.Prefix, k.Last4, stored)
	if err != nil {
		return "", "", fmt.Errorf("store: create api key: %w", err)
	}
	return id, k.Secret, nil
}

// ErrTooManyKeys means the tenant already holds as many unrevoked API keys as it may.
var ErrTooManyKeys = errors.New("store: too many active api keys")

// CreateTenantAPIKey makes a new key with scopes for the tenant t and returns its secret,
// which is not stored and cannot be recovered; ErrTooManyKeys when t already holds
// maxActive unrevoked keys. Concurrent creations for one tenant take turns, so the cap
// holds exactly.
func (s *Store) CreateTenantAPIKey(ctx context.Context, t auth.Caller, maxActive int, scopes auth.Scopes) (id, secret string, err error) {
	err = s.InTx(ctx, t, func(tx *Tx) error {
		// The count must come after the lock, in a statement of its own, to see the keys
		// created by whoever held it.
		_, err := tx.tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('relm.api_keys/' || $1::text || '/' || $2::text, 0))`,
			t.WorkspaceID, string(t.Mode))
		var active int
		if err == nil {
			err = tx.tx.QueryRow(ctx, `SELECT count(*) FROM api_keys WHERE workspace_id = $1 AND mode = $2 AND revoked_at IS NULL AND kind = 'secret'`,
				t.WorkspaceID, t.Mode).Scan(&active)
		}
		if err != nil {
			return fmt.Errorf("store: count api keys: %w", err)
		}
		if active >= maxActive {
			return ErrTooManyKeys
		}
		id, secret, err = insertAPIKey(ctx, tx.tx, t.WorkspaceID, t.Mode, scopes)
		return err
	})
	return id, secret, err
}

// CachedKey returns the caller of a key secret authenticated lately, without asking the
// database; ok is false when it has to be looked up (Authenticate).
func (s *Store) CachedKey(secret string) (c auth.Caller, ok bool) {
	c, ok, _ = s.keys.get([32]byte(auth.HashKey(secret)), time.Now())
	if ok {
		s.keys.count(true)
	}
	return c, ok
}

// Authenticate finds the caller behind a key secret or OAuth access token. Unknown and
// revoked keys (and expired tokens) are ErrNotFound; a database outage is ErrUnavailable.
// No tenant is known yet, so it goes through a definer function (relm_authenticate,
// relm_oauth_authenticate), which can only look a key or token up by its hash.
func (s *Store) Authenticate(ctx context.Context, secret string) (auth.Caller, error) {
	hash := [32]byte(auth.HashKey(secret))
	now := time.Now()
	c, ok, gen := s.keys.get(hash, now)
	s.keys.count(ok)
	if ok {
		return c, nil
	}
	var parent, scopes *string
	var expires *time.Time
	fn := "relm_authenticate" // an API key
	if auth.IsAccessToken(secret) {
		fn = "relm_oauth_authenticate" // an OAuth access token: cached until it expires
	}
	err := s.pool.QueryRow(ctx, `SELECT key_id, key_workspace_id, key_mode, key_parent_id, key_expires_at, key_scopes FROM `+fn+`($1)`,
		hash[:]).Scan(&c.KeyID, &c.WorkspaceID, &c.Mode, &parent, &expires, &scopes)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, ErrNotFound
	}
	if err != nil {
		return c, fmt.Errorf("store: authenticate: %w", outage(err))
	}
	var until time.Time
	if parent != nil {
		c.Parent = *parent
	}
	if scopes != nil {
		c.Scopes = auth.Scopes(*scopes)
	}
	if expires != nil {
		until = *expires
	}
	s.keys.put(hash, c, gen, now, until)
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
	Scopes    *string    `db:"scopes"` // nil: full access
	// LastUsedAt is the start of the last rate-limit window in which the key made a request.
	LastUsedAt *time.Time `db:"last_used_at"`
}

// apiKeyColumns are an api_keys row as an APIKey, with when the key was last used.
const apiKeyColumns = `id, mode, prefix, last4, created_at, revoked_at, scopes,
	(SELECT r.window_start FROM rate_windows r WHERE r.workspace_id = api_keys.workspace_id AND r.key_id = api_keys.id) AS last_used_at`

// listAPIKeys returns the secret keys of a workspace (not OAuth grants' keys), newest
// first; mode "" means both modes.
func listAPIKeys(ctx context.Context, q querier, workspaceID string, mode auth.Mode) ([]APIKey, error) {
	rows, err := q.Query(ctx, `SELECT `+apiKeyColumns+` FROM api_keys
		WHERE workspace_id = $1 AND ($2 = '' OR mode::text = $2) AND kind = 'secret' ORDER BY created_at DESC, id DESC`, workspaceID, string(mode))
	if err != nil {
		return nil, fmt.Errorf("store: list api keys: %w", err)
	}
	keys, err := collect[APIKey](rows)
	if err != nil {
		return nil, fmt.Errorf("store: list api keys: %w", err)
	}
	return keys, nil
}

// ListTenantAPIKeys returns the keys of the tenant t, newest first.
func (s *Store) ListTenantAPIKeys(ctx context.Context, t auth.Caller) (keys []APIKey, err error) {
	err = s.InTx(ctx, t, func(tx *Tx) error {
		keys, err = listAPIKeys(ctx, tx.tx, t.WorkspaceID, t.Mode)
		return err
	})
	return keys, err
}

// RevokeTenantAPIKey revokes key id if it belongs to the tenant t; otherwise ErrNotFound.
func (s *Store) RevokeTenantAPIKey(ctx context.Context, t auth.Caller, id string) (key APIKey, err error) {
	err = s.InTx(ctx, t, func(tx *Tx) error {
		rows, err := tx.tx.Query(ctx, `UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())
			WHERE id = $1 AND workspace_id = $2 AND mode = $3 AND kind = 'secret'
			RETURNING `+apiKeyColumns, id, t.WorkspaceID, t.Mode)
		if err != nil {
			return fmt.Errorf("store: revoke api key: %w", err)
		}
		keys, err := collect[APIKey](rows)
		if err != nil {
			return fmt.Errorf("store: revoke api key: %w", err)
		}
		if len(keys) == 0 {
			return ErrNotFound
		}
		key = keys[0]
		return nil
	})
	s.keys.invalidate(s.keys.isListening()) // at once here; other processes on the notification
	return key, err
}
