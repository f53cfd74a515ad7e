package dashboard_test

import (
	"cmp"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/relmcrm/relm/accounts"
	"github.com/relmcrm/relm/email"
	"github.com/relmcrm/relm/secrets"
	"github.com/relmcrm/relm/server"
	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/store/pgtest"
	"github.com/relmcrm/relm/tools"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// env is a running server with the dashboard on its own database; mail goes to MailDir.
type env struct {
	t        testing.TB
	URL      string
	Store    *store.Store
	Admin    *store.Admin
	MailDir  string
	DB       string // the database's URL, for reading under the API
	Accounts *accounts.Service
}

func setup(t testing.TB) *env {
	return setupWith(t, options{})
}

// options adjust the server setupWith starts.
type options struct {
	accounts  func(*accounts.Service) // adjusts the sign-in service (Google sign-in)
	resendURL string                  // Resend's API; empty: a closed port, refusing at once
	work      bool                    // also deliver webhooks, run automations and send email, as relm serve does
	server    func(*server.Config)    // adjusts the server's configuration
}

// setupWith is setup with the server adjusted by o.
func setupWith(t testing.TB, o options) *env {
	t.Helper()
	s, admin, dbURL := pgtest.Open(t)
	hs := httptest.NewUnstartedServer(nil)
	publicURL := "http://" + hs.Listener.Addr().String()
	secret := server.NewSecretKey()
	box, err := secrets.NewBox(secret)
	if err != nil {
		t.Fatal(err)
	}
	mailDir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := accounts.NewService(s, accounts.MailDir{Dir: mailDir, From: "Relm <relm@localhost>"}, publicURL, secret)
	if o.accounts != nil {
		o.accounts(svc)
	}
	mail := &tools.EmailServices{Box: box, Resend: email.NewClient(cmp.Or(o.resendURL, "http://127.0.0.1:1"), "relm-test", nil)}
	cfg := server.Config{Store: s, Logger: log, SecretKey: secret, PublicURL: publicURL, Accounts: svc, Email: mail}
	if o.server != nil {
		o.server(&cfg)
	}
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs.Config.Handler = srv
	hs.Start()
	t.Cleanup(func() { _ = srv.Close(context.Background()) })
	t.Cleanup(hs.Close)
	if o.work {
		startWork(t, s, srv.Registry, mail, log)
	}
	return &env{t: t, URL: publicURL, DB: dbURL, Store: s, Admin: admin, MailDir: mailDir, Accounts: svc}
}

// startWork runs webhook deliveries, automation runs and email sends until the test ends.
func startWork(t testing.TB, s *store.Store, reg *tools.Registry, mail *tools.EmailServices, log *slog.Logger) {
	engine, err := server.StartWork(context.Background(), s, mail, reg, server.WorkOptions{Log: log, Version: "test", Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = engine.Stop(ctx)
	})
}

// browser is a person's browser: it keeps cookies and follows redirects, and its posts
// come from the dashboard's own origin as a browser's do.
type browser struct {
	e      *env
	client *http.Client
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, client: &http.Client{Jar: jar}}
}

// page is a response with its body read.
type page struct {
	Status int
	Body   string
	URL    string // after redirects
	Header http.Header
}

func (b *browser) do(req *http.Request) page {
	b.e.t.Helper()
	res, err := b.client.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return page{Status: res.StatusCode, Body: string(body), URL: res.Request.URL.Path, Header: res.Header}
}

// get opens path.
func (b *browser) get(path string) page {
	b.e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.e.URL+path, nil)
	req.Header.Set("Sec-Fetch-Site", "none")
	return b.do(req)
}

// post submits a form to path from the dashboard's own pages.
func (b *browser) post(path string, form url.Values) page {
	b.e.t.Helper()
	return b.postFrom(b.e.URL, path, form)
}

// postFrom submits a form to path from a page of origin (same-origin when it is the dashboard's).
func (b *browser) postFrom(origin, path string, form url.Values) page {
	b.e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.e.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin)
	if origin == b.e.URL {
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	} else {
		req.Header.Set("Sec-Fetch-Site", "cross-site")
	}
	return b.do(req)
}

// mailTo returns the newest mail to address, failing when there is none.
func (e *env) mailTo(address string) string {
	e.t.Helper()
	names, _ := filepath.Glob(filepath.Join(e.MailDir, "*.eml"))
	slices.Sort(names)
	for _, n := range slices.Backward(names) {
		b, err := os.ReadFile(n)
		if err != nil {
			e.t.Fatal(err)
		}
		if strings.Contains(string(b), "\r\nTo: "+address+"\r\n") {
			return string(b)
		}
	}
	e.t.Fatalf("no mail to %s in %s", address, e.MailDir)
	return ""
}

var codeRE = regexp.MustCompile(`(?m)^    (\d{6})\r$`)

// codeIn is the sign-in code of a mail.
func codeIn(t testing.TB, mail string) string {
	t.Helper()
	m := codeRE.FindStringSubmatch(mail)
	if m == nil {
		t.Fatalf("no code in mail:\n%s", mail)
	}
	return m[1]
}

// linkIn is the first link of a mail, as a path and query on the server.
func linkIn(t testing.TB, e *env, mail string) string {
	t.Helper()
	m := regexp.MustCompile(regexp.QuoteMeta(e.URL) + `(/[^\s]+)`).FindStringSubmatch(mail)
	if m == nil {
		t.Fatalf("no link in mail:\n%s", mail)
	}
	return m[1]
}

// signIn signs a new browser in as address with an emailed code.
func (e *env) signIn(address string) *browser {
	e.t.Helper()
	b := e.browser()
	if p := b.post("/signin", url.Values{"email": {address}}); p.Status != http.StatusOK {
		e.t.Fatalf("ask for a code: %d %s", p.Status, p.Body)
	}
	p := b.post("/signin/code", url.Values{"email": {address}, "code": {codeIn(e.t, e.mailTo(address))}})
	if p.Status != http.StatusOK || strings.HasPrefix(p.URL, "/signin") {
		e.t.Fatalf("sign in: %d at %s: %s", p.Status, p.URL, p.Body)
	}
	return b
}

// owner signs address in and gives them a new workspace called name, shown in test mode.
func (e *env) owner(address, name string) *browser {
	e.t.Helper()
	b := e.signIn(address)
	if p := b.post("/workspaces", url.Values{"name": {name}}); p.URL != "/contacts" {
		e.t.Fatalf("create workspace: %d at %s: %s", p.Status, p.URL, p.Body)
	}
	return b
}

// must fails unless p has status and its body contains every want.
func must(t testing.TB, p page, status int, want ...string) {
	t.Helper()
	if p.Status != status {
		t.Fatalf("status %d, want %d, at %s:\n%s", p.Status, status, p.URL, p.Body)
	}
	for _, w := range want {
		if !strings.Contains(p.Body, w) {
			t.Fatalf("page at %s lacks %q:\n%s", p.URL, w, p.Body)
		}
	}
}
