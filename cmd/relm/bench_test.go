package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/relmcrm/relm/store/pgtest"
)

// TestBenchSmoke runs the whole benchmark, tiny, against a `relm serve` child process on a
// fresh database, and checks that the report has every section and only real numbers.
// It measures nothing worth reading; it keeps `relm bench` working.
func TestBenchSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole benchmark, small")
	}
	opts, out, err := benchFlags([]string{"--contacts", "300", "--duration", "200ms", "--conns", "1,4",
		"--import-rows", "500", "--queries", "10", "--webhook-seconds", "1", "--webhook-events", "100",
		"--database-url", pgtest.NewDatabase(t)})
	if err != nil || out != "" {
		t.Fatal(out, err)
	}
	opts.Log = quietLog()
	// This test binary is not relm: the servers are the binary re-executed as relm.
	opts.Relm = func(args []string) (*exec.Cmd, error) {
		encoded, err := json.Marshal(args)
		if err != nil {
			return nil, err
		}
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), serveChildEnv+"="+string(encoded))
		return cmd, nil
	}
	var report strings.Builder
	if err := writeBench(t.Context(), opts, "", &report); err != nil {
		t.Fatal(err)
	}
	doc := report.String()
	for _, want := range []string{"# Performance", "Measured by `relm bench --contacts 300", "| git commit |", "| machine |",
		"| PostgreSQL |", "fsync", "shared_buffers",
		"## Targets", "REST point read", "MCP latency against REST", "server RSS, idle", "batch import against raw COPY", "search p95",
		"## Throughput and latency over HTTP", "### get contact by id", "### list contacts by email", "### create contact",
		"### search a first name", "### batch import", "| 4 | MCP |", "| 4 | bare HTTP |",
		"### The floor", "| 4 | raw SQL: an empty statement", "### The ceiling", "| create contact | 4 |", "| batch import, 100 rows per request | 4 |",
		"## Database transactions per request", "## Memory of the server process", "VmHWM",
		"## Batch import against raw COPY", "## Search and list latency", "## Webhook delivery", "## Query plans",
		"## How to read this"} {
		if !strings.Contains(doc, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	for _, bad := range []string{"NaN", "Inf", "not measured", "%!"} {
		if strings.Contains(doc, bad) {
			t.Errorf("the report holds %q", bad)
		}
	}
	if t.Failed() {
		t.Log(doc)
	}
}

// TestBenchFlagsRefuse: a section, an operation or a concurrency relm bench does not know
// is refused before anything runs, naming the flag and what it takes.
func TestBenchFlagsRefuse(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--only", "http,plan"}, `--only "plan": want sections of latency, import, http, webhooks, plans`},
		{[]string{"--ops", "get_contact,get_contct"}, `--ops "get_contct": want operations of get_contact, list_contacts`},
		{[]string{"--conns", "1,0"}, `--conns "1,0"`},
		{[]string{"--bare-server", "0.0.0.0:9000"}, `--bare-server "0.0.0.0:9000": want a loopback address`},
		{[]string{"--bare-server", "localhost"}, `--bare-server "localhost": want a loopback address`},
	} {
		if _, _, err := benchFlags(c.args); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("relm bench %v: %v, want an error with %q", c.args, err, c.want)
		}
	}
	opts, _, err := benchFlags([]string{"--only", "http", "--ops", "get_contact, search"})
	if err != nil || !slices.Equal(opts.Only, []string{"http"}) || !slices.Equal(opts.Ops, []string{"get_contact", "search"}) {
		t.Errorf("--only http --ops get_contact,search: %v %v %v", opts.Only, opts.Ops, err)
	}
}
