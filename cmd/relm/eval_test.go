package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relmcrm/relm/store/pgtest"
)

// TestEvalCommand replays a passing and a failing transcript: a line and a JSON report
// for each, a JUnit file, and an error (exit status 1) because one failed.
func TestEvalCommand(t *testing.T) {
	dbURL := pgtest.NewDatabase(t)
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("pass.json", `{"name":"passes","description":"d","steps":[
		{"tool":"create_company","arguments":{"name":"Acme"},"expect":{"result":{"name":"Acme"}}}]}`)
	write("fail.json", `{"name":"fails","description":"d","steps":[
		{"tool":"create_company","arguments":{"name":"Acme"},"expect":{"result":{"name":"Globex"}}}]}`)
	junit := filepath.Join(t.TempDir(), "report.xml")

	var out bytes.Buffer
	err := run(t.Context(), []string{"eval", dir, "--database-url", dbURL, "--json", "--junit", junit}, &out, quietLog())
	if err == nil || !strings.Contains(err.Error(), "1 of 2 transcripts failed") {
		t.Fatalf("want a failure, got %v", err)
	}
	var rep struct {
		Passed, Failed int
		Results        []struct {
			Name    string
			Passed  bool
			Failure *struct{ Path, Expected, Got string }
		}
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("--json: %v\n%s", err, out.String())
	}
	if rep.Passed != 1 || rep.Failed != 1 || len(rep.Results) != 2 {
		t.Fatalf("report: %+v", rep)
	}
	for _, r := range rep.Results {
		if r.Name == "fails" && (r.Failure == nil || r.Failure.Path != "/name" || r.Failure.Expected != "Globex" || r.Failure.Got != "Acme") {
			t.Fatalf("failure: %+v", r.Failure)
		}
	}
	xml, err := os.ReadFile(junit)
	if err != nil || !strings.Contains(string(xml), `<testcase name="fails"`) || !strings.Contains(string(xml), `<failure message=`) {
		t.Fatalf("junit: %v\n%s", err, xml)
	}

	out.Reset()
	if err := run(t.Context(), []string{"eval", filepath.Join(dir, "pass.json"), "--database-url", dbURL, "--repeat", "3", "--json"}, &out, quietLog()); err != nil {
		t.Fatalf("--repeat 3: %v\n%s", err, out.String())
	}
	var repeated struct {
		Repeat  int
		PassK   []float64 `json:"pass_k"`
		Results []struct{ Runs, Passes int }
	}
	if err := json.Unmarshal(out.Bytes(), &repeated); err != nil || repeated.Repeat != 3 || len(repeated.PassK) != 3 || repeated.PassK[2] != 1 ||
		len(repeated.Results) != 1 || repeated.Results[0].Runs != 3 || repeated.Results[0].Passes != 3 {
		t.Fatalf("--repeat 3 --json: %v\n%s", err, out.String())
	}

	out.Reset()
	if err := run(t.Context(), []string{"eval", "--database-url", dbURL, "--parallel", "8"}, &out, quietLog()); err != nil {
		t.Fatalf("the built-in suite: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "PASS  workflows.import_and_dedupe") || !strings.Contains(out.String(), " 0 failed") {
		t.Fatalf("text report:\n%s", out.String())
	}
	if err := run(t.Context(), []string{"eval", "--url", "http://127.0.0.1:1"}, &out, quietLog()); err == nil {
		t.Fatal("--url without --key should be refused")
	}
}

// TestEvalRepeatFlag refuses a --repeat below 1 before replaying anything.
func TestEvalRepeatFlag(t *testing.T) {
	t.Parallel()
	for _, k := range []string{"0", "-2"} {
		var out bytes.Buffer
		err := run(t.Context(), []string{"eval", "--repeat", k, "--database-url", "postgres://127.0.0.1:1/none"}, &out, quietLog())
		if err == nil || !strings.Contains(err.Error(), "--repeat must be at least 1") || out.Len() != 0 {
			t.Errorf("--repeat %s: %v\n%s", k, err, out.String())
		}
	}
	if err := run(t.Context(), []string{"eval", "--repeat", "twice"}, io.Discard, quietLog()); err == nil {
		t.Error("--repeat twice should be refused")
	}
}
