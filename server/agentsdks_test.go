package server_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/relmcrm/relm/internal/testkit"
	"github.com/relmcrm/relm/tools"
)

// agentSDKGaps are the provider rejections TestAgentSDKsLoadEveryTool expects, each matched
// by library, provider and reason; one that no longer occurs must come off the list, and any
// other failure fails the test. All are LangChain's conversions for Gemini, whose parameters
// take one Schema message (providerrules.mjs) rather than JSON Schema.
var agentSDKGaps = []struct {
	libraries []string
	provider  string
	reason    *regexp.Regexp
}{
	// LangChain's: @langchain/google-genai drops only additionalProperties and $schema before
	// sending JSON Schema to Gemini, whose Schema has no uniqueItems field (400 "Unknown name")
	// and takes one type, not ["string","null"] (nullable fields of update_*); and
	// @langchain/mcp-adapters drops the non-object branches of an anyOf, which leaves
	// send_email's to and reply_to (an address or a list) and an automation's condition and
	// set_metadata value (a scalar, a list or null) without a type. The Vercel AI SDK converts
	// all of these to Gemini's form.
	{[]string{"langchain"}, "google", regexp.MustCompile(`unknown field "uniqueItems"$`)},
	{[]string{"langchain"}, "google", regexp.MustCompile(`\.type: \["(string|integer|object)","null"\] is not one Gemini Type$`)},
	{[]string{"langchain"}, "google", regexp.MustCompile(`\.(to|reply_to|value)\.type: must be specified`)},
}

// agentSDKRun is what testdata/tsclient/agentsdks.mjs prints.
type agentSDKRun struct {
	Tools     []string       `json:"tools"`
	NotStrict []string       `json:"not_strict"`
	Checked   map[string]int `json:"checked"`
	Failures  []struct {
		Tool, Library, Provider, Reason string
	} `json:"failures"`
}

// agentSDKTargets are the library/provider pairs agentsdks.mjs converts every tool for.
var agentSDKTargets = []string{"mcp/tools/list", "ai-sdk/openai", "ai-sdk/anthropic", "ai-sdk/google",
	"langchain/openai", "langchain/anthropic", "langchain/google", "openai-agents/openai"}

// TestAgentSDKsLoadEveryTool loads the tools of a real server (the default set, then every
// toolset) with the Vercel AI SDK,
// LangChain's MCP adapters and the OpenAI Agents SDK (strict), run by node, has each
// framework build the request it would send to OpenAI, Anthropic and Gemini, and checks
// every tool's declaration against that provider's rules (testdata/tsclient/providerrules.mjs).
// It needs Node.js and `npm ci` in testdata/tsclient, as TestTypeScriptSDKClient does.
func TestAgentSDKsLoadEveryTool(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		testkit.SkipUnlessCI(t, "node is not installed")
	}
	dir := filepath.Join("testdata", "tsclient")
	for _, pkg := range []string{"ai", "@langchain/mcp-adapters", "@openai/agents-core"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg)); err != nil {
			testkit.SkipUnlessCI(t, "run `npm ci` in server/testdata/tsclient to enable this test")
		}
	}
	e := setup(t)
	hits := make([][]string, len(agentSDKGaps))
	// The default selection, every tool (all), and each opt-in toolset alone (all leaves
	// them out: chatgpt's search would clash with search).
	selections := map[string]string{"default": "/mcp", "all": "/mcp?toolsets=all"}
	names := []string{"default", "all"}
	for _, set := range tools.OptInToolsets {
		selections[set] = "/mcp?toolsets=" + set
		names = append(names, set)
	}
	for _, name := range names {
		path := selections[name]
		t.Run(name, func(t *testing.T) {
			e := e.with(t)
			cmd := exec.CommandContext(t.Context(), node, "agentsdks.mjs")
			var stderr bytes.Buffer
			cmd.Dir, cmd.Stderr = dir, &stderr
			cmd.Env = append(os.Environ(), "RELM_MCP_URL="+e.URL+path, "RELM_KEY="+e.Live)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("agentsdks.mjs: %v\n%s%s", err, out, stderr.Bytes())
			}
			var run agentSDKRun
			if err := json.Unmarshal(out, &run); err != nil {
				t.Fatalf("agentsdks.mjs printed %s", out)
			}
			if len(run.Tools) == 0 {
				t.Fatal("no tools listed")
			}
			for _, target := range agentSDKTargets {
				if run.Checked[target] != len(run.Tools) {
					t.Errorf("%s checked %d of %d tools", target, run.Checked[target], len(run.Tools))
				}
			}
		failures:
			for _, f := range run.Failures {
				for i, gap := range agentSDKGaps {
					if slices.Contains(gap.libraries, f.Library) && f.Provider == gap.provider && gap.reason.MatchString(f.Reason) {
						hits[i] = append(hits[i], f.Tool+" ("+f.Library+")")
						continue failures
					}
				}
				t.Errorf("%s: %s with %s: %s", f.Tool, f.Library, f.Provider, f.Reason)
			}
			t.Logf("%s: %d tools, each checked for %d library/provider pairs; not strict for OpenAI: %s",
				path, len(run.Tools), len(agentSDKTargets), strings.Join(run.NotStrict, ", "))
		})
	}
	for i, gap := range agentSDKGaps {
		if len(hits[i]) == 0 {
			t.Errorf("%s with %s no longer fails on %s: take it off agentSDKGaps", strings.Join(gap.libraries, ", "), gap.provider, gap.reason)
			continue
		}
		slices.Sort(hits[i])
		t.Logf("known gap, %s with %s (%s): %s", strings.Join(gap.libraries, ", "), gap.provider, gap.reason, strings.Join(slices.Compact(hits[i]), ", "))
	}
}
