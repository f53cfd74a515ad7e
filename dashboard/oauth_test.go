package dashboard_test

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	sdkauth "github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"github.com/relmcrm/relm/auth"
	"golang.org/x/oauth2"
)

// callback is a registered redirect URI nothing listens on: the tests read the redirect.
const callback = "http://127.0.0.1:9/callback"

var consentHiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// consent plays the browser of a signed-in person: it opens the authorization URL, reads
// the consent form, submits it with choices (workspace_id, mode, access, decision; by
// default the form's workspace and Allow) and returns the redirect back to the client.
func consent(t *testing.T, b *browser, authorizeURL string, choices url.Values) *url.URL {
	t.Helper()
	u, err := url.Parse(authorizeURL)
	if err != nil {
		t.Fatal(err)
	}
	p := b.get(u.RequestURI())
	must(t, p, http.StatusOK, "unverified", "127.0.0.1:9")
	if csp := p.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "form-action 'self' http://127.0.0.1:9") {
		t.Fatalf("consent page CSP: %s", csp)
	}
	form := url.Values{}
	for _, m := range consentHiddenRE.FindAllStringSubmatch(p.Body, -1) {
		form.Add(m[1], html.UnescapeString(m[2]))
	}
	for _, m := range regexp.MustCompile(`<input type="radio" name="([^"]+)" value="([^"]+)" checked>`).FindAllStringSubmatch(p.Body, -1) {
		form.Set(m[1], m[2])
	}
	if sel := regexp.MustCompile(`<option value="(ws_[^"]+)" selected>`).FindStringSubmatch(p.Body); sel != nil {
		form.Set("workspace_id", sel[1])
	}
	form.Set("decision", "allow")
	for k, v := range choices {
		form[k] = v
	}
	return postForRedirect(t, b, "/oauth/authorize", form)
}

