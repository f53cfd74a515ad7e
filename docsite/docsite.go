// Package docsite renders Relm's public documentation pages from the capability registry
// and the prose kept beside it: /docs (HTML), /llms.txt and /llms-full.txt (for language
// models), /changelog and /changelog.rss. A new tool, route, field or error code appears
// on them without a hand edit. Each server renders them once, when first asked.
package docsite

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"net/http"
	"slices"
	"strings"
	"sync"
	texttemplate "text/template"

	"github.com/danielgtaylor/huma/v2"
	"github.com/relmcrm/relm/docs"
	"github.com/relmcrm/relm/prompts"
	"github.com/relmcrm/relm/resources"
	"github.com/relmcrm/relm/tools"
)

//go:embed templates prose
var files embed.FS

// Icon is Relm's icon, served at IconPath and named in the MCP server's info.
//
//go:embed icon.svg
var Icon []byte

// IconPath is where a Site serves Icon.
const IconPath = "/icon.svg"

// Options are what the pages say about the server that serves them.
type Options struct {
	PublicURL  string // where clients reach the server, without a trailing slash
	APIVersion string // the wire contract version (Relm-Version)
	Version    string // the build version
}

// Site renders the pages on their first request (rendering takes tens of milliseconds,
// which servers that are never asked for them, such as most tests', need not spend) and
// serves them from memory after that.
type Site struct {
	pages func() (map[string]page, error)
}

// page is one rendered document.
type page struct {
	contentType string
	body        []byte
}

// New prepares the pages of reg, whose REST routes doc (the OpenAPI document) describes:
// it reads the registry, the prose and the changelog, and fails if any is inconsistent.
func New(reg *tools.Registry, doc *huma.OpenAPI, opt Options) (*Site, error) {
	d, err := newData(reg, doc, opt)
	if err != nil {
		return nil, err
	}
	funcs := map[string]any{"join": strings.Join}
	html, err := htmltemplate.New("").Funcs(funcs).ParseFS(files, "templates/*.html")
	if err != nil {
		return nil, err
	}
	text, err := texttemplate.New("").Funcs(funcs).ParseFS(files, "templates/*.txt")
	if err != nil {
		return nil, err
	}
	return &Site{pages: sync.OnceValues(func() (map[string]page, error) { return render(d, html, text) })}, nil
}

// render renders every page of d.
func render(d *data, html *htmltemplate.Template, text *texttemplate.Template) (map[string]page, error) {
	pages := map[string]page{}
	add := func(path, contentType string, execute func(*bytes.Buffer) error) error {
		var b bytes.Buffer
		if err := execute(&b); err != nil {
			return fmt.Errorf("docsite: %s: %w", path, err)
		}
		pages[path] = page{contentType, b.Bytes()}
		return nil
	}
	for path, name := range map[string]string{"/docs": "docs.html", "/changelog": "changelog.html"} {
		if err := add(path, "text/html; charset=utf-8", func(b *bytes.Buffer) error { return html.ExecuteTemplate(b, name, d) }); err != nil {
			return nil, err
		}
	}
	for path, name := range map[string]string{"/llms.txt": "llms.txt", "/llms-full.txt": "llms-full.txt"} {
		if err := add(path, "text/plain; charset=utf-8", func(b *bytes.Buffer) error { return text.ExecuteTemplate(b, name, d) }); err != nil {
			return nil, err
		}
	}
	feed, err := changelogRSS(d.Changelog, d.URL, html.Lookup("entry-body"))
	if err != nil {
		return nil, fmt.Errorf("docsite: /changelog.rss: %w", err)
	}
	pages["/changelog.rss"] = page{"application/rss+xml; charset=utf-8", feed}
	pages[IconPath] = page{"image/svg+xml", Icon}
	return pages, nil
}

// paths are the pages a Site serves.
var paths = []string{"/docs", "/llms.txt", "/llms-full.txt", "/changelog", "/changelog.rss", IconPath}

// Register serves the pages on mux, without authentication. A page that cannot be
// rendered (a bug the package's tests catch) answers 500.
func (s *Site) Register(mux *http.ServeMux) {
	registerToolIcons(mux)
	for _, path := range paths {
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) {
			pages, err := s.pages()
			if err != nil {
				http.Error(w, "The documentation could not be rendered: "+err.Error(), http.StatusInternalServerError)
				return
			}
			p := pages[path]
			h := w.Header()
			h.Set("Content-Type", p.contentType)
			h.Set("Cache-Control", "public, max-age=300")
			h.Set("X-Content-Type-Options", "nosniff")
			if strings.HasPrefix(p.contentType, "text/html") {
				// Nothing from other hosts, no scripts: the pages are plain documents.
				h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
			}
			_, _ = w.Write(p.body)
		})
	}
}

