package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/relmcrm/relm/auth"
)

// OAuth for MCP connectors (migration 00019, docs/oauth.md). A grant is an API key of kind
// oauth; clients, codes and tokens are reached only through definer functions, and every
// secret (client secret, code, token) arrives here already hashed.

// OAuthClient is a registered client or a cached Client ID Metadata Document.
type OAuthClient struct {
	ID           string
	SecretHash   []byte // nil for a public client
	AuthMethod   string // none, client_secret_post or client_secret_basic
	Name         string
	RedirectURIs []string
	Metadata     json.RawMessage // as registered
	Document     bool            // a metadata document, ID its URL
	FetchedAt    *time.Time      // documents only
}

// RegisterOAuthClient stores a client; a metadata document's client is stored again when
// it is refetched.
func (s *Store) RegisterOAuthClient(ctx context.Context, c OAuthClient) error {
	meta := c.Metadata
	if meta == nil {
		meta = json.RawMessage(`{}`)
	}
	_, err := s.pool.Exec(ctx, `SELECT relm_oauth_register_client($1, $2, $3, $4, $5, $6, $7)`,
		c.ID, c.SecretHash, c.AuthMethod, c.Name, c.RedirectURIs, meta, c.Document)
	if err != nil {
		return fmt.Errorf("store: register oauth client: %w", outage(err))
	}
	return nil
}

// OAuthClientByID finds a client; ErrNotFound when there is none.
func (s *Store) OAuthClientByID(ctx context.Context, id string) (OAuthClient, error) {
	c := OAuthClient{ID: id}
	err := s.pool.QueryRow(ctx, `SELECT secret_hash, auth_method, name, redirect_uris, metadata_document, fetched_at FROM relm_oauth_client($1)`,
		id).Scan(&c.SecretHash, &c.AuthMethod, &c.Name, &c.RedirectURIs, &c.Document, &c.FetchedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, ErrNotFound
	}
	if err != nil {
		return c, fmt.Errorf("store: oauth client: %w", outage(err))
	}
	return c, nil
}

// OAuthCode is a user's consent waiting to be exchanged: CodeHash is the code's hash,
// Scopes what the grant may do (auth.Full for read-write), Challenge the PKCE S256 challenge.
type OAuthCode struct {
	CodeHash    []byte
	ClientID    string
	UserID      string
	WorkspaceID string
	Mode        auth.Mode
	Scopes      auth.Scopes
	Resource    string
	RedirectURI string
	Challenge   string
	TTL         time.Duration
}

