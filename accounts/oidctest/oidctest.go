// Package oidctest is a fake OpenID Connect issuer for tests: discovery, a JWKS, an
// authorization endpoint with a small account chooser a browser can click (or that signs a
// chosen account in at once, for http.Client tests), and a token endpoint issuing RS256 ID
// tokens. It speaks the authorization code flow with PKCE (S256 only), state and nonce, as
// go-oidc and golang.org/x/oauth2 expect, and can misbehave for negative tests.
package oidctest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Server is a running fake issuer. Set its options before the requests they should affect.
type Server struct {
	// URL is the issuer, also the base of every endpoint (no trailing slash).
	URL string
	// ClientID and ClientSecret are the one client the issuer knows (a random secret; either
	// may be changed before the first request).
	ClientID, ClientSecret string
	// RedirectURIs, when not empty, are the only redirect_uri values accepted; when empty
	// any absolute http(s) URL is (every one is recorded in AuthRequests).
	RedirectURIs []string

	// AutoUser, when set to a user's email, signs that user in at GET /authorize at once,
	// without the account chooser (as does a login_hint naming a user).
	AutoUser string

	// Misbehaviour for negative tests, each affecting the ID tokens issued after it is set.
	WrongNonce    bool // the ID token's nonce is not the one asked for
	WrongAudience bool // the ID token is for another client
	WrongIssuer   bool // the ID token names another issuer
	Expired       bool // the ID token expired an hour ago
	BadSignature  bool // the ID token is signed by a key not in the JWKS (same kid)

	mu       sync.Mutex
	users    []User
	codes    map[string]grant
	requests []url.Values
	key      *rsa.PrivateKey
	other    *rsa.PrivateKey
	kid      string
	hs       *httptest.Server
}

// User is an account at the issuer.
type User struct {
	Subject, Email string
	Verified       bool
}

// grant is what an authorization code stands for.
type grant struct {
	clientID, redirectURI, challenge, nonce string
	user                                    User
	expires                                 time.Time
}

// keys are made once per test binary: RSA key generation is slow.
var keys = sync.OnceValues(func() (*rsa.PrivateKey, *rsa.PrivateKey) {
	a, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	b, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return a, b
})

// NewServer starts a fake issuer, closed when the test ends.
func NewServer(tb testing.TB) *Server {
	tb.Helper()
	s, err := Listen("127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	return s
}

// Listen starts a fake issuer on addr (such as "127.0.0.1:0", or a fixed port for a browser
// script) outside a test; Close stops it.
func Listen(addr string) (*Server, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	key, other := keys()
	s := &Server{ClientID: "relm-test-client", ClientSecret: "relm-test-secret-" + rand.Text(),
		codes: map[string]grant{}, key: key, other: other, kid: "key-" + rand.Text()[:8]}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", s.discovery)
	mux.HandleFunc("GET /jwks", s.jwks)
	mux.HandleFunc("GET /authorize", s.authorize)
	mux.HandleFunc("POST /authorize", s.authorize)
	mux.HandleFunc("POST /token", s.token)
	s.hs = &httptest.Server{Listener: l, Config: &http.Server{Handler: mux}}
	s.hs.Start()
	s.URL = s.hs.URL
	return s, nil
}

// Close stops the issuer.
func (s *Server) Close() { s.hs.Close() }

// AddUser adds an account, or changes the one with subject.
func (s *Server) AddUser(subject, email string, verified bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := User{Subject: subject, Email: email, Verified: verified}
	if i := slices.IndexFunc(s.users, func(u User) bool { return u.Subject == subject }); i >= 0 {
		s.users[i] = u
		return
	}
	s.users = append(s.users, u)
}

// AuthRequests are the query parameters of every authorization request so far (GET
// /authorize), oldest first.
func (s *Server) AuthRequests() []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]url.Values, len(s.requests))
	for i, r := range s.requests {
		out[i] = cloneValues(r)
	}
	return out
}

func (s *Server) discovery(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                s.URL,
		"authorization_endpoint":                s.URL + "/authorize",
		"token_endpoint":                        s.URL + "/token",
		"jwks_uri":                              s.URL + "/jwks",
		"response_types_supported":              []string{"code"},
		"grant_types_supported":                 []string{"authorization_code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"S256"},
		"scopes_supported":                      []string{"openid", "email"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"claims_supported":                      []string{"iss", "sub", "aud", "exp", "iat", "nonce", "email", "email_verified"},
	})
}

func (s *Server) jwks(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &s.key.PublicKey, KeyID: s.kid, Algorithm: string(jose.RS256), Use: "sig"}}})
}

