package server_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run `go test ./server -run Golden -update` to create it)", err)
	}
	if !bytes.Equal(want, got) {
		t.Fatalf("%s drifted from the code. If the change is intended, run `go test ./server -run Golden -update` and review the diff.", path)
	}
}

// TestGoldenToolsList pins the tools/list result a real MCP client receives.
func TestGoldenToolsList(t *testing.T) {
	t.Parallel()
	e := setup(t)
	res, err := e.mcpSession(e.Live, "2025-06-18").ListTools(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "tools_list.golden.json", append(out, '\n'))
}

// TestGoldenOpenAPI pins the served OpenAPI document.
func TestGoldenOpenAPI(t *testing.T) {
	t.Parallel()
	e := setup(t)
	res, err := http.Get(e.URL + "/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("%d %v", res.StatusCode, err)
	}
	golden(t, "openapi.golden.yaml", body)
}
