package server_test

import (
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/relmcrm/relm/docsite"
)

// TestToolIcons: every tool in tools/list names its toolset's SVG icon, each toolset has a
// drawing of its own, and the server serves it.
func TestToolIcons(t *testing.T) {
	t.Parallel()
	e := setup(t)
	list, err := e.mcpSession(e.Live, "").ListTools(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	served := map[string]bool{}
	for _, tl := range list.Tools {
		if len(tl.Icons) != 1 || tl.Icons[0].MIMEType != "image/svg+xml" {
			t.Fatalf("%s: icons %+v, want one SVG", tl.Name, tl.Icons)
		}
		u, err := url.Parse(tl.Icons[0].Source)
		if err != nil || u.Path == docsite.IconPath {
			t.Errorf("%s: icon %s is not its toolset's own (%v)", tl.Name, tl.Icons[0].Source, err)
			continue
		}
		if served[u.Path] {
			continue
		}
		served[u.Path] = true
		res, err := http.Get(e.URL + u.Path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/svg+xml" || xml.Unmarshal(body, new(struct{})) != nil ||
			!strings.HasPrefix(string(body), "<svg ") {
			t.Errorf("GET %s: %d %s %q", u.Path, res.StatusCode, res.Header.Get("Content-Type"), body)
		}
	}
	if len(served) < 10 {
		t.Fatalf("only %d toolset icons served", len(served))
	}
}