// NewOAuthCode stores a code; ErrRefused when the user is not a member of the workspace.
func (s *Store) NewOAuthCode(ctx context.Context, c OAuthCode) error {
	return s.allowed(ctx, "new oauth code", `SELECT relm_oauth_new_code($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		c.CodeHash, c.ClientID, c.UserID, c.WorkspaceID, c.Mode, storedScopes(c.Scopes), c.Resource, c.RedirectURI, c.Challenge, c.TTL)
}

// storedScopes is scopes as api_keys stores them: NULL for full access.
func storedScopes(scopes auth.Scopes) *string {
	if scopes == auth.Full {
		return nil
	}
	c := string(scopes)
	return &c
}

// OAuthOutcome is what exchanging a code or refresh token found.
type OAuthOutcome string

// The outcomes of ExchangeOAuthCode and RefreshOAuth.
const (
	OAuthOK      OAuthOutcome = "ok"      // tokens issued
	OAuthInvalid OAuthOutcome = "invalid" // unknown, expired, another client's, or not matching
	OAuthReused  OAuthOutcome = "reused"  // used before: the grant is revoked
)

// OAuthTokens are the hashes of a new access and refresh token, with their lifetimes.
type OAuthTokens struct {
	Access, Refresh       []byte
	AccessTTL, RefreshTTL time.Duration
}

// OAuthExchange is a token request with an authorization code: the code's hash, the client
// and the redirect URI and resource it names, and the S256 of its code_verifier.
type OAuthExchange struct {
	CodeHash    []byte
	ClientID    string
	RedirectURI string
	Resource    string
	Challenge   string
}

// ExchangeOAuthCode turns a code into a grant (a new oauth key) and its first tokens, in
// one transaction; with OAuthOK it returns the grant's scopes.
func (s *Store) ExchangeOAuthCode(ctx context.Context, x OAuthExchange, t OAuthTokens) (OAuthOutcome, auth.Scopes, error) {
	var outcome string
	var scope *string
	err := s.pool.QueryRow(ctx, `SELECT outcome, scope FROM relm_oauth_exchange_code($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		x.CodeHash, x.ClientID, x.RedirectURI, x.Resource, x.Challenge, NewID("oag_"), auth.HashKey(auth.NewAccessToken()),
		t.Access, t.AccessTTL, t.Refresh, t.RefreshTTL).Scan(&outcome, &scope)
	if err != nil {
		return "", "", fmt.Errorf("store: exchange oauth code: %w", outage(err))
	}
	if outcome == string(OAuthReused) {
		s.keys.invalidate(s.keys.isListening()) // the grant was revoked
	}
	return OAuthOutcome(outcome), scopesOf(scope), nil
}

// RefreshOAuth rotates a refresh token (refresh is its hash) of client: with OAuthOK the
// new tokens t are issued, and it returns the grant's scopes. A token used again within
// grace also gets new tokens; used again later, it revokes the grant (OAuthReused).
func (s *Store) RefreshOAuth(ctx context.Context, refresh []byte, client string, t OAuthTokens, grace time.Duration) (OAuthOutcome, auth.Scopes, error) {
	var outcome string
	var scope *string
	err := s.pool.QueryRow(ctx, `SELECT outcome, scope FROM relm_oauth_refresh($1, $2, $3, $4, $5, $6, $7)`,
		refresh, client, t.Access, t.AccessTTL, t.Refresh, t.RefreshTTL, grace).Scan(&outcome, &scope)
	if err != nil {
		return "", "", fmt.Errorf("store: refresh oauth token: %w", outage(err))
	}
	if outcome == string(OAuthReused) {
		s.keys.invalidate(s.keys.isListening()) // the grant was revoked
	}
	return OAuthOutcome(outcome), scopesOf(scope), nil
}

func scopesOf(stored *string) auth.Scopes {
	if stored == nil {
		return auth.Full
	}
	return auth.Scopes(*stored)
}

// RevokeOAuthToken revokes the grant of a token (its hash) of client; unknown tokens and
// other clients' are ignored (RFC 7009).
func (s *Store) RevokeOAuthToken(ctx context.Context, token []byte, client string) error {
	if _, err := s.pool.Exec(ctx, `SELECT relm_oauth_revoke_token($1, $2)`, token, client); err != nil {
		return fmt.Errorf("store: revoke oauth token: %w", outage(err))
	}
	s.keys.invalidate(s.keys.isListening())
	return nil
}

// UserOAuthGrant is a grant a user made, as "Connected apps" lists it.
type UserOAuthGrant struct {
	WorkspaceID   string     `db:"workspace_id"`
	WorkspaceName string     `db:"workspace_name"`
	KeyID         string     `db:"key_id"`
	Mode          auth.Mode  `db:"mode"`
	ClientID      string     `db:"client_id"`
	ClientName    string     `db:"client_name"`
	Scopes        *string    `db:"scopes"` // nil: read-write
	CreatedAt     time.Time  `db:"created_at"`
	LastUsedAt    *time.Time `db:"last_used_at"`
}

// UserOAuthGrants lists the unrevoked grants user made, newest first.
func (s *Store) UserOAuthGrants(ctx context.Context, user string) ([]UserOAuthGrant, error) {
	rows, _ := s.pool.Query(ctx, `SELECT workspace_id, workspace_name, key_id, mode, client_id, client_name, scopes, created_at, last_used_at
		FROM relm_oauth_user_grants($1)`, user)
	gs, err := pgx.CollectRows(rows, pgx.RowToStructByName[UserOAuthGrant])
	if err != nil {
		return nil, fmt.Errorf("store: user oauth grants: %w", outage(err))
	}
	return gs, nil
}

// RevokeUserOAuthGrant revokes user's grant keyID in ws; ErrRefused when it is not theirs
// or was revoked already.
func (s *Store) RevokeUserOAuthGrant(ctx context.Context, user, ws, keyID string) error {
	err := s.allowed(ctx, "revoke oauth grant", `SELECT relm_oauth_revoke_user_grant($1, $2, $3)`, user, ws, keyID)
	s.keys.invalidate(s.keys.isListening())
	return err
}

// OAuthGrant is a grant of a tenant, as the oauth grant capabilities show it.
type OAuthGrant struct {
	ID         string     `db:"key_id"`
	Mode       auth.Mode  `db:"mode"`
	ClientID   string     `db:"client_id"`
	ClientName string     `db:"client_name"`
	UserID     string     `db:"user_id"`
	Resource   string     `db:"resource"`
	Scopes     *string    `db:"scopes"`
	CreatedAt  time.Time  `db:"created_at"`
	RevokedAt  *time.Time `db:"revoked_at"`
	LastUsedAt *time.Time `db:"last_used_at"`
}

const oauthGrantColumns = `g.key_id, g.mode, g.client_id, g.client_name, g.user_id, g.resource, k.scopes, g.created_at, k.revoked_at,
	(SELECT r.window_start FROM rate_windows r WHERE r.workspace_id = k.workspace_id AND r.key_id = k.id) AS last_used_at`

// ListTenantOAuthGrants returns the grants of the tenant t, revoked ones too, newest first.
func (s *Store) ListTenantOAuthGrants(ctx context.Context, t auth.Caller) (grants []OAuthGrant, err error) {
	err = s.InTx(ctx, t, func(tx *Tx) error {
		rows, _ := tx.tx.Query(ctx, `SELECT `+oauthGrantColumns+` FROM oauth_grants g
			JOIN api_keys k ON k.workspace_id = g.workspace_id AND k.id = g.key_id
			WHERE g.workspace_id = $1 AND g.mode = $2 ORDER BY g.created_at DESC, g.key_id DESC`, t.WorkspaceID, t.Mode)
		grants, err = collect[OAuthGrant](rows)
		if err != nil {
			return fmt.Errorf("store: list oauth grants: %w", err)
		}
		return nil
	})
	return grants, err
}

// RevokeTenantOAuthGrant revokes grant id of the tenant t at once; ErrNotFound when it has
// no such grant.
func (s *Store) RevokeTenantOAuthGrant(ctx context.Context, t auth.Caller, id string) (grant OAuthGrant, err error) {
	err = s.InTx(ctx, t, func(tx *Tx) error {
		_, err := tx.tx.Exec(ctx, `UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())
			WHERE id = $1 AND workspace_id = $2 AND mode = $3 AND kind = 'oauth'`, id, t.WorkspaceID, t.Mode)
		if err != nil {
			return fmt.Errorf("store: revoke oauth grant: %w", err)
		}
		rows, _ := tx.tx.Query(ctx, `SELECT `+oauthGrantColumns+` FROM oauth_grants g
			JOIN api_keys k ON k.workspace_id = g.workspace_id AND k.id = g.key_id
			WHERE g.workspace_id = $1 AND g.mode = $2 AND g.key_id = $3`, t.WorkspaceID, t.Mode, id)
		grants, err := collect[OAuthGrant](rows)
		if err != nil {
			return fmt.Errorf("store: revoke oauth grant: %w", err)
		}
		if len(grants) == 0 {
			return ErrNotFound
		}
		grant = grants[0]
		return nil
	})
	s.keys.invalidate(s.keys.isListening())
	return grant, err
}

// PurgeOAuth deletes OAuth codes and tokens a day after they expired; it returns how many
// tokens went.
func (s *Store) PurgeOAuth(ctx context.Context) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT relm_oauth_purge()`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: purge oauth: %w", err)
	}
	return n, nil
}
