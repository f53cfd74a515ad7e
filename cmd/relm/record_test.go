package main

import (
	"path/filepath"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/evals"
	"github.com/relmcrm/relm/store/pgtest"
)

// TestRecordSurvivesKillAndShutdown runs `relm serve --record DIR` as a process: a session
// under way when the server is SIGKILLed is left as a journal, which the next start
// transcribes; a session under way at a clean shutdown (SIGINT) is transcribed on the way
// out.
func TestRecordSurvivesKillAndShutdown(t *testing.T) {
	t.Parallel()
	db, dir := pgtest.NewDatabase(t), t.TempDir()
	tg := startTargetOn(t, db, "--record", dir)
	key := tg.key("acme", auth.Test)
	recordCalls(t, tg, key, "create_contact", "list_contacts")
	if err := tg.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-tg.exited
	if j, tr := globFiles(t, dir, "*.jsonl"), globFiles(t, dir, "*.json"); len(j) != 1 || len(tr) != 0 {
		t.Fatalf("after a kill, want the session's journal and no transcript: %v, %v", j, tr)
	}

	tg = startTargetOn(t, db, "--record", dir)
	if j, tr := globFiles(t, dir, "*.jsonl"), globFiles(t, dir, "*.json"); len(j) != 0 || len(tr) != 1 {
		t.Fatalf("a start should transcribe the journal left by the kill: %v, %v", j, tr)
	}
	recordCalls(t, tg, key, "list_contacts")
	tg.stop()
	ts, err := evals.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 2 || len(ts[0].Steps)+len(ts[1].Steps) != 3 || len(globFiles(t, dir, "*.jsonl")) != 0 {
		t.Fatalf("want both sessions transcribed, 3 calls in all: %d transcripts", len(ts))
	}
}

// recordCalls makes one MCP session calling each tool: create_contact with an email, the
// others with no arguments.
func recordCalls(t *testing.T, tg *target, key string, names ...string) {
	t.Helper()
	cs, err := evals.Dial(t.Context(), tg.URL+"/mcp", key, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	for _, name := range names {
		args := map[string]any{}
		if name == "create_contact" {
			args["email"] = "ada@example.com"
		}
		if _, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: name, Arguments: args}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

// globFiles lists the files of dir matching pattern.
func globFiles(t *testing.T, dir, pattern string) []string {
	t.Helper()
	found, err := filepath.Glob(filepath.Join(dir, pattern))
	if err != nil {
		t.Fatal(err)
	}
	return found
}
