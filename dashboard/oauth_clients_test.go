package dashboard_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/relmcrm/relm/server"
	"github.com/relmcrm/relm/webhooks"
)

// TestOAuthDiscovery: the protected resource and authorization server metadata say what the
// MCP specification asks, and a 401 from /mcp and /v1 names the resource metadata.
func TestOAuthDiscovery(t *testing.T) {
	t.Parallel()
	e := setup(t)
	get := func(path string) map[string]any {
		res, err := http.Get(e.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		var out map[string]any
		if s := decode(t, res, &out); s != http.StatusOK || res.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Fatalf("%s: %d, CORS %q", path, s, res.Header.Get("Access-Control-Allow-Origin"))
		}
		return out
	}
	for _, p := range []string{"/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"} {
		prm := get(p)
		if prm["resource"] != e.URL+"/mcp" || fmt.Sprint(prm["authorization_servers"]) != "["+e.URL+"]" ||
			fmt.Sprint(prm["scopes_supported"]) != "[read write]" || fmt.Sprint(prm["bearer_methods_supported"]) != "[header]" {
			t.Errorf("%s: %v", p, prm)
		}
	}
	asm := get("/.well-known/oauth-authorization-server")
	for k, want := range map[string]string{
		"issuer": e.URL, "authorization_endpoint": e.URL + "/oauth/authorize", "token_endpoint": e.URL + "/oauth/token",
		"registration_endpoint": e.URL + "/oauth/register", "revocation_endpoint": e.URL + "/oauth/revoke",
		"code_challenge_methods_supported": "[S256]", "response_types_supported": "[code]",
		"grant_types_supported":                          "[authorization_code refresh_token]",
		"token_endpoint_auth_methods_supported":          "[none client_secret_post client_secret_basic]",
		"authorization_response_iss_parameter_supported": "true", "client_id_metadata_document_supported": "true",
	} {
		if got := fmt.Sprint(asm[k]); got != want {
			t.Errorf("%s: %s, want %s", k, got, want)
		}
	}
	for _, p := range []string{"/mcp", "/v1/contacts"} {
		req, _ := http.NewRequest(http.MethodPost, e.URL+p, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		want := `Bearer realm="relm", resource_metadata="` + e.URL + `/.well-known/oauth-protected-resource/mcp"`
		if res.StatusCode != http.StatusUnauthorized || res.Header.Get("WWW-Authenticate") != want {
			t.Errorf("%s: %d %q, want 401 %q", p, res.StatusCode, res.Header.Get("WWW-Authenticate"), want)
		}
	}
}

// TestOAuthRegistration: redirect URIs must be https, or http on loopback, without
// fragments; Claude's and ChatGPT's callbacks register; a confidential client gets a secret
// once and must present it, in the body or by Basic.
func TestOAuthRegistration(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for _, uri := range []string{"javascript:alert(1)", "data:text/html,hi", "http://example.com/cb", "https://example.com/cb#frag",
		"cursor://callback", "/relative", "https://user:pw@example.com/cb", "http://192.168.1.5/cb"} {
		s, body := e.register(map[string]any{"redirect_uris": []string{uri}})
		if s != http.StatusBadRequest || body["error"] != "invalid_redirect_uri" || body["error_description"] == "" {
			t.Errorf("%s: %d %v, want 400 invalid_redirect_uri", uri, s, body)
		}
	}
	for name, meta := range map[string]map[string]any{
		"no redirect URIs":  {"client_name": "x"},
		"unknown method":    {"redirect_uris": []string{callback}, "token_endpoint_auth_method": "private_key_jwt"},
		"implicit grant":    {"redirect_uris": []string{callback}, "grant_types": []string{"implicit"}},
		"token response":    {"redirect_uris": []string{callback}, "response_types": []string{"token"}},
		"multi-line name":   {"redirect_uris": []string{callback}, "client_name": "a\nb"},
		"redirect not list": {"redirect_uris": "https://claude.ai/api/mcp/auth_callback"},
	} {
		if s, body := e.register(meta); s != http.StatusBadRequest || (body["error"] != "invalid_client_metadata" && body["error"] != "invalid_redirect_uri") {
			t.Errorf("%s: %d %v", name, s, body)
		}
	}
	for _, uri := range []string{"https://claude.ai/api/mcp/auth_callback", "https://chatgpt.com/connector_platform_oauth_redirect",
		"http://localhost:6274/oauth/callback", "http://[::1]:3000/cb"} {
		s, body := e.register(map[string]any{"redirect_uris": []string{uri}, "token_endpoint_auth_method": "none", "client_name": "Claude",
			"logo_uri": "https://claude.ai/logo.png"})
		// The answer is the registered metadata (as sent, defaults filled in) and the client's id.
		if s != http.StatusCreated || !strings.HasPrefix(fmt.Sprint(body["client_id"]), "rc_") || body["client_secret"] != nil ||
			body["client_secret_expires_at"] != float64(0) || body["client_id_issued_at"] == nil ||
			body["logo_uri"] != "https://claude.ai/logo.png" || fmt.Sprint(body["grant_types"]) != "[authorization_code]" ||
			fmt.Sprint(body["redirect_uris"]) != "["+uri+"]" {
			t.Errorf("%s: %d %v", uri, s, body)
		}
	}

	// A confidential client (client_secret_basic by default) authenticates with its secret.
	b := e.owner("ann@example.com", "Ann's")
	m := newManual(t, e, b, "")
	if m.secret == "" {
		t.Fatal("a confidential client got no secret")
	}
	code := m.code(t, nil)
	status, body := m.token(t, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {callback},
		"code_verifier": {m.verifier}, "client_secret": {"wrong"}})
	if status != http.StatusUnauthorized || body["error"] != "invalid_client" {
		t.Fatalf("wrong secret: %d %v", status, body)
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {callback}, "code_verifier": {m.verifier}}
	req, _ := http.NewRequest(http.MethodPost, e.URL+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(m.clientID), url.QueryEscape(m.secret))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok map[string]any
	if s := decode(t, res, &tok); s != http.StatusOK || tok["access_token"] == nil {
		t.Fatalf("client_secret_basic: %d %v", s, tok)
	}
	res, err = http.PostForm(e.URL+"/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}, "client_id": {m.clientID}})
	if err != nil {
		t.Fatal(err)
	}
	if s := decode(t, res, &body); s != http.StatusUnauthorized || body["error"] != "invalid_client" {
		t.Fatalf("refresh without the secret: %d %v", s, body)
	}
}

// TestOAuthRevocation: a grant stops at once when revoked over the API (DELETE
// /v1/oauth_grants/{id}), in Connected apps, or by its client (RFC 7009); grants are not API
// keys.
func TestOAuthRevocation(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := e.owner("ann@example.com", "Ann's")
	key := newKey(t, b, "live")
	m := newManual(t, e, b, "none")
	live := url.Values{"mode": {"live"}}

	access, _ := m.grant(t, live)
	if s, _ := e.bearer(http.MethodGet, "/v1/contacts", access); s != http.StatusOK {
		t.Fatalf("access token: %d", s)
	}
	var list struct {
		Data []map[string]any `json:"data"`
	}
	res := e.restJSON(http.MethodGet, "/v1/oauth_grants", key, &list)
	if res != http.StatusOK || len(list.Data) != 1 || list.Data[0]["client_name"] != "Manual client" || list.Data[0]["mode"] != "live" {
		t.Fatalf("list grants: %d %v", res, list.Data)
	}
	id := list.Data[0]["id"].(string)
	// The grant's requests are metered and logged under its id, as a key's are.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var logs struct {
			Data []map[string]any `json:"data"`
		}
		e.restJSON(http.MethodGet, "/v1/request_logs", key, &logs)
		e.restJSON(http.MethodGet, "/v1/oauth_grants", key, &list)
		logged := false
		for _, l := range logs.Data {
			logged = logged || l["key_id"] == id
		}
		if logged && list.Data[0]["last_used_at"] != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the grant's request is not logged (%v) or its last use not recorded (%v)", logs.Data, list.Data)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var keys struct {
		Data []map[string]any `json:"data"`
	}
	if e.restJSON(http.MethodGet, "/v1/api_keys", key, &keys); len(keys.Data) != 1 {
		t.Fatalf("API keys with a grant: %v", keys.Data)
	}
	if s := e.rest(http.MethodDelete, "/v1/oauth_grants/"+id, key); s != http.StatusOK {
		t.Fatalf("revoke grant: %d", s)
	}
	if s, _ := e.bearer(http.MethodGet, "/v1/contacts", access); s != http.StatusUnauthorized {
		t.Fatalf("access token after DELETE /v1/oauth_grants: %d", s)
	}

	// Connected apps.
	access, _ = m.grant(t, live)
	if s, _ := e.bearer(http.MethodGet, "/v1/contacts", access); s != http.StatusOK {
		t.Fatalf("access token: %d", s)
	}
	p := b.get("/apps")
	must(t, p, http.StatusOK, "Manual client", "Ann&#39;s", "live")
	var grants struct {
		Data []map[string]any `json:"data"`
	}
	e.restJSON(http.MethodGet, "/v1/oauth_grants", key, &grants)
	must(t, b.post("/apps/revoke", url.Values{"workspace_id": {e.workspaceOf(b)}, "id": {grants.Data[0]["id"].(string)}}), http.StatusOK, "Disconnected")
	if s, _ := e.bearer(http.MethodGet, "/v1/contacts", access); s != http.StatusUnauthorized {
		t.Fatalf("access token after Connected apps revoked it: %d", s)
	}
	must(t, b.get("/apps"), http.StatusOK, "No connected apps.")

	// RFC 7009, with the refresh token; unknown tokens are answered 200 too.
	access, refresh := m.grant(t, live)
	for _, tok := range []string{"not-a-token", refresh} {
		res, err := http.PostForm(e.URL+"/oauth/revoke", url.Values{"token": {tok}, "client_id": {m.clientID}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("revoke %s: %d", tok, res.StatusCode)
		}
	}
	if s, _ := e.bearer(http.MethodGet, "/v1/contacts", access); s != http.StatusUnauthorized {
		t.Fatalf("access token after /oauth/revoke: %d", s)
	}
}

