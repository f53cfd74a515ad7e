package server_test

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDocsQuickstart runs the quickstart of /docs, as /llms-full.txt shows it, against a
// running server with a test key: curl, JavaScript fetch and Python requests each create
// Ada (the same Idempotency-Key, so the later ones replay the first) and list her. A
// missing interpreter skips its language; in CI node must be there.
func TestDocsQuickstart(t *testing.T) {
	t.Parallel()
	e := setup(t)
	res, err := http.Get(e.URL + "/llms-full.txt") // no key: the pages are public
	if err != nil {
		t.Fatal(err)
	}
	page, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET /llms-full.txt: %d %v", res.StatusCode, err)
	}
	for _, q := range []struct{ heading, bin, file string }{
		{"### curl", "bash", "quickstart.sh"},
		{"### JavaScript (fetch)", "node", "quickstart.mjs"},
		{"### Python (requests)", "python3", "quickstart.py"},
	} {
		code := quickstartCode(t, string(page), q.heading)
		bin, err := exec.LookPath(q.bin)
		if err == nil && q.bin == "bash" {
			_, err = exec.LookPath("curl")
		}
		if err == nil && q.bin == "python3" {
			err = exec.Command(bin, "-c", "import requests").Run()
		}
		if err != nil {
			if q.bin == "node" && os.Getenv("CI") == "true" {
				t.Fatalf("node is needed in CI: %v", err)
			}
			t.Logf("skipping the %s quickstart: %v", q.heading, err)
			continue
		}
		if q.bin == "bash" { // the snippet sets RELM_URL and RELM_KEY for the reader; the test gives them
			var lines []string
			for l := range strings.SplitSeq(code, "\n") {
				if !strings.HasPrefix(l, "export ") {
					lines = append(lines, l)
				}
			}
			code = "set -eu\n" + strings.Join(lines, "\n")
		}
		script := filepath.Join(t.TempDir(), q.file)
		if err := os.WriteFile(script, []byte(code+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.CommandContext(t.Context(), bin, script)
		cmd.Env = append(os.Environ(), "RELM_URL="+e.URL, "RELM_KEY="+e.Test)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "con_") || !strings.Contains(string(out), "ada@example.com") {
			t.Errorf("%s quickstart: %v\n%s", q.heading, err, out)
		}
	}
}

// quickstartCode is the code block under heading in page.
func quickstartCode(t *testing.T, page, heading string) string {
	t.Helper()
	_, rest, ok := strings.Cut(page, "\n"+heading+"\n\n```")
	_, rest, ok2 := strings.Cut(rest, "\n")
	code, _, ok3 := strings.Cut(rest, "\n```")
	if !ok || !ok2 || !ok3 {
		t.Fatalf("/llms-full.txt has no code under %q", heading)
	}
	return code
}