// authParams are the authorization request's parameters, carried through the chooser.
var authParams = []string{"client_id", "redirect_uri", "response_type", "scope", "state", "nonce",
	"code_challenge", "code_challenge_method", "login_hint"}

// authorize checks an authorization request; GET shows the account chooser (or signs in
// AutoUser or the login_hint at once), POST signs in the chosen user.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if r.Method == http.MethodPost {
		_ = r.ParseForm()
		q = r.PostForm
	}
	// Without a known client and redirect_uri there is nowhere safe to send an error.
	if q.Get("client_id") != s.ClientID {
		http.Error(w, "oidctest: unknown client_id", http.StatusBadRequest)
		return
	}
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || (redirect.Scheme != "http" && redirect.Scheme != "https") || redirect.Host == "" || redirect.Fragment != "" ||
		(len(s.RedirectURIs) > 0 && !slices.Contains(s.RedirectURIs, q.Get("redirect_uri"))) {
		http.Error(w, "oidctest: bad redirect_uri", http.StatusBadRequest)
		return
	}
	if r.Method == http.MethodGet {
		s.mu.Lock()
		s.requests = append(s.requests, cloneValues(q))
		s.mu.Unlock()
	}
	fail := func(code, description string) {
		back := redirect.Query()
		back.Set("error", code)
		back.Set("error_description", description)
		if st := q.Get("state"); st != "" {
			back.Set("state", st)
		}
		redirect.RawQuery = back.Encode()
		http.Redirect(w, r, redirect.String(), http.StatusSeeOther)
	}
	switch {
	case q.Get("response_type") != "code":
		fail("unsupported_response_type", "only response_type=code")
		return
	case !slices.Contains(strings.Fields(q.Get("scope")), "openid"):
		fail("invalid_scope", "scope must contain openid")
		return
	case q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256":
		fail("invalid_request", "PKCE with code_challenge_method=S256 is required")
		return
	case len(q.Get("code_challenge")) != 43:
		fail("invalid_request", "code_challenge must be a base64url SHA-256")
		return
	case q.Get("state") == "":
		fail("invalid_request", "state is required")
		return
	case q.Get("nonce") == "":
		fail("invalid_request", "nonce is required")
		return
	}

	if r.Method == http.MethodPost {
		if q.Get("deny") != "" {
			fail("access_denied", "the user cancelled")
			return
		}
		u, ok := s.user(func(u User) bool { return u.Subject == q.Get("user") })
		if !ok {
			http.Error(w, "oidctest: no such user", http.StatusBadRequest)
			return
		}
		s.issue(w, r, q, redirect, u)
		return
	}
	auto := s.AutoUser
	if hint := q.Get("login_hint"); hint != "" {
		auto = hint
	}
	if auto != "" {
		if u, ok := s.user(func(u User) bool { return strings.EqualFold(u.Email, auto) }); ok {
			s.issue(w, r, q, redirect, u)
			return
		}
	}
	s.mu.Lock()
	users := slices.Clone(s.users)
	s.mu.Unlock()
	hidden := url.Values{}
	for _, p := range authParams {
		if v := q.Get(p); v != "" {
			hidden.Set(p, v)
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = chooser.Execute(w, map[string]any{"Client": s.ClientID, "Users": users, "Hidden": hidden})
}

// issue redirects back with a new code for u.
func (s *Server) issue(w http.ResponseWriter, r *http.Request, q url.Values, redirect *url.URL, u User) {
	code := rand.Text()
	s.mu.Lock()
	s.codes[code] = grant{clientID: q.Get("client_id"), redirectURI: q.Get("redirect_uri"), challenge: q.Get("code_challenge"),
		nonce: q.Get("nonce"), user: u, expires: time.Now().Add(time.Minute)}
	s.mu.Unlock()
	back := redirect.Query()
	back.Set("code", code)
	back.Set("state", q.Get("state"))
	redirect.RawQuery = back.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusSeeOther)
}

func (s *Server) user(match func(User) bool) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.users, match)
	if i < 0 {
		return User{}, false
	}
	return s.users[i], true
}

