package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/store/pgtest"
)

// oauthFixture is a store with a user owning a workspace and a registered public client.
type oauthFixture struct {
	s            *store.Store
	owner        *pgx.Conn
	user, ws     string
	client       string
	redirect     string
	resource     string
	codeSequence int
}

func newOAuthFixture(t *testing.T) *oauthFixture {
	t.Helper()
	ctx := context.Background()
	s, _, url := pgtest.Open(t)
	owner, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { owner.Close(context.Background()) })
	user, err := s.UserForGoogle(ctx, "sub-1", "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	ws, err := s.CreateUserWorkspace(ctx, user, "Ann's")
	if err != nil {
		t.Fatal(err)
	}
	f := &oauthFixture{s: s, owner: owner, user: user, ws: ws, client: "rc_test", redirect: "https://claude.ai/api/mcp/auth_callback",
		resource: "https://crm.example.com/mcp"}
	err = s.RegisterOAuthClient(ctx, store.OAuthClient{ID: f.client, AuthMethod: "none", Name: "Claude", RedirectURIs: []string{f.redirect}})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// grant consents with scopes and exchanges the code, returning the access and refresh tokens.
func (f *oauthFixture) grant(t *testing.T, scopes auth.Scopes) (code []byte, access, refresh string) {
	t.Helper()
	ctx := context.Background()
	f.codeSequence++
	code = auth.HashKey(auth.NewAccessToken())
	err := f.s.NewOAuthCode(ctx, store.OAuthCode{CodeHash: code, ClientID: f.client, UserID: f.user, WorkspaceID: f.ws,
		Mode: auth.Live, Scopes: scopes, Resource: f.resource, RedirectURI: f.redirect, Challenge: "challenge", TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	access, refresh = auth.NewAccessToken(), auth.NewRefreshToken()
	outcome, got, err := f.s.ExchangeOAuthCode(ctx, f.exchange(code), f.tokens(access, refresh))
	if err != nil || outcome != store.OAuthOK || got != scopes {
		t.Fatalf("exchange: %s %q %v", outcome, got, err)
	}
	return code, access, refresh
}

func (f *oauthFixture) exchange(code []byte) store.OAuthExchange {
	return store.OAuthExchange{CodeHash: code, ClientID: f.client, RedirectURI: f.redirect, Resource: f.resource, Challenge: "challenge"}
}

func (f *oauthFixture) tokens(access, refresh string) store.OAuthTokens {
	return store.OAuthTokens{Access: auth.HashKey(access), Refresh: auth.HashKey(refresh), AccessTTL: time.Hour, RefreshTTL: 24 * time.Hour}
}

// TestOAuthGrantLifecycle: a code becomes a grant whose access token authenticates as an
// oauth key of the workspace and mode with the grant's scopes; it is not an API key (not
// listed, not counted); a reused code revokes its grant; the refresh token rotates, with a
// grace window, and reused later revokes the grant; removing the member revokes theirs.
func TestOAuthGrantLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newOAuthFixture(t)
	s := f.s

	code, access, refresh := f.grant(t, "read")
	c, err := s.Authenticate(ctx, access)
	if err != nil || c.WorkspaceID != f.ws || c.Mode != auth.Live || c.Scopes != "read" || c.KeyID[:4] != "oag_" {
		t.Fatalf("access token authenticates as %+v (%v)", c, err)
	}
	// The grant's key is no API key: its hash answers to no secret, and it is not listed.
	keys, err := s.ListTenantAPIKeys(ctx, c)
	if err != nil || len(keys) != 0 {
		t.Fatalf("API keys listed with an oauth grant: %v %v", keys, err)
	}
	grants, err := s.ListTenantOAuthGrants(ctx, c)
	if err != nil || len(grants) != 1 || grants[0].ID != c.KeyID || grants[0].ClientName != "Claude" {
		t.Fatalf("grants: %+v %v", grants, err)
	}
	// A refresh token is no bearer credential.
	if _, err := s.Authenticate(ctx, refresh); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("refresh token authenticates: %v", err)
	}

	// Mismatches: wrong challenge, redirect URI, resource, client. Each burns nothing
	// (the code is invalid for another client) or the code itself.
	for name, x := range map[string]store.OAuthExchange{
		"another client": {CodeHash: code, ClientID: "rc_other", RedirectURI: f.redirect, Resource: f.resource, Challenge: "challenge"},
		"unknown code":   {CodeHash: []byte("nope"), ClientID: f.client, RedirectURI: f.redirect, Resource: f.resource, Challenge: "challenge"},
	} {
		if outcome, _, err := s.ExchangeOAuthCode(ctx, x, f.tokens(auth.NewAccessToken(), auth.NewRefreshToken())); err != nil || outcome != store.OAuthInvalid {
			t.Errorf("%s: %s %v", name, outcome, err)
		}
	}

	// Rotation: a new pair; the old refresh token within the grace window gets another.
	a2, r2 := auth.NewAccessToken(), auth.NewRefreshToken()
	if outcome, scopes, err := s.RefreshOAuth(ctx, auth.HashKey(refresh), f.client, f.tokens(a2, r2), time.Minute); err != nil || outcome != store.OAuthOK || scopes != "read" {
		t.Fatalf("refresh: %s %q %v", outcome, scopes, err)
	}
	if outcome, _, err := s.RefreshOAuth(ctx, auth.HashKey(refresh), f.client, f.tokens(auth.NewAccessToken(), auth.NewRefreshToken()), time.Minute); err != nil || outcome != store.OAuthOK {
		t.Fatalf("concurrent refresh within the grace window: %s %v", outcome, err)
	}
	if outcome, _, err := s.RefreshOAuth(ctx, auth.HashKey(r2), "rc_other", f.tokens(auth.NewAccessToken(), auth.NewRefreshToken()), time.Minute); err != nil || outcome != store.OAuthInvalid {
		t.Fatalf("another client's refresh: %s %v", outcome, err)
	}
	if _, err := s.Authenticate(ctx, a2); err != nil {
		t.Fatalf("rotated access token: %v", err)
	}
	// Reused after the grace window: the grant is revoked, and every token with it.
	if _, err := f.owner.Exec(ctx, `UPDATE oauth_tokens SET used_at = now() - interval '1 hour' WHERE token_hash = $1`, auth.HashKey(refresh)); err != nil {
		t.Fatal(err)
	}
	if outcome, _, err := s.RefreshOAuth(ctx, auth.HashKey(refresh), f.client, f.tokens(auth.NewAccessToken(), auth.NewRefreshToken()), time.Minute); err != nil || outcome != store.OAuthReused {
		t.Fatalf("reused refresh token: %s %v", outcome, err)
	}
	for _, tok := range []string{access, a2} {
		if _, err := s.Authenticate(ctx, tok); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("access token after its grant was revoked: %v", err)
		}
	}
	if outcome, _, err := s.RefreshOAuth(ctx, auth.HashKey(r2), f.client, f.tokens(auth.NewAccessToken(), auth.NewRefreshToken()), time.Minute); err != nil || outcome != store.OAuthInvalid {
		t.Fatalf("refresh of a revoked grant: %s %v", outcome, err)
	}

	// A reused code revokes the grant made from it.
	code, access, _ = f.grant(t, auth.Full)
	if outcome, _, err := s.ExchangeOAuthCode(ctx, f.exchange(code), f.tokens(auth.NewAccessToken(), auth.NewRefreshToken())); err != nil || outcome != store.OAuthReused {
		t.Fatalf("reused code: %s %v", outcome, err)
	}
	if _, err := s.Authenticate(ctx, access); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("access token of a reused code's grant: %v", err)
	}

	// An expired access token is refused.
	_, access, _ = f.grant(t, auth.Full)
	if _, err := f.owner.Exec(ctx, `UPDATE oauth_tokens SET expires_at = now() - interval '1 second' WHERE token_hash = $1`, auth.HashKey(access)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, access); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired access token: %v", err)
	}

	// Connected apps: the user lists and revokes their grants.
	_, access, _ = f.grant(t, auth.Full)
	mine, err := s.UserOAuthGrants(ctx, f.user)
	if err != nil || len(mine) != 2 { // the expired token's grant stands; its refresh token still works
		t.Fatalf("user grants: %+v %v", mine, err)
	}
	if err := s.RevokeUserOAuthGrant(ctx, "usr_other", f.ws, mine[0].KeyID); !errors.Is(err, store.ErrRefused) {
		t.Fatalf("another user revokes a grant: %v", err)
	}
	if err := s.RevokeUserOAuthGrant(ctx, f.user, f.ws, mine[0].KeyID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, access); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("access token after Connected apps revoked it: %v", err)
	}

	// The purge removes tokens a day after they expired, and nothing younger.
	if n, err := s.PurgeOAuth(ctx); err != nil || n != 0 {
		t.Fatalf("purge: %d %v", n, err)
	}
	if _, err := f.owner.Exec(ctx, `UPDATE oauth_tokens SET expires_at = now() - interval '2 days' WHERE token_hash = $1`, auth.HashKey(access)); err != nil {
		t.Fatal(err)
	}
	if n, err := s.PurgeOAuth(ctx); err != nil || n != 1 {
		t.Fatalf("purge: %d %v, want 1", n, err)
	}
}

