package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/server"
	"github.com/relmcrm/relm/store/pgtest"
)

// apiServer serves a fresh database over HTTP and returns its URL and a test-mode key.
func apiServer(t *testing.T) (url, key string) {
	t.Helper()
	s, admin, _ := pgtest.Open(t)
	srv, err := server.New(server.Config{Store: s, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), SecretKey: server.NewSecretKey()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close(context.Background()) })
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	ws, _, err := admin.EnsureWorkspace(t.Context(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	_, key, err = admin.CreateAPIKey(t.Context(), ws.ID, auth.Test)
	if err != nil {
		t.Fatal(err)
	}
	return hs.URL, key
}

// TestImportExportCommands runs relm import and relm export against a server: the summary,
// the failed rows next to the input, the exit error, a re-run that replays, the RELM_URL and
// RELM_API_KEY fallbacks, and an export to a CSV file.
func TestImportExportCommands(t *testing.T) {
	url, key := apiServer(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "people.csv")
	csv := "\uFEFFEmail;First name;Notes\nada@example.com;Ada;met at the fair\nnot-an-email;Bad;\n;Nameless;\n"
	if err := os.WriteFile(in, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err := run(t.Context(), []string{"import", "contacts", in, "--url", url, "--key", key}, &out, quietLog())
	failed := filepath.Join(dir, "people.failed.csv")
	if err == nil || err.Error() != "1 of 3 rows failed; they are in "+failed {
		t.Fatalf("import: %v", err)
	}
	for _, want := range []string{in + ": 3 rows\n  created  2\n  updated  0\n  failed   1 (in " + failed + ")\n",
		"columns: Email → email, First name → first_name\n", "ignored columns: Notes (", "rows without an email: 1 ("} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("summary lacks %q:\n%s", want, out.String())
		}
	}
	if b, err := os.ReadFile(failed); err != nil || !strings.HasPrefix(string(b), "line;Email;First name;Notes;error\n3;not-an-email;Bad;;validation_failed: email ") {
		t.Fatalf("failed rows: %q %v", b, err)
	}

	t.Setenv("RELM_URL", url)
	t.Setenv("RELM_API_KEY", key)
	out.Reset()
	if err := run(t.Context(), []string{"import", "--failed", filepath.Join(dir, "again.csv"), "contacts", in}, &out, quietLog()); err == nil ||
		!strings.Contains(out.String(), "replayed: 2 of 2 calls answered from an earlier run") {
		t.Fatalf("re-run: %v\n%s", err, out.String())
	}

	csvOut := filepath.Join(dir, "contacts.csv")
	if err := run(t.Context(), []string{"export", "contacts", "--out", csvOut, "--page-size", "1"}, &out, quietLog()); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(csvOut); err != nil || !strings.HasPrefix(string(b), "id,object,email,") || strings.Count(string(b), "\n") != 3 {
		t.Fatalf("export to csv: %q %v", b, err)
	}
	out.Reset()
	if err := run(t.Context(), []string{"export", "contacts", "--filter", "filter[email]=ada@example.com"}, &out, quietLog()); err != nil {
		t.Fatal(err)
	}
	var rec map[string]any
	if err := json.Unmarshal(out.Bytes(), &rec); err != nil || rec["first_name"] != "Ada" {
		t.Fatalf("jsonl to stdout: %q %v", out.String(), err)
	}

	for args, want := range map[string]string{
		"import " + in:                                    "usage: relm import contacts",
		"import contacts " + in + " --key=":               "an API key is needed: --key or RELM_API_KEY",
		"import contacts nope.csv":                        "no such file",
		"import contacts " + in + " --map Notes=nickname": `"nickname" is not a field of a contact`,
		"export pipelines":                                `cannot export "pipelines"`,
		"export contacts --format xml":                    `unknown format "xml"`,
	} {
		if err := run(t.Context(), strings.Fields(args), io.Discard, quietLog()); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("relm %s: %v, want %q", args, err, want)
		}
	}
}