// restJSON calls the REST API with key and decodes the answer into v.
func (e *env) restJSON(method, path, key string, v any) int {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	_ = json.NewDecoder(res.Body).Decode(v)
	return res.StatusCode
}

// workspaceOf is the workspace b's person belongs to (the first).
func (e *env) workspaceOf(b *browser) string {
	e.t.Helper()
	p := b.get("/workspaces")
	i := strings.Index(p.Body, `name="workspace_id" value="`)
	if i < 0 {
		e.t.Fatalf("no workspace on /workspaces:\n%s", p.Body)
	}
	rest := p.Body[i+len(`name="workspace_id" value="`):]
	return rest[:strings.Index(rest, `"`)]
}

// TestOAuthClientMetadataDocument: a client_id that is an https URL is fetched (through the
// SSRF guard, which here admits the test's loopback server) and used as a public client;
// a document naming another client_id is refused, and so is a private address by default.
func TestOAuthClientMetadataDocument(t *testing.T) {
	t.Parallel()
	doc := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := "https://" + r.Host + r.URL.Path
		if r.URL.Path == "/liar.json" {
			id = "https://elsewhere.example.com/client.json"
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"client_id": id, "client_name": "Document client",
			"redirect_uris": []string{callback}, "token_endpoint_auth_method": "none"})
	}))
	defer doc.Close()
	fetch := webhooks.NewClient(webhooks.ClientOptions{RootCAs: doc.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs,
		AllowAddr: func(netip.Addr) error { return nil }})
	e := setupWith(t, options{server: func(c *server.Config) { c.OAuthFetch = fetch }})
	b := e.owner("ann@example.com", "Ann's")
	m := &manual{e: e, b: b, clientID: doc.URL + "/client.json", verifier: strings.Repeat("v", 50)}
	access, _ := m.grant(t, nil)
	if s, _ := e.bearer(http.MethodGet, "/v1/contacts", access); s != http.StatusOK {
		t.Fatalf("access token of a document client: %d", s)
	}
	must(t, b.get("/apps"), http.StatusOK, "Document client")

	liar := &manual{e: e, b: b, clientID: doc.URL + "/liar.json", verifier: m.verifier}
	u, _ := url.Parse(liar.authorizeURL(nil))
	must(t, b.get(u.RequestURI()), http.StatusBadRequest, "not registered")

	// By default the guard refuses the loopback address.
	plain := setup(t)
	pb := plain.owner("bob@example.com", "Bob's")
	guarded := &manual{e: plain, b: pb, clientID: doc.URL + "/client.json", verifier: m.verifier}
	u, _ = url.Parse(guarded.authorizeURL(nil))
	must(t, pb.get(u.RequestURI()), http.StatusBadRequest, "not registered")
}
