package dashboard_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/relmcrm/relm/auth"
)

// manual is an OAuth client driven by hand, to send what a well-behaved client would not.
type manual struct {
	e        *env
	b        *browser
	clientID string
	secret   string
	verifier string
}

// register posts client metadata to /oauth/register and returns the status and answer.
func (e *env) register(meta map[string]any) (int, map[string]any) {
	e.t.Helper()
	body, _ := json.Marshal(meta)
	res, err := http.Post(e.URL+"/oauth/register", "application/json", bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	var out map[string]any
	return decode(e.t.(*testing.T), res, &out), out
}

// newManual registers a public client (or with method, a confidential one) for b's person.
func newManual(t *testing.T, e *env, b *browser, method string) *manual {
	t.Helper()
	status, reg := e.register(map[string]any{"redirect_uris": []string{callback}, "token_endpoint_auth_method": method,
		"client_name": "Manual client", "grant_types": []string{"authorization_code", "refresh_token"}})
	if status != http.StatusCreated {
		t.Fatalf("register: %d %v", status, reg)
	}
	m := &manual{e: e, b: b, clientID: reg["client_id"].(string), verifier: strings.Repeat("v", 50)}
	if s, ok := reg["client_secret"].(string); ok {
		m.secret = s
	}
	return m
}

// authorizeURL is an authorization request with overrides (an empty value drops a parameter).
func (m *manual) authorizeURL(over url.Values) string {
	h := sha256.Sum256([]byte(m.verifier))
	q := url.Values{"response_type": {"code"}, "client_id": {m.clientID}, "redirect_uri": {callback}, "state": {"st4te"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(h[:])}, "code_challenge_method": {"S256"},
		"resource": {m.e.URL + "/mcp"}, "scope": {"read write"}}
	for k, v := range over {
		if v[0] == "" {
			q.Del(k)
		} else {
			q[k] = v
		}
	}
	return m.e.URL + "/oauth/authorize?" + q.Encode()
}

// code runs consent with choices and returns the code.
func (m *manual) code(t *testing.T, choices url.Values) string {
	t.Helper()
	to := consent(t, m.b, m.authorizeURL(nil), choices)
	if to.Query().Get("code") == "" || to.Query().Get("state") != "st4te" || to.Query().Get("iss") != m.e.URL {
		t.Fatalf("authorization response: %s", to)
	}
	return to.Query().Get("code")
}

// token posts to the token endpoint with the client's id (and secret, in the body).
func (m *manual) token(t *testing.T, form url.Values) (int, map[string]any) {
	t.Helper()
	form.Set("client_id", m.clientID)
	if m.secret != "" && form.Get("client_secret") == "" {
		form.Set("client_secret", m.secret)
	}
	res, err := http.PostForm(m.e.URL+"/oauth/token", form)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	status := decode(t, res, &out)
	if res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("token response cacheable: %q", res.Header.Get("Cache-Control"))
	}
	return status, out
}

// exchange trades a code for tokens.
func (m *manual) exchange(t *testing.T, code string) (int, map[string]any) {
	t.Helper()
	return m.token(t, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {callback},
		"code_verifier": {m.verifier}, "resource": {m.e.URL + "/mcp"}})
}

// grant consents with choices and returns the access and refresh tokens.
func (m *manual) grant(t *testing.T, choices url.Values) (access, refresh string) {
	t.Helper()
	status, tok := m.exchange(t, m.code(t, choices))
	if status != http.StatusOK || tok["token_type"] != "Bearer" {
		t.Fatalf("exchange: %d %v", status, tok)
	}
	return tok["access_token"].(string), tok["refresh_token"].(string)
}

