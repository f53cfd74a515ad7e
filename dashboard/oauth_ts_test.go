package dashboard_test

import (
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relmcrm/relm/internal/testkit"
)

// TestOAuthTypeScriptSDKClient: the official MCP TypeScript SDK's OAuth client, a second
// client independent of the go-sdk, completes discovery, registration, consent (its script
// plays the signed-in person's browser with their session cookie), the exchange, a tool call
// and a refresh (server/testdata/tsclient/oauth.mjs). It uses the SDK installed for the
// server's interoperability test: without Node.js or `npm ci` in server/testdata/tsclient it
// is skipped, saying why (under CI=true it fails).
func TestOAuthTypeScriptSDKClient(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		testkit.SkipUnlessCI(t, "node is not installed")
	}
	dir := filepath.Join("..", "server", "testdata", "tsclient")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@modelcontextprotocol", "sdk")); err != nil {
		testkit.SkipUnlessCI(t, "run `npm ci` in server/testdata/tsclient to enable this test")
	}
	e := setup(t)
	b := e.owner("ann@example.com", "Ann's")
	u, _ := url.Parse(e.URL)
	var cookies []string
	for _, c := range b.client.Jar.Cookies(u) {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	cmd := exec.CommandContext(t.Context(), node, "oauth.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "RELM_URL="+e.URL, "RELM_COOKIE="+strings.Join(cookies, "; "))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("TypeScript SDK OAuth client failed: %v\n%s", err, out)
	}
	var summary struct {
		OK       bool   `json:"ok"`
		Scope    string `json:"scope"`
		ClientID string `json:"client_id"`
	}
	if err := json.Unmarshal(out, &summary); err != nil || !summary.OK || summary.Scope != "read write" || !strings.HasPrefix(summary.ClientID, "rc_") {
		t.Fatalf("unexpected client output: %s", out)
	}
}
