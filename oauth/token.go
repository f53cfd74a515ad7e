package oauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/store"
)

// tokenResponse is a successful token response (RFC 6749 §5.1).
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
}

// maxFormBytes bounds a token or revocation request's body.
const maxFormBytes = 16 << 10

// token is the token endpoint: an authorization code (with its PKCE verifier) or a refresh
// token becomes a new access and refresh token.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	c, ok := s.authenticateClient(w, r)
	if !ok {
		return
	}
	access, refresh := auth.NewAccessToken(), auth.NewRefreshToken()
	tokens := store.OAuthTokens{Access: auth.HashKey(access), Refresh: auth.HashKey(refresh), AccessTTL: AccessTokenTTL, RefreshTTL: RefreshTokenTTL}
	var outcome store.OAuthOutcome
	var scopes auth.Scopes
	var err error
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		code, redirect, verifier := r.PostForm.Get("code"), r.PostForm.Get("redirect_uri"), r.PostForm.Get("code_verifier")
		if code == "" || redirect == "" || verifier == "" {
			fail(w, http.StatusBadRequest, "invalid_request", "An authorization_code request needs code, redirect_uri and code_verifier (PKCE).")
			return
		}
		if !validVerifier(verifier) {
			fail(w, http.StatusBadRequest, "invalid_request", "code_verifier must be 43 to 128 characters of A-Z, a-z, 0-9, -, ., _ and ~ (RFC 7636).")
			return
		}
		resource, ok := s.checkResource(r.PostForm.Get("resource"))
		if !ok {
			fail(w, http.StatusBadRequest, "invalid_target", "This server's only resource is "+s.resource+".")
			return
		}
		outcome, scopes, err = s.store.ExchangeOAuthCode(r.Context(), store.OAuthExchange{CodeHash: auth.HashKey(code), ClientID: c.ID,
			RedirectURI: redirect, Resource: resource, Challenge: challengeOf(verifier)}, tokens)
	case "refresh_token":
		rt := r.PostForm.Get("refresh_token")
		if rt == "" {
			fail(w, http.StatusBadRequest, "invalid_request", "A refresh_token request needs refresh_token.")
			return
		}
		if res := r.PostForm.Get("resource"); res != "" {
			if _, ok := s.checkResource(res); !ok {
				fail(w, http.StatusBadRequest, "invalid_target", "This server's only resource is "+s.resource+".")
				return
			}
		}
		outcome = store.OAuthInvalid
		if auth.IsRefreshToken(rt) {
			outcome, scopes, err = s.store.RefreshOAuth(r.Context(), auth.HashKey(rt), c.ID, tokens, RefreshGrace)
		}
	case "":
		fail(w, http.StatusBadRequest, "invalid_request", "grant_type is missing: send authorization_code or refresh_token.")
		return
	default:
		fail(w, http.StatusBadRequest, "unsupported_grant_type", "This server supports the authorization_code and refresh_token grants.")
		return
	}
	if err != nil {
		s.log.ErrorContext(r.Context(), "oauth token", "err", err)
		fail(w, http.StatusInternalServerError, "server_error", "Could not issue tokens right now. Retry shortly.")
		return
	}
	switch outcome {
	case store.OAuthOK:
	case store.OAuthReused:
		s.log.WarnContext(r.Context(), "oauth: a code or refresh token was used again; its grant is revoked", "client_id", c.ID)
		fail(w, http.StatusBadRequest, "invalid_grant", "This code or refresh token was used already, so the access it granted is revoked. Connect again.")
		return
	default:
		fail(w, http.StatusBadRequest, "invalid_grant", "The code or refresh token is unknown, expired, revoked, or was issued to another client, "+
			"redirect_uri, resource or code_challenge.")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, tokenResponse{AccessToken: access, TokenType: "Bearer", ExpiresIn: int(AccessTokenTTL.Seconds()),
		RefreshToken: refresh, Scope: scopeText(string(scopes))})
}