// redirectOf opens path in b without following a redirect and returns where it points.
func redirectOf(t *testing.T, b *browser, path string) *url.URL {
	t.Helper()
	c := *b.client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := c.Get(b.e.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther && res.StatusCode != http.StatusFound {
		t.Fatalf("GET %s: %d, want a redirect", path, res.StatusCode)
	}
	to, _ := url.Parse(res.Header.Get("Location"))
	return to
}

// TestOAuthAuthorizeRefusals: an unknown client or unregistered redirect URI gets an error
// page and no redirect; missing or plain PKCE, another resource and a denial go back to the
// client with the error, the state and the issuer; strangers sign in first; the consent
// form refuses cross-site posts.
func TestOAuthAuthorizeRefusals(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := e.owner("ann@example.com", "Ann's")
	m := newManual(t, e, b, "none")
	path := func(over url.Values) string {
		u, _ := url.Parse(m.authorizeURL(over))
		return u.RequestURI()
	}

	must(t, b.get(path(url.Values{"client_id": {"rc_unknown"}})), http.StatusBadRequest, "not registered")
	must(t, b.get(path(url.Values{"redirect_uri": {"https://evil.example.com/cb"}})), http.StatusBadRequest, "did not register", "will not go there")

	for name, tc := range map[string]struct {
		over url.Values
		code string
	}{
		"no PKCE":         {url.Values{"code_challenge": {""}, "code_challenge_method": {""}}, "invalid_request"},
		"plain PKCE":      {url.Values{"code_challenge_method": {"plain"}}, "invalid_request"},
		"no method":       {url.Values{"code_challenge_method": {""}}, "invalid_request"},
		"other resource":  {url.Values{"resource": {"https://other.example.com/mcp"}}, "invalid_target"},
		"token flow":      {url.Values{"response_type": {"token"}}, "unsupported_response_type"},
		"short challenge": {url.Values{"code_challenge": {"abc"}}, "invalid_request"},
	} {
		to := redirectOf(t, b, path(tc.over))
		q := to.Query()
		if !strings.HasPrefix(to.String(), callback) || q.Get("error") != tc.code || q.Get("state") != "st4te" || q.Get("iss") != e.URL {
			t.Errorf("%s: redirected to %s, want %s with error %s, the state and iss", name, to, callback, tc.code)
		}
	}
	// No scope (as ChatGPT reconnects) and no resource are accepted.
	must(t, b.get(path(url.Values{"scope": {""}, "resource": {""}})), http.StatusOK, "Manual client", "unverified")

	// Deny goes back with access_denied.
	to := consent(t, b, m.authorizeURL(nil), url.Values{"decision": {"deny"}})
	if q := to.Query(); q.Get("error") != "access_denied" || q.Get("state") != "st4te" || q.Get("iss") != e.URL || q.Get("code") != "" {
		t.Fatalf("deny: %s", to)
	}

	// Someone not signed in signs in first, and comes back to the request.
	to = redirectOf(t, e.browser(), path(nil))
	if to.Path != "/signin" || !strings.HasPrefix(to.Query().Get("next"), "/oauth/authorize?") {
		t.Fatalf("stranger sent to %s", to)
	}

	// A cross-site post of the consent form is refused, and no code is made.
	u, _ := url.Parse(m.authorizeURL(nil))
	form := u.Query()
	form.Set("decision", "allow")
	form.Set("mode", "test")
	form.Set("access", "write")
	if p := b.postFrom("https://evil.example.com", "/oauth/authorize", form); p.Status != http.StatusForbidden {
		t.Fatalf("cross-site consent: %d", p.Status)
	}
	var codes int
	db, err := pgx.Connect(t.Context(), e.DB)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(t.Context())
	if err := db.QueryRow(t.Context(), `SELECT count(*) FROM oauth_codes`).Scan(&codes); err != nil || codes != 0 {
		t.Fatalf("codes after refusals: %d %v", codes, err)
	}
}

// TestOAuthTokenRefusals: the token endpoint refuses a wrong verifier, redirect URI or
// resource, a reused code (revoking the grant it made), unknown clients and grant types;
// an expired access token is refused at once.
func TestOAuthTokenRefusals(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := e.owner("ann@example.com", "Ann's")
	m := newManual(t, e, b, "none")
	expect := func(name string, status int, body map[string]any, wantStatus int, wantError string) {
		t.Helper()
		if status != wantStatus || body["error"] != wantError {
			t.Errorf("%s: %d %v, want %d %s", name, status, body, wantStatus, wantError)
		}
	}
	exchange := func(code string, over url.Values) (int, map[string]any) {
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {callback},
			"code_verifier": {m.verifier}, "resource": {e.URL + "/mcp"}}
		for k, v := range over {
			form[k] = v
		}
		return m.token(t, form)
	}
	s, body := exchange(m.code(t, nil), url.Values{"code_verifier": {strings.Repeat("w", 50)}})
	expect("wrong verifier", s, body, http.StatusBadRequest, "invalid_grant")
	s, body = exchange(m.code(t, nil), url.Values{"redirect_uri": {"http://127.0.0.1:9/other"}})
	expect("wrong redirect_uri", s, body, http.StatusBadRequest, "invalid_grant")
	s, body = exchange(m.code(t, nil), url.Values{"resource": {"https://other.example.com/mcp"}})
	expect("wrong resource", s, body, http.StatusBadRequest, "invalid_target")
	s, body = exchange(m.code(t, nil), url.Values{"code_verifier": {""}})
	expect("no verifier", s, body, http.StatusBadRequest, "invalid_request")
	s, body = m.token(t, url.Values{"grant_type": {"password"}})
	expect("password grant", s, body, http.StatusBadRequest, "unsupported_grant_type")
	s, body = m.token(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {auth.NewRefreshToken()}})
	expect("unknown refresh token", s, body, http.StatusBadRequest, "invalid_grant")
	res, err := http.PostForm(e.URL+"/oauth/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {"rc_unknown"}})
	if err != nil {
		t.Fatal(err)
	}
	s = decode(t, res, &body)
	expect("unknown client", s, body, http.StatusUnauthorized, "invalid_client")

	// A code works once; used again, the grant it made is revoked.
	code := m.code(t, nil)
	s, tok := exchange(code, nil)
	if s != http.StatusOK {
		t.Fatalf("exchange: %d %v", s, tok)
	}
	access := tok["access_token"].(string)
	if st, _ := e.bearer(http.MethodGet, "/v1/contacts", access); st != http.StatusOK {
		t.Fatalf("access token: %d", st)
	}
	s, body = exchange(code, nil)
	expect("reused code", s, body, http.StatusBadRequest, "invalid_grant")
	if st, _ := e.bearer(http.MethodGet, "/v1/contacts", access); st != http.StatusUnauthorized {
		t.Fatalf("access token of a reused code's grant: %d", st)
	}

	// An expired access token is refused. (A server caches a token's caller no longer than
	// the token lasts, store.keyCache; here it expires before its first use.)
	access, _ = m.grant(t, nil)
	db, err := pgx.Connect(t.Context(), e.DB)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(t.Context())
	if _, err := db.Exec(t.Context(), `UPDATE oauth_tokens SET expires_at = now() - interval '1 second' WHERE token_hash = $1`, auth.HashKey(access)); err != nil {
		t.Fatal(err)
	}
	if st, h := e.bearer(http.MethodGet, "/v1/contacts", access); st != http.StatusUnauthorized || !strings.Contains(h.Get("WWW-Authenticate"), "invalid_token") {
		t.Fatalf("expired access token: %d %q", st, h.Get("WWW-Authenticate"))
	}
}