// token trades a code for tokens (RFC 6749 4.1.3, RFC 7636 4.6).
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request", "unreadable form")
		return
	}
	f := r.PostForm
	// Client authentication: client_secret_basic (form-urlencoded id and secret) or
	// client_secret_post, not both. A failure uses up no code, so x/oauth2's probing of the
	// two styles works.
	id, secret, basic := r.BasicAuth()
	if basic {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
		if f.Has("client_secret") {
			tokenError(w, http.StatusBadRequest, "invalid_request", "more than one client authentication")
			return
		}
		if f.Has("client_id") && f.Get("client_id") != id {
			tokenError(w, http.StatusBadRequest, "invalid_request", "client_id differs from the authenticated client")
			return
		}
	} else {
		id, secret = f.Get("client_id"), f.Get("client_secret")
	}
	if id != s.ClientID || subtle.ConstantTimeCompare([]byte(secret), []byte(s.ClientSecret)) != 1 {
		if basic {
			w.Header().Set("WWW-Authenticate", `Basic realm="oidctest"`)
		}
		tokenError(w, http.StatusUnauthorized, "invalid_client", "unknown client or wrong secret")
		return
	}
	if f.Get("grant_type") != "authorization_code" {
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type", "only authorization_code")
		return
	}
	s.mu.Lock()
	g, ok := s.codes[f.Get("code")]
	delete(s.codes, f.Get("code")) // single use, whatever happens next
	s.mu.Unlock()
	switch {
	case !ok || time.Now().After(g.expires):
		tokenError(w, http.StatusBadRequest, "invalid_grant", "unknown, used or expired code")
		return
	case g.clientID != id:
		tokenError(w, http.StatusBadRequest, "invalid_grant", "the code was issued to another client")
		return
	case f.Get("redirect_uri") != g.redirectURI:
		tokenError(w, http.StatusBadRequest, "invalid_grant", "redirect_uri differs from the authorization request's")
		return
	case !verifies(f.Get("code_verifier"), g.challenge):
		tokenError(w, http.StatusBadRequest, "invalid_grant", "code_verifier does not match code_challenge")
		return
	}
	idToken, err := s.idToken(g)
	if err != nil {
		tokenError(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"access_token": "at-" + rand.Text(), "token_type": "Bearer",
		"expires_in": 3600, "id_token": idToken})
}

// verifies reports whether verifier (RFC 7636 4.1: 43 to 128 unreserved characters) hashes
// to challenge.
func verifies(verifier, challenge string) bool {
	if len(verifier) < 43 || len(verifier) > 128 || strings.IndexFunc(verifier, func(c rune) bool {
		return !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.ContainsRune("-._~", c))
	}) >= 0 {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	return subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(challenge)) == 1
}

// idToken is the signed ID token of a grant, spoilt as the options say.
func (s *Server) idToken(g grant) (string, error) {
	now := time.Now()
	claims := map[string]any{"iss": s.URL, "sub": g.user.Subject, "aud": g.clientID, "iat": now.Unix(),
		"exp": now.Add(time.Hour).Unix(), "auth_time": now.Unix(), "nonce": g.nonce,
		"email": g.user.Email, "email_verified": g.user.Verified}
	key := s.key
	if s.WrongNonce {
		claims["nonce"] = "not-" + g.nonce
	}
	if s.WrongAudience {
		claims["aud"] = "another-client"
	}
	if s.WrongIssuer {
		claims["iss"] = "https://issuer.invalid"
	}
	if s.Expired {
		claims["iat"], claims["exp"] = now.Add(-2*time.Hour).Unix(), now.Add(-time.Hour).Unix()
	}
	if s.BadSignature {
		key = s.other
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: s.kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

// tokenError is an error response of the token endpoint (RFC 6749 5.2).
func tokenError(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, map[string]string{"error": code, "error_description": description})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

// chooser is the account chooser: one form per user whose button reads "Continue as
// <email>", and a Cancel button that answers access_denied.
var chooser = template.Must(template.New("chooser").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Choose an account – oidctest</title></head>
<body>
<main>
<h1>Choose an account</h1>
<p>to continue to <strong>{{.Client}}</strong></p>
{{if .Users}}<ul id="accounts">
{{range .Users}}<li><form method="post" action="/authorize">
{{range $k, $vs := $.Hidden}}{{range $vs}}<input type="hidden" name="{{$k}}" value="{{.}}">{{end}}{{end}}
<input type="hidden" name="user" value="{{.Subject}}">
<button type="submit" data-email="{{.Email}}">Continue as {{.Email}}</button>{{if not .Verified}} <small>(address not verified)</small>{{end}}
</form></li>
{{end}}</ul>
{{else}}<p role="alert">No accounts: the test must call AddUser.</p>{{end}}
<form method="post" action="/authorize">
{{range $k, $vs := .Hidden}}{{range $vs}}<input type="hidden" name="{{$k}}" value="{{.}}">{{end}}{{end}}
<input type="hidden" name="deny" value="1">
<button type="submit">Cancel</button>
</form>
</main>
</body>
</html>
`))