// TestOAuthCodeNeedsMembership: a code is only made for a workspace the user belongs to,
// and a member's grants die when they are removed.
func TestOAuthCodeNeedsMembership(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newOAuthFixture(t)
	bob, err := f.s.UserForGoogle(ctx, "sub-2", "bob@example.com")
	if err != nil {
		t.Fatal(err)
	}
	err = f.s.NewOAuthCode(ctx, store.OAuthCode{CodeHash: []byte("c"), ClientID: f.client, UserID: bob, WorkspaceID: f.ws,
		Mode: auth.Live, Resource: f.resource, RedirectURI: f.redirect, Challenge: "x", TTL: time.Minute})
	if !errors.Is(err, store.ErrRefused) {
		t.Fatalf("code for a non-member: %v", err)
	}
	// Bob joins, grants, and is removed: his grant stops at once.
	if err := f.s.Invite(ctx, f.user, f.ws, "bob@example.com", store.RoleMember, []byte("inv"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.AcceptInvitation(ctx, bob, []byte("inv")); err != nil {
		t.Fatal(err)
	}
	owner := f.user
	f.user = bob
	_, access, _ := f.grant(t, "read")
	if _, err := f.s.Authenticate(ctx, access); err != nil {
		t.Fatal(err)
	}
	if err := f.s.RemovePerson(ctx, owner, f.ws, bob); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Authenticate(ctx, access); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a removed member's token: %v", err)
	}
	var revoked bool
	if err := f.owner.QueryRow(ctx, `SELECT revoked_at IS NOT NULL FROM api_keys WHERE kind = 'oauth'`).Scan(&revoked); err != nil || !revoked {
		t.Fatalf("the removed member's grant key is not revoked: %v %v", revoked, err)
	}
}
