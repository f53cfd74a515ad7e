package oauth

import (
	"context"
	"crypto/rand"
	"errors"
	"net/url"
	"slices"
	"strings"

	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/store"
)

// Authorization is a checked authorization request (RFC 6749 §4.1.1 with PKCE and a
// resource): what the consent page shows and what approving it binds into the code.
type Authorization struct {
	Client      store.OAuthClient
	RedirectURI string
	State       string
	Challenge   string
	Resource    string
	// ReadOnly is whether the client asked for read access only (scope read without write);
	// the person chooses in the end.
	ReadOnly bool
	// Params are the request's parameters, for the consent form to post back.
	Params url.Values
}

// AuthorizationError is why an authorization request was refused. With Redirect false the
// client or redirect URI could not be trusted: show Description, never redirect. Otherwise
// send the browser back to the client with RedirectURL.
type AuthorizationError struct {
	Redirect    bool
	Code        string // the OAuth error code
	Description string
	redirectTo  string
}

func (e *AuthorizationError) Error() string { return e.Code + ": " + e.Description }

// RedirectURL is where the browser goes back to the client with the error.
func (e *AuthorizationError) RedirectURL() string { return e.redirectTo }

// authorizationParams are the parameters the consent form carries back.
var authorizationParams = []string{"response_type", "client_id", "redirect_uri", "state", "scope", "code_challenge",
	"code_challenge_method", "resource"}

// CheckAuthorization checks an authorization request: first the client and the exact
// redirect URI (refused without a redirect), then the rest (refused by redirecting back).
// A non-nil error that is not an *AuthorizationError is a failure on our side.
func (s *Server) CheckAuthorization(ctx context.Context, q url.Values) (*Authorization, error) {
	id, redirect := q.Get("client_id"), q.Get("redirect_uri")
	if id == "" {
		return nil, &AuthorizationError{Code: "invalid_request", Description: "The application sent no client_id. Ask its makers to register it with this server."}
	}
	c, err := s.client(ctx, id)
	if errors.Is(err, errNoClient) {
		desc := "This application is not registered with this Relm server. Connect it again from the application."
		if reason := strings.TrimPrefix(strings.TrimPrefix(err.Error(), errNoClient.Error()), ": "); reason != "" {
			desc = "This application is not registered with this Relm server: its metadata document could not be used (" + reason + ")."
		}
		return nil, &AuthorizationError{Code: "invalid_client", Description: desc}
	}
	if err != nil {
		return nil, err
	}
	if redirect == "" && len(c.RedirectURIs) == 1 {
		redirect = c.RedirectURIs[0]
	}
	if !slices.Contains(c.RedirectURIs, redirect) {
		return nil, &AuthorizationError{Code: "invalid_request", Description: "The application asked to send you back to an address it did not register (" +
			clip(redirect) + "). For your safety, Relm will not go there."}
	}
	a := &Authorization{Client: c, RedirectURI: redirect, State: q.Get("state"), Challenge: q.Get("code_challenge"), Params: url.Values{}}
	for _, p := range authorizationParams {
		if v := q.Get(p); v != "" {
			a.Params.Set(p, v)
		}
	}
	a.Params.Set("redirect_uri", redirect)
	back := func(code, desc string) (*Authorization, error) {
		return nil, &AuthorizationError{Redirect: true, Code: code, Description: desc, redirectTo: a.errorURL(s.issuer, code, desc)}
	}
	if q.Get("response_type") != "code" {
		return back("unsupported_response_type", "response_type must be code.")
	}
	if a.Challenge == "" {
		return back("invalid_request", "PKCE is required: send code_challenge with code_challenge_method S256.")
	}
	if q.Get("code_challenge_method") != "S256" {
		return back("invalid_request", "code_challenge_method must be S256; plain is not accepted.")
	}
	if len(a.Challenge) != 43 || strings.Trim(a.Challenge, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
		return back("invalid_request", "code_challenge must be the 43-character base64url SHA-256 of the code verifier.")
	}
	resource, ok := s.checkResource(q.Get("resource"))
	if !ok {
		return back("invalid_target", "This server's only resource is "+s.resource+".")
	}
	a.Resource = resource
	scopes := strings.Fields(q.Get("scope"))
	a.ReadOnly = slices.Contains(scopes, "read") && !slices.Contains(scopes, "write")
	return a, nil
}

// errorURL is the redirect URI with an error response (RFC 6749 §4.1.2.1, RFC 9207).
func (a *Authorization) errorURL(issuer, code, desc string) string {
	return withParams(a.RedirectURI, url.Values{"error": {code}, "error_description": {desc}, "state": {a.State}, "iss": {issuer}})
}

// Deny is where the browser goes when the person refuses.
func (s *Server) Deny(a *Authorization) string {
	return a.errorURL(s.issuer, "access_denied", "The person did not allow access.")
}

// Consent is what the person chose on the consent page.
type Consent struct {
	UserID      string
	WorkspaceID string
	Mode        auth.Mode
	Scopes      auth.Scopes // auth.Full for read-write
}

// Approve stores a code for the consent and returns where the browser goes: the redirect
// URI with the code, the state and the issuer. store.ErrRefused when the user is not a
// member of the workspace.
func (s *Server) Approve(ctx context.Context, a *Authorization, c Consent) (string, error) {
	code := "relm_ac_" + rand.Text() + rand.Text()
	err := s.store.NewOAuthCode(ctx, store.OAuthCode{CodeHash: auth.HashKey(code), ClientID: a.Client.ID, UserID: c.UserID,
		WorkspaceID: c.WorkspaceID, Mode: c.Mode, Scopes: c.Scopes, Resource: a.Resource, RedirectURI: a.RedirectURI,
		Challenge: a.Challenge, TTL: CodeTTL})
	if err != nil {
		return "", err
	}
	return withParams(a.RedirectURI, url.Values{"code": {code}, "state": {a.State}, "iss": {s.issuer}}), nil
}

// withParams adds params to a URL's query, keeping what it has; an empty state is left out.
func withParams(raw string, params url.Values) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	q := u.Query()
	for k, v := range params {
		if len(v) == 1 && v[0] == "" {
			continue
		}
		q[k] = v
	}
	u.RawQuery = q.Encode()
	return u.String()
}
