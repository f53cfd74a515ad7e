package server_test

import (
	"bytes"
	"encoding/json"
	"github.com/relmcrm/relm/internal/testkit"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/relmcrm/relm/server"
)

// notStrict are the tools whose input schemas the OpenAI Agents SDK cannot convert to
// strict function schemas, by the reason docs/api.md ("Strict function schemas") explains:
// strict mode has no free-form object.
var notStrict = map[string]string{
	// metadata is free-form: keys are the workspace's own (custom fields and any others).
	"create_contact": "metadata", "update_contact": "metadata", "batch_upsert_contacts": "metadata",
	"create_company": "metadata", "update_company": "metadata", "create_deal": "metadata", "update_deal": "metadata",
	"log_activity": "metadata", "update_activity": "metadata",
	// filter is open: a condition per field of the record, and metadata->>KEY for any key.
	"list_contacts": "filter", "list_companies": "filter", "list_deals": "filter", "list_activities": "filter",
	"list_associations": "filter", "list_events": "filter", "list_request_logs": "filter", "list_webhooks": "filter",
	"list_webhook_deliveries": "filter", "list_automations": "filter", "list_automation_runs": "filter", "list_emails": "filter",
	// arguments are those of the tool named in tool, whichever it is.
	"preview_change": "arguments",
}

// TestStrictFunctionSchemas converts every tool, as tools/list publishes it, with the
// OpenAI Agents SDK's mcpToFunctionTool (strict on) run by node, and fails when the set of
// tools it cannot make strict differs from notStrict: a tool newly non-strict is a
// regression to fix or explain, one newly strict comes off the list.
func TestStrictFunctionSchemas(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		testkit.SkipUnlessCI(t, "node is not installed")
	}
	dir := filepath.Join("testdata", "tsclient")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@openai", "agents-core")); err != nil {
		testkit.SkipUnlessCI(t, "run `npm ci` in server/testdata/tsclient to enable this test")
	}
	srv, err := server.New(server.Config{})
	if err != nil {
		t.Fatal(err)
	}
	list, err := docSession(t, srv, "").ListTools(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, sel := range optInSelections() { // and the tools of chatgpt, which all leaves out
		more, err := docSessionOf(t, srv, sel, "").ListTools(t.Context(), nil)
		if err != nil {
			t.Fatal(err)
		}
		list.Tools = append(list.Tools, more.Tools...)
	}
	input, err := json.Marshal(list.Tools)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), node, "strict.mjs")
	cmd.Dir, cmd.Stdin = dir, bytes.NewReader(input)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("strict.mjs: %v\n%s", err, out)
	}
	var got struct {
		Strict    []string          `json:"strict"`
		NotStrict map[string]string `json:"not_strict"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("strict.mjs printed %s", out)
	}
	var names []string
	for name, reason := range got.NotStrict {
		names = append(names, name)
		if _, known := notStrict[name]; !known {
			t.Errorf("%s is not strict-convertible: %s", name, reason)
		}
	}
	slices.Sort(names)
	for name := range notStrict {
		if _, still := got.NotStrict[name]; !still {
			t.Errorf("%s is strict-convertible now: take it off notStrict and docs/api.md", name)
		}
	}
	t.Logf("%d of %d tools strict-convertible; not: %s", len(got.Strict), len(list.Tools), strings.Join(names, ", "))
}
