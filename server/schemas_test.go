package server_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/relmcrm/relm/evals"
	"github.com/relmcrm/relm/server"
)

// TestSchemasServed: a schema the server publishes (relm serve: the eval transcript schema)
// is served as it is, with no key; other names under /schemas/ are not found.
func TestSchemasServed(t *testing.T) {
	t.Parallel()
	srv, err := server.New(server.Config{Logger: slog.New(slog.DiscardHandler),
		Schemas: map[string][]byte{"eval-transcript.json": evals.Schema()}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	get := func(path string) (*http.Response, []byte) {
		t.Helper()
		res, err := http.Get(ts.URL + path) // no API key
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res, body
	}
	res, body := get("/schemas/eval-transcript.json")
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/schema+json" ||
		res.Header.Get("Cache-Control") != "public, max-age=300" || res.Header.Get("Request-Id") == "" {
		t.Fatalf("%d %v: %s", res.StatusCode, res.Header, body)
	}
	if !bytes.Equal(body, evals.Schema()) {
		t.Fatalf("the served schema differs from evals.Schema():\n%s", body)
	}
	if res, body := get("/schemas/other.json"); res.StatusCode != http.StatusNotFound || !bytes.Contains(body, []byte(`"not_found"`)) {
		t.Fatalf("an unpublished schema: %d %s", res.StatusCode, body)
	}
	post, err := http.Post(ts.URL+"/schemas/eval-transcript.json", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	post.Body.Close()
	if post.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST: %d, want 405", post.StatusCode)
	}
}
