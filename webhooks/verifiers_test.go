package webhooks_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/relmcrm/relm/webhooks"
)

// interpreter finds an interpreter for an independent verifier. Node is required in CI
// (CI=true), where a missing one fails the test; elsewhere a missing interpreter skips it.
func interpreter(t *testing.T, name string, requiredInCI bool) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if requiredInCI && os.Getenv("CI") == "true" {
		t.Fatalf("%s is not installed, and CI must run this check (%v)", name, err)
	}
	t.Skipf("%s is not installed: skipping the check of the %s verifier in testdata/", name, name)
	return ""
}

// verifierCase is one delivery given to an independent verifier.
type verifierCase struct {
	name    string
	header  string
	secret  string
	body    string
	accepts bool
}

// runVerifier runs interpreter on script with header and secret as arguments and body on
// stdin, and checks whether it accepted.
func runVerifier(t *testing.T, interpreter, script string, c verifierCase) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), interpreter, filepath.Join("testdata", script), c.header, c.secret)
	cmd.Stdin = strings.NewReader(c.body)
	out, err := cmd.CombinedOutput()
	accepted := err == nil && bytes.Equal(bytes.TrimSpace(out), []byte("ok"))
	if accepted != c.accepts {
		t.Errorf("%s: %s accepted=%v, want %v (exit: %v)\n%s", c.name, script, accepted, c.accepts, err, out)
	}
}

const (
	newSecret = "whsec_Zm9yLXRlc3RzLW9ubHktbmV3LXNlY3JldC0wMDAwMDAwMDAwMDA"
	oldSecret = "whsec_Zm9yLXRlc3RzLW9ubHktb2xkLXNlY3JldC0wMDAwMDAwMDAwMDA"
	utf8Body  = `{"id":"evt_1","type":"contact.created","data":{"first_name":"Zoë","note":"🚀 \u2028"}}`
)

// TestReferenceNodeSnippet runs the reference docs' Node snippet, unchanged, on what Sign
// produces. It reads only the first v1 entry, the newest secret's: a receiver still on
// the rotated-out secret fails it during the 24 h overlap, which is why docs/webhooks.md
// tells receivers to check every v1 entry.
func TestReferenceNodeSnippet(t *testing.T) {
	t.Parallel()
	node := interpreter(t, "node", true)
	now := time.Now()
	one := webhooks.Sign([]byte(utf8Body), now, newSecret)
	two := webhooks.Sign([]byte(utf8Body), now, newSecret, oldSecret)
	for _, c := range []verifierCase{
		{"one secret", one, newSecret, utf8Body, true},
		{"rotation, receiver on the newest secret", two, newSecret, utf8Body, true},
		{"rotation, receiver still on the old secret (the snippet reads only the first v1)", two, oldSecret, utf8Body, false},
		{"wrong secret", one, oldSecret, utf8Body, false},
		{"body changed", one, newSecret, utf8Body + " ", false},
	} {
		runVerifier(t, node, "verify.mjs", c)
	}
}

// TestDocsVerifiers runs the Node and Python verifiers of docs/webhooks.md on what Sign
// produces: either secret of a rotation verifies, and a stale timestamp does not.
func TestDocsVerifiers(t *testing.T) {
	t.Parallel()
	cases := docsVerifierCases(time.Now())
	t.Run("node", func(t *testing.T) {
		t.Parallel()
		node := interpreter(t, "node", true)
		for _, c := range cases {
			runVerifier(t, node, "verify-all.mjs", c)
		}
	})
	t.Run("python", func(t *testing.T) {
		t.Parallel()
		python := interpreter(t, "python3", false)
		for _, c := range cases {
			runVerifier(t, python, "verify.py", c)
		}
	})
}

// docsVerifierCases are the deliveries every verifier of docs/webhooks.md must judge
// alike, signed around now.
func docsVerifierCases(now time.Time) []verifierCase {
	two := webhooks.Sign([]byte(utf8Body), now, newSecret, oldSecret)
	return []verifierCase{
		{"one secret", webhooks.Sign([]byte(utf8Body), now, newSecret), newSecret, utf8Body, true},
		{"rotation, newest secret", two, newSecret, utf8Body, true},
		{"rotation, old secret", two, oldSecret, utf8Body, true},
		{"signed 4 minutes ago", webhooks.Sign([]byte(utf8Body), now.Add(-4*time.Minute), newSecret), newSecret, utf8Body, true},
		{"wrong secret", two, "whsec_other", utf8Body, false},
		{"body changed", two, newSecret, utf8Body + " ", false},
		{"signed 6 minutes ago", webhooks.Sign([]byte(utf8Body), now.Add(-6*time.Minute), newSecret), newSecret, utf8Body, false},
		{"signed 6 minutes ahead", webhooks.Sign([]byte(utf8Body), now.Add(6*time.Minute), newSecret), newSecret, utf8Body, false},
		{"no v1", webhooks.Sign([]byte(utf8Body), now), newSecret, utf8Body, false},
		{"empty header", "", newSecret, utf8Body, false},
	}
}

// TestDocsExamplesAreTested checks that docs/webhooks.md shows the verifiers these tests
// run, verbatim: the code between the markers of each file.
func TestDocsExamplesAreTested(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(filepath.Join("..", "docs", "webhooks.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{"testdata/verify.mjs", "testdata/verify-all.mjs", "testdata/verify.py", "example_test.go", "plain_test.go"} {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		code := between(t, file, string(src))
		if !strings.Contains(string(doc), code) {
			t.Errorf("docs/webhooks.md does not show the code of %s verbatim:\n%s", file, code)
		}
	}
}

// between returns the lines of src between its "--- begin" and "--- end" marker lines.
func between(t *testing.T, file, src string) string {
	t.Helper()
	_, rest, ok1 := strings.Cut(src, "--- begin")
	_, rest, ok2 := strings.Cut(rest, "\n")
	code, _, ok3 := strings.Cut(rest, "--- end")
	if !ok1 || !ok2 || !ok3 {
		t.Fatalf("%s lacks the begin and end markers", file)
	}
	code = code[:strings.LastIndexByte(code, '\n')+1] // drop the comment leader of the end line
	return strings.TrimRight(code, "\n") + "\n"
}
