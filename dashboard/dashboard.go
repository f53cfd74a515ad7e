// Package dashboard is Relm's third surface: server-rendered pages for people, signed in by
// email code or Google, over the same capabilities as REST and MCP. Every change a page makes
// goes through tools.Entry.Call as the signed-in member (their workspace, mode and role), so
// it is validated the same way and emits the same events. No Node is needed to build or run
// it, and it loads nothing from other hosts.
package dashboard

import (
	"context"
	"embed"
	"fmt"
	"github.com/relmcrm/relm/metering"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/relmcrm/relm/accounts"
	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/oauth"
	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/tools"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Options are what the dashboard needs.
type Options struct {
	Registry *tools.Registry
	Store    *store.Store
	Accounts *accounts.Service
	Logger   *slog.Logger
	// PublicURL is where browsers reach the server; an https URL (or http on a loopback
	// host, for development) decides the session cookie's name and Secure flag.
	PublicURL string
	Version   string
	// Allowance reads a caller's usage without counting a request, for get_usage; nil: none.
	Allowance func(context.Context, auth.Caller) (tools.Allowance, error)
	// OAuth is the OAuth server whose authorization endpoint's pages (consent) and
	// "Connected apps" the dashboard serves; nil serves neither.
	OAuth *oauth.Server
}

// Dashboard serves the pages.
type Dashboard struct {
	reg      *tools.Registry
	store    *store.Store
	accounts *accounts.Service
	log      *slog.Logger
	pages    map[string]*template.Template
	cookie   string // the session cookie's name
	secure   bool   // cookies are Secure
	origin   *http.CrossOriginProtection
	limits   *metering.Windows // sign-in attempts per client address
	version  string
	allow    func(context.Context, auth.Caller) (tools.Allowance, error)
	oauth    *oauth.Server
}

// New parses the templates and checks the public URL.
func New(o Options) (*Dashboard, error) {
	u, err := url.Parse(o.PublicURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("dashboard: public URL %q: want http(s)://host", o.PublicURL)
	}
	d := &Dashboard{reg: o.Registry, store: o.Store, accounts: o.Accounts, log: o.Logger, version: o.Version, allow: o.Allowance,
		origin: http.NewCrossOriginProtection(), limits: metering.NewWindows(limitWindow), oauth: o.OAuth}
	d.secure = u.Scheme == "https"
	if !d.secure && !loopback(u.Hostname()) {
		o.Logger.Warn("the dashboard's public URL is http on a non-loopback host: browsers will not keep its Secure session "+
			"cookie, so nobody can sign in; serve it over https (--public-url https://…)", "public_url", o.PublicURL)
		d.secure = true
	}
	d.cookie = "relm_session"
	if d.secure {
		d.cookie = "__Host-relm_session"
	}
	if d.pages, err = parsePages(); err != nil {
		return nil, err
	}
	d.origin.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.errorPage(w, r, http.StatusForbidden, "This request came from another site, so it was refused and nothing changed. "+
			"If you meant to do this, do it from Relm's own pages.")
	}))
	return d, nil
}

// loopback reports whether host names this machine.
func loopback(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// parsePages parses each page template with the layout it fills.
func parsePages() (map[string]*template.Template, error) {
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(templateFiles, n)
		if err != nil {
			return nil, err
		}
		pages[name] = t
	}
	return pages, nil
}

// Register adds the dashboard's routes to mux.
func (d *Dashboard) Register(mux *http.ServeMux) {
	static, _ := fs.Sub(staticFiles, "static")
	mux.Handle("GET /static/", d.headers(http.StripPrefix("/static/", http.FileServerFS(static))))
	d.routeSignIn(mux)
	d.routeWorkspaces(mux)
	d.routeKeys(mux)
	d.routeActions(mux)
	if d.oauth != nil {
		d.routeOAuth(mux)
	}
	for _, route := range pageRoutes {
		mux.Handle(route.pattern, d.member(route.handle))
	}
}

// pageRoutes are the pages of a workspace, each in its own file; they register here.
var pageRoutes []pageRoute

type pageRoute struct {
	pattern string
	handle  func(*Dashboard, http.ResponseWriter, *http.Request, *visit)
}

// page adds a page of a workspace to the dashboard.
func page(pattern string, handle func(*Dashboard, http.ResponseWriter, *http.Request, *visit)) bool {
	pageRoutes = append(pageRoutes, pageRoute{pattern, handle})
	return true
}

// headers sets the security headers every dashboard response carries: nothing runs or loads
// from another origin, and no page can be framed.
func (d *Dashboard) headers(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		if d.secure {
			hd.Set("Strict-Transport-Security", "max-age=31536000")
		}
		h.ServeHTTP(w, r)
	})
}

// guard is headers plus cross-origin protection of every state-changing request (Go's
// http.CrossOriginProtection: a browser's cross-site POST is refused with 403).
func (d *Dashboard) guard(h http.Handler) http.Handler {
	return d.headers(d.origin.Handler(h))
}