// postForRedirect posts a form from the dashboard and returns the redirect it answers.
func postForRedirect(t *testing.T, b *browser, path string, form url.Values) *url.URL {
	t.Helper()
	c := *b.client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, _ := http.NewRequest(http.MethodPost, b.e.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.e.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST %s: %d, want a redirect:\n%s", path, res.StatusCode, body)
	}
	to, err := url.Parse(res.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return to
}

// sdkClient is the go-sdk's OAuth client for e: dynamic registration of a public client,
// consent by b with choices. tokens receives the oauth2 config and first token.
type sdkClient struct {
	handler *sdkauth.AuthorizationCodeHandler
	config  *oauth2.Config
	token   *oauth2.Token
}

func newSDKClient(t *testing.T, b *browser, choices url.Values) *sdkClient {
	t.Helper()
	sc := &sdkClient{}
	h, err := sdkauth.NewAuthorizationCodeHandler(&sdkauth.AuthorizationCodeHandlerConfig{
		DynamicClientRegistrationConfig: &sdkauth.DynamicClientRegistrationConfig{Metadata: &oauthex.ClientRegistrationMetadata{
			RedirectURIs: []string{callback}, TokenEndpointAuthMethod: "none", GrantTypes: []string{"authorization_code", "refresh_token"},
			ClientName: "Go SDK test client"}},
		AuthorizationCodeFetcher: func(_ context.Context, args *sdkauth.AuthorizationArgs) (*sdkauth.AuthorizationResult, error) {
			to := consent(t, b, args.URL, choices)
			q := to.Query()
			if q.Get("error") != "" {
				t.Fatalf("authorization refused: %s", to)
			}
			return &sdkauth.AuthorizationResult{Code: q.Get("code"), State: q.Get("state"), Iss: q.Get("iss")}, nil
		},
		NewTokenSource: func(ctx context.Context, cfg *oauth2.Config, tok *oauth2.Token) (oauth2.TokenSource, error) {
			sc.config, sc.token = cfg, tok
			return cfg.TokenSource(ctx, tok), nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	sc.handler = h
	return sc
}

// connect opens an MCP session on e's /mcp with the SDK's OAuth handler, which runs the
// whole flow on the first 401.
func (sc *sdkClient) connect(t *testing.T, e *env) *mcp.ClientSession {
	t.Helper()
	client := mcp.NewClient(&mcp.Implementation{Name: "oauth-test", Version: "1"}, nil)
	cs, err := client.Connect(t.Context(), &mcp.StreamableClientTransport{Endpoint: e.URL + "/mcp", OAuthHandler: sc.handler}, nil)
	if err != nil {
		t.Fatalf("connect with OAuth: %v", err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// bearer calls the REST API with an OAuth access token.
func (e *env) bearer(method, path, token string) (int, http.Header) {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode, res.Header
}

// TestOAuthGoSDKClient: the go-sdk's client discovers the server from /mcp's 401, registers
// itself, sends the person through sign-in's consent, exchanges the code and calls tools;
// then its refresh token rotates, and reused after the grace window revokes the grant.
func TestOAuthGoSDKClient(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := e.owner("ann@example.com", "Ann's")
	sc := newSDKClient(t, b, url.Values{"mode": {"live"}, "access": {"write"}})
	cs := sc.connect(t, e)

	tools, err := cs.ListTools(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tl := range tools.Tools {
		names = append(names, tl.Name)
	}
	if !strings.Contains(strings.Join(names, " "), "create_contact") {
		t.Fatalf("a read-write grant lacks create_contact: %v", names)
	}
	res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "create_contact", Arguments: map[string]any{"email": "grace@example.com"}})
	if err != nil || res.IsError {
		t.Fatalf("create_contact over OAuth: %+v %v", res, err)
	}
	if sc.token == nil || !auth.IsAccessToken(sc.token.AccessToken) || sc.token.RefreshToken == "" || sc.token.Extra("scope") != "read write" {
		t.Fatalf("token: %+v", sc.token)
	}
	// The grant reaches the live mode of Ann's workspace, where the contact now is.
	if s, _ := e.bearer(http.MethodGet, "/v1/contacts?email=grace@example.com", sc.token.AccessToken); s != http.StatusOK {
		t.Fatalf("REST with the access token: %d", s)
	}

	// Refresh: a new pair; the old access token keeps working until it expires.
	old := sc.token.RefreshToken
	fresh, err := sc.config.TokenSource(t.Context(), &oauth2.Token{RefreshToken: old}).Token()
	if err != nil || fresh.AccessToken == sc.token.AccessToken || fresh.RefreshToken == old {
		t.Fatalf("refresh: %+v %v", fresh, err)
	}
	if s, _ := e.bearer(http.MethodGet, "/v1/contacts", fresh.AccessToken); s != http.StatusOK {
		t.Fatalf("refreshed access token: %d", s)
	}
	// Reused within the grace window (concurrent refreshes): another pair.
	if _, err := sc.config.TokenSource(t.Context(), &oauth2.Token{RefreshToken: old}).Token(); err != nil {
		t.Fatalf("refresh again within the grace window: %v", err)
	}
	// Reused after it: refused, and the grant is revoked.
	db, err := pgx.Connect(t.Context(), e.DB)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(context.Background())
	if _, err := db.Exec(t.Context(), `UPDATE oauth_tokens SET used_at = now() - interval '1 hour' WHERE token_hash = $1`, auth.HashKey(old)); err != nil {
		t.Fatal(err)
	}
	_, err = sc.config.TokenSource(t.Context(), &oauth2.Token{RefreshToken: old}).Token()
	var re *oauth2.RetrieveError
	if !asRetrieve(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("reused refresh token: %v", err)
	}
	if s, h := e.bearer(http.MethodGet, "/v1/contacts", fresh.AccessToken); s != http.StatusUnauthorized ||
		!strings.Contains(h.Get("WWW-Authenticate"), `resource_metadata="`+e.URL+`/.well-known/oauth-protected-resource/mcp"`) {
		t.Fatalf("access token of a revoked grant: %d %q", s, h.Get("WWW-Authenticate"))
	}
}

func asRetrieve(err error, re **oauth2.RetrieveError) bool {
	for err != nil {
		if r, ok := err.(*oauth2.RetrieveError); ok {
			*re = r
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

// decode reads a JSON response into v and returns its status.
func decode(t *testing.T, res *http.Response, v any) int {
	t.Helper()
	defer res.Body.Close()
	if v != nil {
		if err := json.NewDecoder(res.Body).Decode(v); err != nil {
			t.Fatalf("%d: %v", res.StatusCode, err)
		}
	}
	return res.StatusCode
}
