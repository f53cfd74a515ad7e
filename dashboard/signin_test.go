package dashboard_test

import (
	"fmt"
	"github.com/jackc/pgx/v5"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

// TestEmailCodeSignIn: a code mailed to an address signs it in once; the session reaches
// the pages, and signing out ends it.
func TestEmailCodeSignIn(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := e.browser()
	p := b.get("/contacts")
	must(t, p, http.StatusOK, "Email me a sign-in code")
	if p.URL != "/signin" {
		t.Fatalf("a page without a session went to %s, want /signin", p.URL)
	}
	must(t, b.post("/signin", url.Values{"email": {"ada@example.com"}, "next": {"/api-keys"}}), http.StatusOK, "We sent a 6-digit code to")
	mail := e.mailTo("ada@example.com")
	code := codeIn(t, mail)
	if strings.Contains(mail, "Subject: Your Relm sign-in code: "+code) == false {
		t.Fatalf("the subject lacks the code:\n%s", mail)
	}
	p = b.post("/signin/code", url.Values{"email": {"ada@example.com"}, "code": {code}, "next": {"/api-keys"}})
	// A new user belongs to no workspace yet: the pages of a workspace send them to make one.
	must(t, p, http.StatusOK, "You belong to no workspace yet", "ada@example.com")
	if p.URL != "/workspaces" {
		t.Fatalf("signed in at %s", p.URL)
	}
	// The code worked once.
	again := e.browser()
	must(t, again.post("/signin/code", url.Values{"email": {"ada@example.com"}, "code": {code}}), http.StatusBadRequest, "No code is waiting")

	must(t, b.post("/signout", nil), http.StatusOK, "Signed out.")
	if p := b.get("/workspaces"); p.URL != "/signin" {
		t.Fatalf("after signing out /workspaces is at %s", p.URL)
	}
}

// TestSignInCodeRules: wrong codes count, five kill the code; a bad address is refused;
// an address asking for too many codes is slowed down.
func TestSignInCodeRules(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := e.browser()
	must(t, b.post("/signin", url.Values{"email": {"not an address"}}), http.StatusBadRequest, "Enter an email address")
	must(t, b.post("/signin", url.Values{"email": {"bob@example.com"}}), http.StatusOK)
	code := codeIn(t, e.mailTo("bob@example.com"))
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	for i := range 4 {
		must(t, b.post("/signin/code", url.Values{"email": {"bob@example.com"}, "code": {wrong}}), http.StatusBadRequest, "That code is not right")
		_ = i
	}
	must(t, b.post("/signin/code", url.Values{"email": {"bob@example.com"}, "code": {wrong}}), http.StatusTooManyRequests, "Too many wrong codes")
	// The right code is dead now too.
	must(t, b.post("/signin/code", url.Values{"email": {"bob@example.com"}, "code": {code}}), http.StatusTooManyRequests, "Too many wrong codes")

	for range 4 { // five codes per address per 15 minutes, this test's first included
		must(t, b.post("/signin", url.Values{"email": {"bob@example.com"}}), http.StatusOK)
	}
	must(t, b.post("/signin", url.Values{"email": {"Bob@Example.com"}}), http.StatusTooManyRequests, "Too many codes were sent to this address")
}

// TestSignInLink: opening the mailed link only asks to confirm (mail scanners fetch links);
// confirming signs in, once.
func TestSignInLink(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := e.browser()
	must(t, b.post("/signin", url.Values{"email": {"cy@example.com"}}), http.StatusOK)
	link := linkIn(t, e, e.mailTo("cy@example.com"))
	u, _ := url.Parse(link)
	scanner := e.browser()
	must(t, scanner.get(link), http.StatusOK, "Sign in to Relm as <strong>cy@example.com</strong>?")
	must(t, scanner.get(link), http.StatusOK, "Sign in to Relm as") // fetching twice uses nothing up
	p := b.post("/signin/link", url.Values{"token": {u.Query().Get("token")}})
	must(t, p, http.StatusOK, "cy@example.com")
	if p.URL != "/workspaces" {
		t.Fatalf("signed in at %s", p.URL)
	}
	must(t, e.browser().post("/signin/link", url.Values{"token": {u.Query().Get("token")}}), http.StatusNotFound, "used already or has expired")
	// The code of a used link works no more either.
	must(t, e.browser().post("/signin/code", url.Values{"email": {"cy@example.com"}, "code": {codeIn(t, e.mailTo("cy@example.com"))}}),
		http.StatusBadRequest, "No code is waiting")
}

// TestSignOutEverywhere ends every session of the user, and only theirs.
func TestSignOutEverywhere(t *testing.T) {
	t.Parallel()
	e := setup(t)
	one := e.signIn("dee@example.com")
	two := e.signIn("dee@example.com")
	other := e.signIn("eve@example.com")
	must(t, one.post("/signout", url.Values{"everywhere": {"1"}}), http.StatusOK, "Signed out on every device.")
	if p := two.get("/workspaces"); p.URL != "/signin" {
		t.Fatalf("the other session survived signing out everywhere: %s", p.URL)
	}
	if p := other.get("/workspaces"); p.URL != "/workspaces" {
		t.Fatalf("another user's session ended: %s", p.URL)
	}
}

// TestCrossOriginPostsRefused: a state-changing request from another site is refused
// before it does anything; pages carry the security headers.
func TestCrossOriginPostsRefused(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := e.signIn("fay@example.com")
	for _, path := range []string{"/workspaces", "/signout", "/signin", "/api-keys", "/actions/create_contact"} {
		p := b.postFrom("https://evil.example", path, url.Values{"name": {"stolen"}, "email": {"x@example.com"}})
		if p.Status != http.StatusForbidden || !strings.Contains(p.Body, "came from another site") {
			t.Errorf("cross-origin POST %s: %d, want 403 and the page saying why:\n%s", path, p.Status, p.Body)
		}
	}
	ws, err := e.Store.UserWorkspaces(t.Context(), userID(t, e, "fay@example.com"))
	if err != nil || len(ws) != 0 {
		t.Fatalf("a refused post made workspaces: %v %v", ws, err)
	}
	if p := b.get("/workspaces"); p.URL != "/workspaces" {
		t.Fatalf("a refused sign-out ended the session: %s", p.URL)
	}
	p := b.get("/workspaces")
	for h, want := range map[string]string{"Content-Security-Policy": "frame-ancestors 'none'", "X-Frame-Options": "DENY",
		"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"} {
		if !strings.Contains(p.Header.Get(h), want) {
			t.Errorf("%s: %q, want %q", h, p.Header.Get(h), want)
		}
	}
}

// userID is the id of the user with address, read as the database owner.
func userID(t *testing.T, e *env, address string) string {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), e.DB)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	var id string
	if err := conn.QueryRow(t.Context(), `SELECT id FROM users WHERE lower(email) = lower($1)`, address).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestSignInLimitPerClient: one client address asking for codes for many addresses is
// stopped after 20 in 15 minutes, before any mail goes out.
func TestSignInLimitPerClient(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := e.browser()
	for i := range 20 {
		must(t, b.post("/signin", url.Values{"email": {fmt.Sprintf("user%d@example.com", i)}}), http.StatusOK)
	}
	must(t, b.post("/signin", url.Values{"email": {"user20@example.com"}}), http.StatusTooManyRequests, "from your network")
	if names, _ := filepath.Glob(filepath.Join(e.MailDir, "*.eml")); len(names) != 20 {
		t.Fatalf("%d mails sent, want 20", len(names))
	}
}
