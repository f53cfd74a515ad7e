package dashboard_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/relmcrm/relm/accounts"
	"github.com/relmcrm/relm/accounts/oidctest"
)

// setupGoogle is a server whose Google sign-in goes to a fake issuer.
func setupGoogle(t *testing.T) (*env, *oidctest.Server) {
	t.Helper()
	idp := oidctest.NewServer(t)
	e := setupWith(t, options{accounts: func(svc *accounts.Service) {
		svc.Google = &accounts.Google{Issuer: idp.URL, ClientID: idp.ClientID, ClientSecret: idp.ClientSecret,
			RedirectURL: svc.PublicURL + "/signin/google/callback"}
	}})
	idp.RedirectURIs = []string{e.URL + "/signin/google/callback"}
	return e, idp
}

// googleCallback starts a Google sign-in in b and follows it through the issuer (which must
// sign someone in at once: AutoUser) up to, not into, the dashboard's callback, returned as
// a path and query.
func (b *browser) googleCallback(next string) string {
	b.e.t.Helper()
	var callback *url.URL
	b.client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Path == "/signin/google/callback" {
			callback = req.URL
			return http.ErrUseLastResponse
		}
		return nil
	}
	defer func() { b.client.CheckRedirect = nil }()
	p := b.get("/signin/google?next=" + url.QueryEscape(next))
	if callback == nil {
		b.e.t.Fatalf("the sign-in did not come back to the callback: %d at %s:\n%s", p.Status, p.URL, p.Body)
	}
	return callback.RequestURI()
}

// expectSignedOut fails the test when b's session is signed in: a signed-out browser asking
// for /workspaces lands on /signin. what says which step should have left it signed out.
func (b *browser) expectSignedOut(what string) {
	b.e.t.Helper()
	if at := b.get("/workspaces").URL; at != "/signin" {
		b.e.t.Errorf("%s: signed in, landing at %s", what, at)
	}
}

var hiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// TestGoogleSignIn: a browser goes to the issuer with PKCE (S256), state and nonce, picks
// its account there and comes back signed in, to where it was going; the same Google
// account signs in again as the same user.
func TestGoogleSignIn(t *testing.T) {
	t.Parallel()
	e, idp := setupGoogle(t)
	idp.AddUser("google-ada", "ada@example.com", true)
	idp.AddUser("google-bea", "bea@example.com", true)
	b := e.browser()
	must(t, b.get("/signin"), http.StatusOK, `href="/signin/google?next=%2f"`, "Sign in with Google")

	// The chooser at the issuer, as a person sees it.
	p := b.get("/signin/google?next=" + url.QueryEscape("/workspaces"))
	must(t, p, http.StatusOK, "Choose an account", ">Continue as ada@example.com</button>", ">Continue as bea@example.com</button>")
	reqs := idp.AuthRequests()
	if len(reqs) != 1 {
		t.Fatalf("%d authorization requests, want 1", len(reqs))
	}
	q := reqs[0]
	for k, want := range map[string]string{"client_id": idp.ClientID, "response_type": "code", "code_challenge_method": "S256",
		"redirect_uri": e.URL + "/signin/google/callback", "scope": "openid email"} {
		if q.Get(k) != want {
			t.Errorf("authorization request %s=%q, want %q", k, q.Get(k), want)
		}
	}
	for _, k := range []string{"state", "nonce", "code_challenge"} {
		if len(q.Get(k)) < 20 {
			t.Errorf("authorization request %s=%q: missing or short", k, q.Get(k))
		}
	}
	if q.Get("state") == q.Get("nonce") {
		t.Errorf("state and nonce are the same")
	}

	// Click "Continue as ada@example.com": post that form to the issuer.
	i := strings.Index(p.Body, ">Continue as ada@example.com<")
	start := strings.LastIndex(p.Body[:i], "<form")
	form := url.Values{}
	for _, m := range hiddenRE.FindAllStringSubmatch(p.Body[start:i], -1) {
		form.Set(m[1], html.UnescapeString(m[2]))
	}
	if form.Get("user") != "google-ada" || form.Get("code_challenge") != q.Get("code_challenge") {
		t.Fatalf("the chooser's form: %v", form)
	}
	req, _ := http.NewRequest(http.MethodPost, idp.URL+"/authorize", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	p = b.do(req)
	must(t, p, http.StatusOK, "ada@example.com", "You belong to no workspace yet")
	if p.URL != "/workspaces" {
		t.Fatalf("signed in at %s", p.URL)
	}
	must(t, b.post("/workspaces", url.Values{"name": {"Ada Ltd"}}), http.StatusOK)

	// The same Google account again, in another browser: the same user, with their workspace.
	idp.AutoUser = "ada@example.com"
	again := e.browser()
	p = again.get("/signin/google")
	must(t, p, http.StatusOK, "Ada Ltd")
	must(t, again.get("/workspaces"), http.StatusOK, "ada@example.com", "Ada Ltd")
	if n := countUsers(t, e, "ada@example.com"); n != 1 {
		t.Fatalf("%d users for ada@example.com, want 1", n)
	}
}

// TestGoogleNext: the page a Google sign-in was going to survives the trip, odd characters
// and all (the cookie holding it escapes it); a next off the server goes home instead.
func TestGoogleNext(t *testing.T) {
	t.Parallel()
	e, idp := setupGoogle(t)
	e.owner("cal@example.com", "Cal & Co") // a workspace, so workspace pages open
	idp.AddUser("google-cal", "cal@example.com", true)
	idp.AutoUser = "cal@example.com"
	for next, want := range map[string]string{
		`/contacts?q=Ann Lee; "x",y\z`: `/contacts?q=Ann Lee; "x",y\z`,
		"//evil.example/x":             "/contacts", // / sends a signed-in person to their records
		"https://evil.example/":        "/contacts",
	} {
		b := e.browser()
		var last *url.URL
		b.client.CheckRedirect = func(req *http.Request, via []*http.Request) error { last = req.URL; return nil }
		b.get("/signin/google?next=" + url.QueryEscape(next))
		if last == nil || last.Host != strings.TrimPrefix(e.URL, "http://") || last.RequestURI() != want {
			t.Errorf("next %q: landed at %v, want %s", next, last, want)
		}
	}
}

// TestGoogleLinksEmailUser: someone who signed in with an emailed code, then with Google
// for the same verified address, is the same user; another Google account with that
// address is refused.
func TestGoogleLinksEmailUser(t *testing.T) {
	t.Parallel()
	e, idp := setupGoogle(t)
	e.owner("dan@example.com", "Dan's Shop")
	before := userID(t, e, "dan@example.com")
	idp.AddUser("google-dan", "Dan@Example.com", true)
	idp.AutoUser = "dan@example.com"
	b := e.browser()
	must(t, b.get("/signin/google"), http.StatusOK)
	must(t, b.get("/workspaces"), http.StatusOK, "Dan&#39;s Shop")
	if after := userID(t, e, "dan@example.com"); after != before {
		t.Fatalf("Google signed in user %s, want the email user %s", after, before)
	}

	// Another Google account claiming the same address.
	idp.AddUser("google-impostor", "dan@example.com", true)
	idp.AddUser("google-dan", "dan.old@example.com", true) // so AutoUser finds only the impostor
	c := e.browser()
	must(t, c.get("/signin/google"), http.StatusForbidden, "tied to a different Google account")
	c.expectSignedOut("a refused sign-in")
}

// TestGoogleUnverifiedRefused: an address Google has not verified signs nobody in.
func TestGoogleUnverifiedRefused(t *testing.T) {
	t.Parallel()
	e, idp := setupGoogle(t)
	idp.AddUser("google-eve", "eve@example.com", false)
	idp.AutoUser = "eve@example.com"
	b := e.browser()
	must(t, b.get("/signin/google"), http.StatusForbidden, "email address is not verified")
	b.expectSignedOut("a refused sign-in")
	if n := countUsers(t, e, "eve@example.com"); n != 0 {
		t.Fatalf("an unverified address made %d users", n)
	}
}

// TestGoogleStateChecked: a callback without the browser's cookie, or with another state,
// signs nobody in; the cookie works once.
func TestGoogleStateChecked(t *testing.T) {
	t.Parallel()
	e, idp := setupGoogle(t)
	idp.AddUser("google-fay", "fay@example.com", true)
	idp.AutoUser = "fay@example.com"

	// Another browser (an attacker's link, say) with this browser's callback: no cookie.
	b := e.browser()
	callback := b.googleCallback("/")
	other := e.browser()
	must(t, other.get(callback), http.StatusBadRequest, "did not start here")
	other.expectSignedOut("a callback without the cookie")

	// The right browser, the wrong state.
	u, _ := url.Parse(callback)
	q := u.Query()
	q.Set("state", "forged")
	must(t, b.get(u.Path+"?"+q.Encode()), http.StatusBadRequest, "did not start here")
	b.expectSignedOut("a forged state")
	// The failed callback cleared the cookie: the genuine one no longer works either.
	must(t, b.get(callback), http.StatusBadRequest, "did not start here")

	// A fresh start works, once.
	c := e.browser()
	callback = c.googleCallback("/")
	must(t, c.get(callback), http.StatusOK, "fay@example.com")
	must(t, e.browser().get(callback), http.StatusBadRequest, "did not start here")

	// The issuer's error (the person cancelled) with the right state.
	d := e.browser()
	callback = d.googleCallback("/")
	u, _ = url.Parse(callback)
	q = url.Values{"state": {u.Query().Get("state")}, "error": {"access_denied"}}
	must(t, d.get(u.Path+"?"+q.Encode()), http.StatusBadRequest, "Google did not sign you in (access_denied)")
	d.expectSignedOut("a cancelled sign-in")
}

// TestGoogleBadTokensRefused: an ID token with another nonce, audience or issuer, expired,
// or signed by another key signs nobody in.
func TestGoogleBadTokensRefused(t *testing.T) {
	t.Parallel()
	e, idp := setupGoogle(t)
	idp.AddUser("google-gus", "gus@example.com", true)
	idp.AutoUser = "gus@example.com"
	for name, spoil := range map[string]*bool{"wrong nonce": &idp.WrongNonce, "wrong audience": &idp.WrongAudience,
		"wrong issuer": &idp.WrongIssuer, "expired": &idp.Expired, "bad signature": &idp.BadSignature} {
		*spoil = true
		b := e.browser()
		p := b.get("/signin/google")
		*spoil = false
		if p.Status != http.StatusBadGateway || !strings.Contains(p.Body, "Google sign-in failed") {
			t.Errorf("%s: %d %s", name, p.Status, p.Body)
		}
		b.expectSignedOut(name)
	}
	if n := countUsers(t, e, "gus@example.com"); n != 0 {
		t.Fatalf("refused tokens made %d users", n)
	}
	// The issuer is fine again.
	must(t, e.browser().get("/signin/google"), http.StatusOK, "gus@example.com")
}

// TestGoogleNotConfigured: without Google, the sign-in page offers email codes only and
// the Google routes are not found.
func TestGoogleNotConfigured(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := e.browser()
	p := b.get("/signin")
	must(t, p, http.StatusOK, "Email me a sign-in code")
	if strings.Contains(p.Body, "Google") {
		t.Fatalf("the sign-in page offers Google:\n%s", p.Body)
	}
	must(t, b.get("/signin/google"), http.StatusNotFound, "not configured")
	must(t, b.get("/signin/google/callback?state=x&code=y"), http.StatusNotFound, "not configured")
}

// countUsers is how many users have address, read as the database owner.
func countUsers(t *testing.T, e *env, address string) int {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), e.DB)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	var n int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM users WHERE lower(email) = lower($1)`, address).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