// headerTransport sends every request with an Authorization header.
type headerTransport struct{ token string }

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+h.token)
	return http.DefaultTransport.RoundTrip(r)
}

// TestOAuthReadOnlyGrant: a read-only grant sees no write tools, and a write is refused
// with insufficient_scope on both surfaces.
func TestOAuthReadOnlyGrant(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := e.owner("ann@example.com", "Ann's")
	m := newManual(t, e, b, "none")
	status, tok := m.exchange(t, m.code(t, url.Values{"access": {"read"}}))
	if status != http.StatusOK || tok["scope"] != "read" {
		t.Fatalf("read-only exchange: %d %v", status, tok)
	}
	access := tok["access_token"].(string)
	client := mcp.NewClient(&mcp.Implementation{Name: "read-only", Version: "1"}, nil)
	cs, err := client.Connect(t.Context(), &mcp.StreamableClientTransport{Endpoint: e.URL + "/mcp",
		HTTPClient: &http.Client{Transport: headerTransport{access}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	tools, err := cs.ListTools(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tl := range tools.Tools {
		if tl.Name == "create_contact" || tl.Annotations != nil && !tl.Annotations.ReadOnlyHint {
			t.Errorf("a read-only grant lists %s", tl.Name)
		}
	}
	res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "create_contact", Arguments: map[string]any{"email": "x@example.com"}})
	if err != nil || !res.IsError || !strings.Contains(text(res), "insufficient_scope") {
		t.Fatalf("write over a read-only grant: %+v %v", res, err)
	}
	req, _ := http.NewRequest(http.MethodPost, e.URL+"/v1/contacts", strings.NewReader(`{"email":"x@example.com"}`))
	req.Header.Set("Authorization", "Bearer "+access)
	req.Header.Set("Content-Type", "application/json")
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	if s := decode(t, r, &body); s != http.StatusForbidden || !strings.Contains(string(must2(json.Marshal(body))), "insufficient_scope") {
		t.Fatalf("REST write over a read-only grant: %d %v", s, body)
	}
}

func must2(b []byte, _ error) []byte { return b }

// text is a tool result's text content.
func text(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

// TestOAuthMemberGrant: a member's read-write grant has a member's scopes, never an owner's:
// it changes records but may not manage keys; removing the member cuts it off at once.
func TestOAuthMemberGrant(t *testing.T) {
	t.Parallel()
	e := setup(t)
	owner := e.owner("olga@example.com", "Olga Inc")
	must(t, owner.post("/members/invite", url.Values{"email": {"max@example.com"}, "role": {"member"}}), http.StatusOK, "Invitation sent")
	link, _ := url.Parse(linkIn(t, e, e.mailTo("max@example.com")))
	max := e.signIn("max@example.com")
	must(t, max.post("/invitations/accept", url.Values{"token": {link.Query().Get("token")}}), http.StatusOK, "You joined the workspace.")

	m := newManual(t, e, max, "none")
	status, tok := m.exchange(t, m.code(t, url.Values{"access": {"write"}}))
	if status != http.StatusOK || tok["scope"] == "read write" || !strings.Contains(tok["scope"].(string), "contacts:write") {
		t.Fatalf("member's read-write grant: %d %v", status, tok)
	}
	access := tok["access_token"].(string)
	req, _ := http.NewRequest(http.MethodPost, e.URL+"/v1/contacts", strings.NewReader(`{"email":"m@example.com"}`))
	req.Header.Set("Authorization", "Bearer "+access)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if s := decode(t, res, nil); s != http.StatusCreated {
		t.Fatalf("member's grant creates a contact: %d", s)
	}
	req, _ = http.NewRequest(http.MethodPost, e.URL+"/v1/api_keys", strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Bearer "+access)
	req.Header.Set("Content-Type", "application/json")
	if res, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	if s := decode(t, res, nil); s != http.StatusForbidden {
		t.Fatalf("member's grant creates an API key: %d", s)
	}

	// Removing the member revokes their grant at once.
	row := regexp.MustCompile(`name="id" value="(usr_[a-z2-7]+)"><button type="submit" aria-label="Remove max@example.com"`).
		FindStringSubmatch(owner.get("/members").Body)
	if row == nil {
		t.Fatal("no Remove button for the member")
	}
	must(t, owner.post("/members/remove", url.Values{"id": {row[1]}}), http.StatusOK, "Removed.")
	if s, _ := e.bearer(http.MethodGet, "/v1/contacts", access); s != http.StatusUnauthorized {
		t.Fatalf("a removed member's grant: %d", s)
	}
}
