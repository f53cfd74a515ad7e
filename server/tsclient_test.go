package server_test

import (
	"encoding/json"
	"github.com/relmcrm/relm/internal/testkit"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestTypeScriptSDKClient drives the server with the official MCP TypeScript SDK, a second
// client independent of the go-sdk, which validates every structuredContent against its
// tool's outputSchema. It needs Node.js and `npm ci` in testdata/tsclient (.ci/run does
// both); without them it is skipped, saying why (under CI=true it fails).
func TestTypeScriptSDKClient(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		testkit.SkipUnlessCI(t, "node is not installed")
	}
	dir := filepath.Join("testdata", "tsclient")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@modelcontextprotocol", "sdk")); err != nil {
		testkit.SkipUnlessCI(t, "run `npm ci` in server/testdata/tsclient to enable this test")
	}
	e := setup(t)
	cmd := exec.CommandContext(t.Context(), node, "client.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "RELM_URL="+e.URL, "RELM_KEY="+e.Live)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("TypeScript SDK client failed: %v\n%s", err, out)
	}
	var summary struct {
		OK    bool `json:"ok"`
		Calls int  `json:"calls"`
	}
	if err := json.Unmarshal(out, &summary); err != nil || !summary.OK || summary.Calls < 14 {
		t.Fatalf("unexpected client output: %s", out)
	}
}
