package oidctest_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/relmcrm/relm/accounts"
	"github.com/relmcrm/relm/accounts/oidctest"
	"golang.org/x/oauth2"
)

// TestIssuerRules: the fake issuer refuses plain or missing PKCE, a used code and a wrong
// verifier, and takes client_secret_basic and client_secret_post.
func TestIssuerRules(t *testing.T) {
	t.Parallel()
	idp := oidctest.NewServer(t)
	idp.AddUser("s1", "a@example.com", true)
	idp.AutoUser = "a@example.com"
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	authorize := func(change func(url.Values)) url.Values {
		t.Helper()
		q := url.Values{"client_id": {idp.ClientID}, "redirect_uri": {"http://127.0.0.1:1/cb"}, "response_type": {"code"},
			"scope": {"openid email"}, "state": {"st"}, "nonce": {"no"},
			"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}}
		change(q)
		res, err := noFollow.Get(idp.URL + "/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		loc, _ := url.Parse(res.Header.Get("Location"))
		return loc.Query()
	}
	if got := authorize(func(q url.Values) { q.Set("code_challenge_method", "plain") }); got.Get("error") != "invalid_request" {
		t.Errorf("plain PKCE: %v", got)
	}
	if got := authorize(func(q url.Values) { q.Del("code_challenge") }); got.Get("error") != "invalid_request" {
		t.Errorf("no PKCE: %v", got)
	}
	got := authorize(func(url.Values) {})
	if got.Get("code") == "" || got.Get("state") != "st" {
		t.Fatalf("authorize: %v", got)
	}
	token := func(verifier string, basic bool) (int, string) {
		t.Helper()
		f := url.Values{"grant_type": {"authorization_code"}, "code": {got.Get("code")}, "redirect_uri": {"http://127.0.0.1:1/cb"},
			"code_verifier": {verifier}}
		if !basic {
			f.Set("client_id", idp.ClientID)
			f.Set("client_secret", idp.ClientSecret)
		}
		req, _ := http.NewRequest(http.MethodPost, idp.URL+"/token", strings.NewReader(f.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if basic {
			req.SetBasicAuth(url.QueryEscape(idp.ClientID), url.QueryEscape(idp.ClientSecret))
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body)
	}
	// RFC 7636's example verifier for the challenge above.
	if status, body := token("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", true); status != http.StatusOK || !strings.Contains(body, `"id_token"`) {
		t.Fatalf("token: %d %s", status, body)
	}
	if status, body := token("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", false); status != http.StatusBadRequest || !strings.Contains(body, `"invalid_grant"`) {
		t.Fatalf("a used code: %d %s", status, body)
	}
	got = authorize(func(url.Values) {})
	if status, body := token("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXX", false); status != http.StatusBadRequest || !strings.Contains(body, `"invalid_grant"`) {
		t.Fatalf("a wrong verifier: %d %s", status, body)
	}
}

// TestGoogleClient: accounts.Google (go-oidc and x/oauth2) signs in through the fake, and
// refuses what it should.
func TestGoogleClient(t *testing.T) {
	t.Parallel()
	idp := oidctest.NewServer(t)
	idp.AddUser("s1", "a@example.com", true)
	idp.AddUser("s2", "b@example.com", false)
	g := &accounts.Google{Issuer: idp.URL, ClientID: idp.ClientID, ClientSecret: idp.ClientSecret, RedirectURL: "http://127.0.0.1:1/cb"}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	code := func(hint, nonce, verifier string) string {
		t.Helper()
		to, err := g.AuthURL(t.Context(), "state-1", nonce, verifier)
		if err != nil {
			t.Fatal(err)
		}
		res, err := noFollow.Get(to + "&login_hint=" + url.QueryEscape(hint))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		loc, _ := url.Parse(res.Header.Get("Location"))
		if loc.Query().Get("code") == "" || loc.Query().Get("state") != "state-1" {
			t.Fatalf("authorize: %d %s", res.StatusCode, loc)
		}
		return loc.Query().Get("code")
	}
	v := oauth2.GenerateVerifier()
	sub, address, err := g.Exchange(t.Context(), code("a@example.com", "n1", v), v, "n1")
	if err != nil || sub != "s1" || address != "a@example.com" {
		t.Fatalf("exchange: %q %q %v", sub, address, err)
	}
	if _, _, err := g.Exchange(t.Context(), code("b@example.com", "n1", v), v, "n1"); err != accounts.ErrUnverified {
		t.Fatalf("unverified: %v", err)
	}
	if _, _, err := g.Exchange(t.Context(), code("a@example.com", "n1", v), oauth2.GenerateVerifier(), "n1"); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("wrong verifier: %v", err)
	}
	if _, _, err := g.Exchange(t.Context(), code("a@example.com", "n1", v), v, "n2"); err == nil {
		t.Fatal("a token for another nonce was accepted")
	}
	idp.WrongNonce = true
	if _, _, err := g.Exchange(t.Context(), code("a@example.com", "n1", v), v, "n1"); err == nil {
		t.Fatal("WrongNonce: accepted")
	}
	idp.WrongNonce, idp.BadSignature = false, true
	if _, _, err := g.Exchange(t.Context(), code("a@example.com", "n1", v), v, "n1"); err == nil {
		t.Fatal("BadSignature: accepted")
	}
}
