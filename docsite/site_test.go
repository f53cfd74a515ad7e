package docsite_test

import (
	"encoding/xml"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/relmcrm/relm/internal/testkit"
	"github.com/relmcrm/relm/prompts"
	"github.com/relmcrm/relm/resources"
	"github.com/relmcrm/relm/server"
	"github.com/relmcrm/relm/tools"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// publicURL is the public URL the test server is configured with.
const publicURL = "https://crm.example.com"

// docServer is the server without a database, as `relm openapi` builds it: the pages
// need none. The tests share it, since they only read.
func docServer(t *testing.T) *server.Server {
	t.Helper()
	srv, err := sharedServer()
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

var sharedServer = sync.OnceValues(func() (*server.Server, error) {
	return server.New(server.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), PublicURL: publicURL})
})

// get fetches path from srv without a key, checking it answers 200 with contentType and
// may be cached publicly.
func get(t *testing.T, srv http.Handler, path, contentType string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
	}
	if got := rec.Header().Get("Content-Type"); got != contentType {
		t.Errorf("GET %s: Content-Type %q, want %q", path, got, contentType)
	}
	if got := rec.Header().Get("Cache-Control"); got != "public, max-age=300" {
		t.Errorf("GET %s: Cache-Control %q", path, got)
	}
	return rec.Body.String()
}

const (
	htmlType = "text/html; charset=utf-8"
	textType = "text/plain; charset=utf-8"
)

// TestDocsCoverRegistry checks that /docs and /llms-full.txt name every tool with its
// anchor, every REST route (aliases too) and every error code with its status: a
// capability or code added to the code appears on them or fails here.
func TestDocsCoverRegistry(t *testing.T) {
	t.Parallel()
	srv := docServer(t)
	page := get(t, srv, "/docs", htmlType)
	full := get(t, srv, "/llms-full.txt", textType)
	for _, e := range srv.Registry.Entries() {
		if !strings.Contains(page, `id="`+e.Name+`"`) {
			t.Errorf("/docs has no anchor for tool %s", e.Name)
		}
		if !strings.Contains(full, "#### "+e.Name+" — ") {
			t.Errorf("/llms-full.txt has no entry for tool %s", e.Name)
		}
		for _, r := range append([]tools.Route{*e.REST}, e.Aliases...) {
			route := r.Method + " " + r.Path
			if !strings.Contains(page, "<code>"+route+"</code>") {
				t.Errorf("/docs does not show %s's route %s", e.Name, route)
			}
			if !strings.Contains(full, "REST: "+route+" → "+strconv.Itoa(r.Status)) {
				t.Errorf("/llms-full.txt does not show %s's route %s", e.Name, route)
			}
		}
		if props, _ := e.MCPInputSchema()["properties"].(map[string]any); props != nil {
			for name := range props {
				if !strings.Contains(full, "\n- "+name+" (") {
					t.Errorf("/llms-full.txt lacks argument %s of %s", name, e.Name)
				}
			}
		}
	}
	for code, status := range tools.Codes {
		row := `<tr id="error-` + string(code) + `"><td><code>` + string(code) + `</code></td><td>` + strconv.Itoa(status) + `</td>`
		if !strings.Contains(page, row) {
			t.Errorf("/docs lacks the row of error code %s (%d)", code, status)
		}
		if !strings.Contains(full, "\n- "+string(code)+" ("+strconv.Itoa(status)+"): ") {
			t.Errorf("/llms-full.txt lacks error code %s (%d)", code, status)
		}
	}
}

// TestDocsHTML checks that /docs and /changelog are well-formed documents with a viewport,
// unique anchors that every in-page link finds, and nothing loaded from elsewhere: no
// scripts, stylesheets or images. They are written as XHTML-compatible HTML so that a
// strict XML parse can check their nesting.
func TestDocsHTML(t *testing.T) {
	t.Parallel()
	srv := docServer(t)
	for _, path := range []string{"/docs", "/changelog"} {
		page := get(t, srv, path, htmlType)
		ids, links := map[string]bool{}, []string{}
		d := xml.NewDecoder(strings.NewReader(strings.TrimPrefix(page, "<!DOCTYPE html>\n")))
		for {
			tok, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s is not well-formed: %v", path, err)
			}
			el, ok := tok.(xml.StartElement)
			if !ok {
				continue
			}
			switch el.Name.Local {
			case "script", "iframe", "img", "object", "embed":
				t.Errorf("%s has a <%s>", path, el.Name.Local)
			}
			for _, a := range el.Attr {
				switch a.Name.Local {
				case "id":
					if ids[a.Value] {
						t.Errorf("%s: id %q is used twice", path, a.Value)
					}
					ids[a.Value] = true
				case "href":
					if strings.HasPrefix(a.Value, "#") {
						links = append(links, a.Value[1:])
					} else if !strings.HasPrefix(a.Value, publicURL+"/") {
						t.Errorf("%s links to %s, off this server", path, a.Value)
					}
				case "src":
					t.Errorf("%s loads %s", path, a.Value)
				}
			}
		}
		for _, l := range links {
			if !ids[l] {
				t.Errorf("%s links to #%s, which it lacks", path, l)
			}
		}
		if !strings.Contains(page, `<meta name="viewport" content="width=device-width, initial-scale=1" />`) {
			t.Errorf("%s has no viewport", path)
		}
	}
}

