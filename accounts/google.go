package accounts

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Google signs people in with Google (or any OpenID Connect issuer, such as a test's):
// the authorization code flow with PKCE (S256), state and nonce, and a verified address.
type Google struct {
	Issuer, ClientID, ClientSecret string
	// RedirectURL is the dashboard's callback, PublicURL + "/signin/google/callback".
	RedirectURL string

	mu       sync.Mutex
	provider *oidc.Provider // once discovered
}

// ErrUnverified means the issuer has not verified the account's address.
var ErrUnverified = errors.New("accounts: the Google account's address is not verified")

// discover fetches the issuer's configuration once; a failure is retried on the next call.
func (g *Google) discover(ctx context.Context) (*oidc.Provider, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.provider == nil {
		p, err := oidc.NewProvider(ctx, g.Issuer)
		if err != nil {
			return nil, fmt.Errorf("accounts: discover %s: %w", g.Issuer, err)
		}
		g.provider = p
	}
	return g.provider, nil
}

func (g *Google) config(p *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{ClientID: g.ClientID, ClientSecret: g.ClientSecret, RedirectURL: g.RedirectURL,
		Endpoint: p.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "email"}}
}

// AuthURL is where to send the browser, binding state, nonce and the PKCE verifier.
func (g *Google) AuthURL(ctx context.Context, state, nonce, verifier string) (string, error) {
	p, err := g.discover(ctx)
	if err != nil {
		return "", err
	}
	return g.config(p).AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce)), nil
}

// Exchange trades the callback's code for the account's subject and verified address,
// checking the ID token's signature, audience, expiry and nonce.
func (g *Google) Exchange(ctx context.Context, code, verifier, nonce string) (subject, address string, err error) {
	p, err := g.discover(ctx)
	if err != nil {
		return "", "", err
	}
	tok, err := g.config(p).Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return "", "", fmt.Errorf("accounts: google token: %w", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return "", "", errors.New("accounts: google token: no id_token")
	}
	id, err := p.Verifier(&oidc.Config{ClientID: g.ClientID}).Verify(ctx, raw)
	if err != nil {
		return "", "", fmt.Errorf("accounts: google id_token: %w", err)
	}
	if id.Nonce != nonce {
		return "", "", errors.New("accounts: google id_token: nonce mismatch")
	}
	var claims struct {
		Email         string `json:"email"`
		EmailVerified bool   `json:"email_verified"`
	}
	if err := id.Claims(&claims); err != nil {
		return "", "", fmt.Errorf("accounts: google claims: %w", err)
	}
	if !claims.EmailVerified || claims.Email == "" {
		return "", "", ErrUnverified
	}
	return id.Subject, claims.Email, nil
}

// SignInGoogle is the user a Google account signs in (store.UserForGoogle).
func (s *Service) SignInGoogle(ctx context.Context, code, verifier, nonce string) (string, error) {
	subject, address, err := s.Google.Exchange(ctx, code, verifier, nonce)
	if err != nil {
		return "", err
	}
	return s.Store.UserForGoogle(ctx, subject, address)
}