// revoke is token revocation (RFC 7009): the grant of an access or refresh token of the
// client is revoked; any other token is answered the same, 200.
func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	c, ok := s.authenticateClient(w, r)
	if !ok {
		return
	}
	token := r.PostForm.Get("token")
	if token == "" {
		fail(w, http.StatusBadRequest, "invalid_request", "Send the token to revoke as token.")
		return
	}
	if auth.IsAccessToken(token) || auth.IsRefreshToken(token) {
		if err := s.store.RevokeOAuthToken(r.Context(), auth.HashKey(token), c.ID); err != nil {
			s.log.ErrorContext(r.Context(), "oauth revoke", "err", err)
			fail(w, http.StatusServiceUnavailable, "temporarily_unavailable", "Could not revoke the token right now. Retry shortly.")
			return
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

// authenticateClient parses the form and finds the client: by client_secret_basic, by
// client_secret_post, or (a public client) by client_id alone. On failure it has answered.
func (s *Server) authenticateClient(w http.ResponseWriter, r *http.Request) (c store.OAuthClient, ok bool) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		fail(w, http.StatusBadRequest, "invalid_request", "Send the parameters as an application/x-www-form-urlencoded body.")
		return c, false
	}
	id, secret, basic := r.BasicAuth()
	if basic {
		// RFC 6749 §2.3.1: the id and secret are form-encoded before Basic encoding.
		var e1, e2 error
		id, e1 = url.QueryUnescape(id)
		secret, e2 = url.QueryUnescape(secret)
		if e1 != nil || e2 != nil {
			s.refuseClient(w, basic, "The Basic credentials are not form-encoded client_id and client_secret.")
			return c, false
		}
		if form := r.PostForm.Get("client_id"); form != "" && form != id {
			fail(w, http.StatusBadRequest, "invalid_request", "client_id in the body differs from the Basic credentials'.")
			return c, false
		}
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id == "" {
		s.refuseClient(w, basic, "Identify the client: client_id (and client_secret for a confidential client), or HTTP Basic.")
		return c, false
	}
	c, err := s.client(r.Context(), id)
	if errors.Is(err, errNoClient) {
		s.refuseClient(w, basic, "Unknown client_id: register the client first (registration_endpoint).")
		return c, false
	}
	if err != nil {
		s.log.ErrorContext(r.Context(), "oauth client", "err", err)
		fail(w, http.StatusInternalServerError, "server_error", "Could not check the client right now. Retry shortly.")
		return c, false
	}
	if c.AuthMethod == "none" {
		return c, true
	}
	if secret == "" || subtle.ConstantTimeCompare(auth.HashKey(secret), c.SecretHash) != 1 {
		s.refuseClient(w, basic, "The client secret is missing or wrong.")
		return c, false
	}
	return c, true
}

// refuseClient answers invalid_client (RFC 6749 §5.2): 401, with a Basic challenge when the
// client tried Basic.
func (s *Server) refuseClient(w http.ResponseWriter, basic bool, description string) {
	if basic {
		w.Header().Set("WWW-Authenticate", `Basic realm="relm"`)
	}
	fail(w, http.StatusUnauthorized, "invalid_client", description)
}

// checkResource is the resource a request names (RFC 8707): this server's /mcp URL (with
// or without a trailing slash), or it by default; ok is false for any other.
func (s *Server) checkResource(res string) (string, bool) {
	if res == "" || strings.TrimSuffix(res, "/") == s.resource {
		return s.resource, true
	}
	return "", false
}

// challengeOf is the S256 code challenge of a verifier (RFC 7636 §4.2).
func challengeOf(verifier string) string {
	h := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// validVerifier reports whether v is a well-formed PKCE code verifier.
func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for _, c := range v {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.ContainsRune("-._~", c)) {
			return false
		}
	}
	return true
}