// TestDocsNeedNoKey: every page answers without an API key, the old viewer is gone, and
// the OpenAPI documents are still served.
func TestDocsNeedNoKey(t *testing.T) {
	t.Parallel()
	srv := docServer(t)
	get(t, srv, "/changelog.rss", "application/rss+xml; charset=utf-8")
	get(t, srv, "/llms.txt", textType)
	page := get(t, srv, "/docs", htmlType)
	if strings.Contains(page, "<script") || strings.Contains(page, "unpkg.com") {
		t.Error("/docs still loads a script")
	}
	for _, path := range []string{"/openapi.json", "/openapi.yaml"} {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusOK {
			t.Errorf("GET %s: %d", path, rec.Code)
		}
	}
}

// llmsLink is a link line of llms.txt: - [title](url) or - [title](url): note.
var llmsLink = regexp.MustCompile(`^- \[[^\]]+\]\((https?://[^)\s]+)\)(: .+)?$`)

// TestLLMsTxt checks /llms.txt against the llms.txt convention (an H1, a blockquote
// summary, H2 sections of link lists) and that its links are absolute, on this server,
// and name every toolset.
func TestLLMsTxt(t *testing.T) {
	t.Parallel()
	srv := docServer(t)
	txt := get(t, srv, "/llms.txt", textType)
	if !strings.HasPrefix(txt, "# Relm\n\n> ") {
		t.Errorf("/llms.txt does not start with the H1 and the summary:\n%.200s", txt)
	}
	section := ""
	for line := range strings.SplitSeq(txt, "\n") {
		switch {
		case strings.HasPrefix(line, "## "):
			section = line
		case section != "" && strings.HasPrefix(line, "- "):
			m := llmsLink.FindStringSubmatch(line)
			if m == nil {
				t.Errorf("/llms.txt: %q is not a link line", line)
			} else if !strings.HasPrefix(m[1], publicURL+"/") {
				t.Errorf("/llms.txt: %s is not on this server", m[1])
			}
		case section != "" && line != "":
			t.Errorf("/llms.txt: %q in %s is not a link line", line, section)
		}
	}
	for _, s := range []string{"## Docs", "## Tools", "## Optional"} {
		if !strings.Contains(txt, "\n"+s+"\n") {
			t.Errorf("/llms.txt has no %s section", s)
		}
	}
	for _, ts := range srv.Registry.Toolsets() {
		if !strings.Contains(txt, "- ["+ts+"]("+publicURL+"/docs#toolset-"+ts+"): ") {
			t.Errorf("/llms.txt does not link toolset %s", ts)
		}
	}
	for _, e := range srv.Registry.Entries() {
		if !regexp.MustCompile(`\]\(` + regexp.QuoteMeta(publicURL+"/docs#toolset-"+e.Toolset) + `\): (.*, )?` + e.Name + `(,|\n)`).MatchString(txt) {
			t.Errorf("/llms.txt does not list %s under its toolset %s", e.Name, e.Toolset)
		}
	}
}

// TestGoldenLLMsTxt pins /llms.txt, the short index a model reads first, so a reviewer
// sees it change; `go test ./docsite -run Golden -update` rewrites it.
func TestGoldenLLMsTxt(t *testing.T) {
	t.Parallel()
	got := []byte(get(t, docServer(t), "/llms.txt", textType))
	testkit.Golden(t, "testdata/llms.golden.txt", got, *update, "If /llms.txt changed on purpose, run `go test ./docsite -run Golden -update` and review the diff.")
}

// TestPagesListResourcesAndPrompts: /docs and /llms-full.txt name every MCP resource and
// prompt with each of its arguments.
func TestPagesListResourcesAndPrompts(t *testing.T) {
	t.Parallel()
	h := docServer(t)
	html, full := get(t, h, "/docs", htmlType), get(t, h, "/llms-full.txt", textType)
	for _, r := range resources.Describe() {
		for page, body := range map[string]string{"/docs": html, "/llms-full.txt": full} {
			if !strings.Contains(body, r.URI) {
				t.Errorf("%s lacks the resource %s", page, r.URI)
			}
		}
	}
	for _, p := range prompts.Describe() {
		for page, body := range map[string]string{"/docs": html, "/llms-full.txt": full} {
			if !strings.Contains(body, p.Name) {
				t.Errorf("%s lacks the prompt %s", page, p.Name)
			}
			for _, a := range p.Args {
				if !strings.Contains(body, a.Name) {
					t.Errorf("%s lacks the argument %s of the prompt %s", page, a.Name, p.Name)
				}
			}
		}
	}
}