// data is what the templates render.
type data struct {
	URL, MCPURL, APIVersion, Version string

	Quickstart                 []snippet
	Connect, Conventions       []block
	ConnectTOC, ConventionsTOC []block
	ConnectText                string // Markdown, for llms-full.txt
	ConventionsText            string
	Webhooks                   []block
	WebhooksText               string
	Verifiers                  []snippet
	Errors                     []errorCode
	Toolsets                   []toolset
	Resources                  []resources.Info
	Prompts                    []prompts.Info
	Changelog                  []entry
}

func newData(reg *tools.Registry, doc *huma.OpenAPI, opt Options) (*data, error) {
	d := &data{URL: strings.TrimSuffix(opt.PublicURL, "/"), APIVersion: opt.APIVersion, Version: opt.Version}
	d.MCPURL = d.URL + "/mcp"
	d.Resources, d.Prompts = resources.Describe(), prompts.Describe()
	var err error
	if d.Toolsets, err = buildReference(reg, doc); err != nil {
		return nil, err
	}
	if d.Errors, err = errorCodes(docs.Errors); err != nil {
		return nil, err
	}
	if d.Verifiers, err = verifiers(docs.Webhooks); err != nil {
		return nil, err
	}
	if d.Changelog, err = parseChangelog(changelogSource); err != nil {
		return nil, err
	}
	vars := map[string]string{"URL": d.URL, "MCPURL": d.MCPURL, "APIVersion": d.APIVersion,
		"FilterOps": filterOps(d.Toolsets), "NoIdempotency": noIdempotency(reg)}
	for _, q := range []struct{ file, id, title, lang string }{
		{"curl.sh", "quickstart-curl", "curl", "sh"},
		{"fetch.mjs", "quickstart-fetch", "JavaScript (fetch)", "js"},
		{"requests.py", "quickstart-python", "Python (requests)", "python"},
	} {
		code, err := prose("prose/quickstart/"+q.file, vars)
		if err != nil {
			return nil, err
		}
		d.Quickstart = append(d.Quickstart, snippet{ID: q.id, Title: q.title, Lang: q.lang, Code: strings.TrimSuffix(code, "\n")})
	}
	if d.ConnectText, err = prose("prose/connect.md", vars); err != nil {
		return nil, err
	}
	if d.ConventionsText, err = prose("prose/conventions.md", vars); err != nil {
		return nil, err
	}
	if d.WebhooksText, err = prose("prose/webhooks.md", vars); err != nil {
		return nil, err
	}
	d.Connect, d.Conventions, d.Webhooks = parseMarkdown(d.ConnectText), parseMarkdown(d.ConventionsText), parseMarkdown(d.WebhooksText)
	d.ConnectTOC, d.ConventionsTOC = headings(d.Connect), headings(d.Conventions)
	return d, nil
}

// prose is an embedded prose file with vars filled in.
func prose(name string, vars map[string]string) (string, error) {
	t, err := texttemplate.ParseFS(files, name)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := t.Execute(&b, vars); err != nil {
		return "", fmt.Errorf("docsite: %s: %w", name, err)
	}
	return b.String(), nil
}

// headings are the headings among blocks, for a table of contents.
func headings(blocks []block) []block {
	var out []block
	for _, b := range blocks {
		if b.Kind == "h2" || b.Kind == "h3" {
			out = append(out, b)
		}
	}
	return out
}

// filterOps names every filter operator the lists take, in the order the kinds give them.
func filterOps(sets []toolset) string {
	var ops []string
	for _, ts := range sets {
		for _, c := range ts.Tools {
			for _, f := range c.Filters {
				for _, op := range f.Ops {
					if !slices.Contains(ops, op) {
						ops = append(ops, op)
					}
				}
			}
		}
	}
	for i, op := range ops {
		ops[i] = "`" + op + "`"
	}
	return strings.Join(ops, ", ")
}

// noIdempotency names the POST tools that take no idempotency key: their results hold a
// secret that is never stored.
func noIdempotency(reg *tools.Registry) string {
	var names []string
	for _, e := range reg.Entries() {
		if e.REST.Method == http.MethodPost && !e.AcceptsIdempotencyKey() {
			names = append(names, "`"+e.Name+"`")
		}
	}
	switch len(names) {
	case 0:
		return "none"
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
