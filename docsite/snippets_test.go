package docsite_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/relmcrm/relm/webhooks"
)

// codeUnder returns the fenced code block that follows the line heading in text (a page
// in Markdown, such as /llms-full.txt).
func codeUnder(t *testing.T, text, heading string) string {
	t.Helper()
	_, rest, ok := strings.Cut(text, "\n"+heading+"\n")
	if !ok {
		t.Fatalf("no %q in the page", heading)
	}
	_, rest, ok1 := strings.Cut(rest, "```")
	_, rest, ok2 := strings.Cut(rest, "\n")
	code, _, ok3 := strings.Cut(rest, "\n```")
	if !ok1 || !ok2 || !ok3 {
		t.Fatalf("no code block under %q", heading)
	}
	return code
}

// between returns the lines of a file between its "--- begin" and "--- end" marker lines,
// as the webhooks package's tests mark the verifiers they run.
func between(t *testing.T, file string) string {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok1 := strings.Cut(string(src), "--- begin")
	_, rest, ok2 := strings.Cut(rest, "\n")
	code, _, ok3 := strings.Cut(rest, "--- end")
	if !ok1 || !ok2 || !ok3 {
		t.Fatalf("%s lacks the begin and end markers", file)
	}
	return strings.TrimRight(code[:strings.LastIndexByte(code, '\n')+1], "\n")
}

// TestWebhookVerifiersAreTested checks that the verifiers the pages show are, verbatim,
// the ones the webhooks package's tests run against the signatures webhooks.Sign makes.
func TestWebhookVerifiersAreTested(t *testing.T) {
	t.Parallel()
	full := get(t, docServer(t), "/llms-full.txt", textType)
	for heading, file := range map[string]string{
		"### Go (standard library)": "../webhooks/plain_test.go",
		"### Node":                  "../webhooks/testdata/verify-all.mjs",
		"### Python":                "../webhooks/testdata/verify.py",
	} {
		if got, want := codeUnder(t, full, heading), between(t, file); got != want {
			t.Errorf("the pages' %s verifier is not the code of %s:\n%s", heading, file, got)
		}
	}
}

// interpreter finds name on PATH. In CI (CI=true) node must be there (.ci/run needs it);
// python3 and a missing node elsewhere skip the test.
func interpreter(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if name == "node" && os.Getenv("CI") == "true" {
		t.Fatalf("node is not installed, and CI must run this check: %v", err)
	}
	t.Skipf("%s is not installed: skipping the run of the pages' %s snippets", name, name)
	return ""
}

// TestWebhookVerifiersRun runs the Node and Python verifiers as the pages show them on
// deliveries signed by webhooks.Sign: good signatures pass (either secret of a
// rotation), forged, altered or stale ones fail.
func TestWebhookVerifiersRun(t *testing.T) {
	t.Parallel()
	full := get(t, docServer(t), "/llms-full.txt", textType)
	const (
		secret = "whsec_Zm9yLXRlc3RzLW9ubHktbmV3LXNlY3JldC0wMDAwMDAwMDAwMDA"
		old    = "whsec_Zm9yLXRlc3RzLW9ubHktb2xkLXNlY3JldC0wMDAwMDAwMDAwMDA"
		body   = `{"id":"evt_1","type":"contact.created","data":{"first_name":"Zoë"}}`
	)
	now := time.Now()
	cases := []struct {
		name, header, secret, body string
		ok                         bool
	}{
		{"signed now", webhooks.Sign([]byte(body), now, secret), secret, body, true},
		{"rotation, previous secret", webhooks.Sign([]byte(body), now, secret, old), old, body, true},
		{"wrong secret", webhooks.Sign([]byte(body), now, old), secret, body, false},
		{"body altered", webhooks.Sign([]byte(body), now, secret), secret, body + " ", false},
		{"signed 6 minutes ago", webhooks.Sign([]byte(body), now.Add(-6*time.Minute), secret), secret, body, false},
	}
	for _, lang := range []struct{ interpreter, heading, file, harness string }{
		{"node", "### Node", "verify.mjs", `
import { readFileSync } from "node:fs"
try {
  verifyRelmSignature(process.argv[2], readFileSync(0), process.argv[3])
  console.log("ok")
} catch (err) {
  console.log(err.message)
  process.exit(1)
}
`},
		{"python3", "### Python", "verify.py", `
import sys
try:
    verify_relm_signature(sys.argv[1], sys.stdin.buffer.read(), sys.argv[2])
except ValueError as err:
    print(err)
    sys.exit(1)
print("ok")
`},
	} {
		t.Run(lang.interpreter, func(t *testing.T) {
			t.Parallel()
			bin := interpreter(t, lang.interpreter)
			script := filepath.Join(t.TempDir(), lang.file)
			if err := os.WriteFile(script, []byte(codeUnder(t, full, lang.heading)+"\n"+lang.harness), 0o600); err != nil {
				t.Fatal(err)
			}
			for _, c := range cases {
				cmd := exec.CommandContext(t.Context(), bin, script, c.header, c.secret)
				cmd.Stdin = strings.NewReader(c.body)
				out, err := cmd.CombinedOutput()
				if ok := err == nil && bytes.Equal(bytes.TrimSpace(out), []byte("ok")); ok != c.ok {
					t.Errorf("%s: accepted=%v, want %v (%v)\n%s", c.name, ok, c.ok, err, out)
				}
			}
		})
	}
}

// TestConnectConfigs checks that the MCP client configurations the pages show are valid
// JSON naming this server's /mcp, or the relm mcp command.
func TestConnectConfigs(t *testing.T) {
	t.Parallel()
	full := get(t, docServer(t), "/llms-full.txt", textType)
	section, _, _ := strings.Cut(full[strings.Index(full, "\n## Connect an MCP client\n"):], "\n## Conventions\n")
	n := 0
	for _, part := range strings.Split(section, "```json\n")[1:] {
		config, _, _ := strings.Cut(part, "\n```")
		var v struct {
			MCPServers map[string]struct {
				URL     string
				Command string
				Args    []string
				Env     map[string]string
				Headers map[string]string
			} `json:"mcpServers"`
		}
		if err := json.Unmarshal([]byte(config), &v); err != nil {
			t.Errorf("not JSON: %v\n%s", err, config)
			continue
		}
		s, ok := v.MCPServers["relm"]
		switch {
		case !ok:
			t.Errorf("no mcpServers.relm in\n%s", config)
		case s.URL != "":
			if s.URL != publicURL+"/mcp" || s.Headers["Authorization"] != "Bearer sk_test_…" {
				t.Errorf("the URL or key header is wrong in\n%s", config)
			}
		case s.Command == "npx":
			if !strings.Contains(strings.Join(s.Args, " "), "mcp-remote "+publicURL+"/mcp --header Authorization: Bearer sk_test_…") {
				t.Errorf("the mcp-remote arguments are wrong in\n%s", config)
			}
		case s.Command == "relm":
			if strings.Join(s.Args, " ") != "mcp" || s.Env["RELM_API_KEY"] == "" {
				t.Errorf("relm mcp is configured wrong in\n%s", config)
			}
		default:
			t.Errorf("unexpected configuration\n%s", config)
		}
		n++
	}
	if n != 3 {
		t.Errorf("%d JSON configurations, want 3 (Claude Desktop twice, Cursor)", n)
	}
	if !strings.Contains(section, `claude mcp add --transport http relm `+publicURL+`/mcp --header "Authorization: Bearer sk_test_…"`) {
		t.Error("no Claude Code command")
	}
}
