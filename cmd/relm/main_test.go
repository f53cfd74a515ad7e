package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relmcrm/relm/evals"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader in different goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// reachableTempDir is a temp dir that the unprivileged PostgreSQL user can enter when the
// tests run as root.
func reachableTempDir(t *testing.T) string {
	dir := t.TempDir()
	for p := dir; p != os.TempDir() && p != "/"; p = filepath.Dir(p) {
		if err := os.Chmod(p, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestServeFirstStartAndRestart runs `relm serve` with its private cluster: the first start
// prints one live and one test key, the server answers with them, `keys create` works beside
// it, cancelling stops everything, and a restart prints no keys.
func TestServeFirstStartAndRestart(t *testing.T) {
	dataDir := reachableTempDir(t)
	t.Setenv("RELM_DATABASE_URL", "")
	t.Setenv("RELM_SECRET_KEY", "")
	keyRe := regexp.MustCompile(`(?m)^  (live|test): (sk_(live|test)_[A-Za-z0-9]{32})$`)

	stdout, logs, stop := startServe(t, dataDir)
	keys := keyRe.FindAllStringSubmatch(stdout.String(), -1)
	if len(keys) != 2 || keys[0][1] != "live" || keys[1][1] != "test" {
		t.Fatalf("first start should print a live and a test key, got:\n%s", stdout.String())
	}
	if !strings.HasPrefix(stdout.String(), `Created workspace "default"`) {
		t.Fatalf("first start should name the workspace it creates, got:\n%s", stdout.String())
	}
	// Nobody owns it yet: the start prints a one-time link to claim it in the dashboard.
	firstClaim := regexp.MustCompile(`/claim\?token=[A-Z2-7]{26}`).FindString(stdout.String())
	if firstClaim == "" {
		t.Fatalf("first start should print a claim link for the dashboard, got:\n%s", stdout.String())
	}
	base := listenURL(t, logs)
	if got := documentServer(t, base); got != base {
		t.Errorf("the OpenAPI document names server %q, want the listen address %q", got, base)
	}
	res, err := http.Get(base + "/schemas/eval-transcript.json") // no key
	if err != nil {
		t.Fatal(err)
	}
	schema, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !bytes.Equal(schema, evals.Schema()) {
		t.Errorf("GET /schemas/eval-transcript.json: %d, not evals.Schema():\n%s", res.StatusCode, schema)
	}
	for _, k := range keys {
		req, _ := http.NewRequest("GET", base+"/v1/contacts", nil)
		req.Header.Set("Authorization", "Bearer "+k[2])
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("%s key: status %d", k[1], res.StatusCode)
		}
	}

	var out bytes.Buffer
	if err := run(t.Context(), []string{"keys", "create", "--workspace", "ops", "--mode", "test", "--create", "--data-dir", dataDir}, &out, quietLog()); err != nil {
		t.Fatalf("keys create beside serve: %v", err)
	}
	if !regexp.MustCompile(`^sk_test_[A-Za-z0-9]{32}\n$`).MatchString(out.String()) {
		t.Fatalf("keys create must print only the key, got %q", out.String())
	}
	opsKey := strings.TrimSpace(out.String())
	out.Reset()
	if err := run(t.Context(), []string{"keys", "list", "--workspace", "ops", "--data-dir", dataDir}, &out, quietLog()); err != nil {
		t.Fatal(err)
	}
	id := regexp.MustCompile(`key_[a-z2-7]{26}`).FindString(out.String())
	if id == "" || strings.Contains(out.String(), opsKey) || !strings.Contains(out.String(), opsKey[len(opsKey)-4:]) {
		t.Fatalf("keys list: %s", out.String())
	}
	if err := run(t.Context(), []string{"keys", "revoke", "--data-dir", dataDir, id}, &out, quietLog()); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", base+"/v1/contacts", nil)
	req.Header.Set("Authorization", "Bearer "+opsKey)
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 401 {
		t.Fatalf("a revoked key must stop working at once: %v %v", res.StatusCode, err)
	}
	// Writes acknowledged before shutdown survive the restart.
	for _, email := range []string{"durable@example.com", "lasting@example.com"} {
		req, _ = http.NewRequest("POST", base+"/v1/contacts", strings.NewReader(`{"email":"`+email+`"}`))
		req.Header.Set("Authorization", "Bearer "+keys[0][2])
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil || res.StatusCode != 201 {
			t.Fatalf("create before shutdown: %v %v", res, err)
		}
		res.Body.Close()
	}
	// A cursor issued before shutdown still pages after the restart: the secret key is kept
	// in the data dir, readable only by us.
	cursor := nextCursor(t, base+"/v1/contacts?limit=1", keys[0][2])
	if fi, err := os.Stat(filepath.Join(dataDir, "postgres", "secret_key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("kept secret key: %v %v", fi, err)
	}
	stop()
	if res, err := http.Get(base + "/healthz"); err == nil {
		res.Body.Close()
		t.Fatal("server still answers after shutdown")
	}

	stdout, logs, stop = startServe(t, dataDir)
	defer stop()
	if strings.Contains(stdout.String(), "sk_") {
		t.Fatalf("a restart must not print keys again:\n%s", stdout.String())
	}
	if want := "To make a new key: relm keys create --workspace default --mode test --data-dir " + dataDir + "\n"; !strings.Contains(stdout.String(), "were issued") ||
		!strings.Contains(stdout.String(), "(workspaces: default, ops)") || !strings.Contains(stdout.String(), want) {
		t.Fatalf("a restart should say that keys were issued and how to make one (%q), got:\n%s", want, stdout.String())
	}
	// Still unclaimed: a new link replaces the first.
	if again := regexp.MustCompile(`/claim\?token=[A-Z2-7]{26}`).FindString(stdout.String()); again == "" || again == firstClaim {
		t.Fatalf("a restart of an unclaimed server should print a new claim link (first %s), got:\n%s", firstClaim, stdout.String())
	}
	req, _ = http.NewRequest("GET", listenURL(t, logs)+"/v1/contacts?email=durable@example.com", nil)
	req.Header.Set("Authorization", "Bearer "+keys[0][2])
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(body), "durable@example.com") {
		t.Fatalf("the acknowledged write was lost across a restart: %s", body)
	}
	req, _ = http.NewRequest("GET", listenURL(t, logs)+"/v1/contacts?limit=1&cursor="+cursor, nil)
	req.Header.Set("Authorization", "Bearer "+keys[0][2])
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 200 {
		t.Fatalf("a cursor from before the restart: %v %v", res, err)
	}
}

// nextCursor returns the next_cursor of the list at url.
func nextCursor(t *testing.T, url, key string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var page struct {
		NextCursor string `json:"next_cursor"`
	}
	if err := json.NewDecoder(res.Body).Decode(&page); err != nil || page.NextCursor == "" {
		t.Fatalf("no next_cursor at %s: %v", url, err)
	}
	return page.NextCursor
}

// TestServeRefusesMalformedSecretKey: a secret key that is not base64 of 32 bytes stops
// `relm serve` before it starts anything, saying what to give.
func TestServeRefusesMalformedSecretKey(t *testing.T) {
	for _, key := range []string{"c2hvcnQ=", "not base64 at all!", strings.Repeat("A", 40)} {
		err := run(t.Context(), []string{"serve", "--secret-key", key, "--data-dir", t.TempDir()}, io.Discard, quietLog())
		if err == nil || !strings.Contains(err.Error(), "RELM_SECRET_KEY") || !strings.Contains(err.Error(), "openssl rand -base64 32") {
			t.Errorf("--secret-key %q: %v", key, err)
		}
	}
}

// TestDefaultSecret: the private cluster's secret is made once and kept (mode 0600); a
// damaged one is an error naming the file; without a cluster the secret is new, does not
// persist, and a warning says what that means.
func TestDefaultSecret(t *testing.T) {
	dir := t.TempDir()
	first, persistent, err := defaultSecret(dir, quietLog())
	if err != nil || len(first) != 32 || !persistent {
		t.Fatalf("%x %v %v", first, persistent, err)
	}
	again, persistent, err := defaultSecret(dir, quietLog())
	if err != nil || !bytes.Equal(first, again) || !persistent {
		t.Fatalf("the kept secret changed: %x %x %v %v", first, again, persistent, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "secret_key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%v %v", fi, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "secret_key"), []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := defaultSecret(dir, quietLog()); err == nil || !strings.Contains(err.Error(), "secret_key") {
		t.Fatalf("a damaged secret key file: %v", err)
	}

	var logs syncBuffer
	k, persistent, err := defaultSecret("", slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil || len(k) != 32 || persistent || !strings.Contains(logs.String(), "RELM_SECRET_KEY") || !strings.Contains(logs.String(), "level=WARN") {
		t.Fatalf("external database: %x %v %s", k, err, logs.String())
	}
}

func TestOpenAPICommandMatchesServedDocument(t *testing.T) {
	var out bytes.Buffer
	if err := run(t.Context(), []string{"openapi"}, &out, quietLog()); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../../server/testdata/openapi.golden.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Fatal("`relm openapi` differs from the served document (server/testdata/openapi.golden.yaml)")
	}
}

// TestOpenAPIPublicURL: `relm openapi` names the server given by --public-url (trailing
// slash dropped), and both commands refuse a URL clients could not use.
func TestOpenAPIPublicURL(t *testing.T) {
	var out bytes.Buffer
	if err := run(t.Context(), []string{"openapi", "--format", "json", "--public-url", "https://crm.example.com/"}, &out, quietLog()); err != nil {
		t.Fatal(err)
	}
	var doc struct{ Servers []struct{ URL string } }
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil || len(doc.Servers) != 1 || doc.Servers[0].URL != "https://crm.example.com" {
		t.Fatalf("servers: %+v %v", doc.Servers, err)
	}
	for _, u := range []string{"crm.example.com", "ftp://crm.example.com", "https://crm.example.com/?x=1", "https://user:pw@crm.example.com"} {
		if err := run(t.Context(), []string{"openapi", "--public-url", u}, io.Discard, quietLog()); err == nil || !strings.Contains(err.Error(), "public URL") {
			t.Errorf("openapi --public-url %q: %v", u, err)
		}
		err := run(t.Context(), []string{"serve", "--public-url", u, "--data-dir", t.TempDir()}, io.Discard, quietLog())
		if err == nil || !strings.Contains(err.Error(), "RELM_PUBLIC_URL") {
			t.Errorf("serve --public-url %q: %v", u, err)
		}
	}
}

// documentServer returns the server URL of the OpenAPI document served at base.
func documentServer(t *testing.T, base string) string {
	t.Helper()
	res, err := http.Get(base + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var doc struct{ Servers []struct{ URL string } }
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil || len(doc.Servers) != 1 {
		t.Fatalf("servers of %s/openapi.json: %+v %v", base, doc.Servers, err)
	}
	return doc.Servers[0].URL
}

// startServe runs `relm serve` on a free port until stop is called, and waits until it
// listens.
func startServe(t *testing.T, dataDir string) (stdout, logs *syncBuffer, stop func()) {
	t.Helper()
	stdout, logs = &syncBuffer{}, &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	log := slog.New(slog.NewTextHandler(logs, nil))
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dataDir}, stdout, log)
	}()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(logs.String(), "relm listening") {
		select {
		case err := <-done:
			t.Fatalf("serve exited early: %v\n%s", err, logs.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s", logs.String())
		}
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stdout, logs, stop
}

func listenURL(t *testing.T, logs *syncBuffer) string {
	m := regexp.MustCompile(`url=(http://127\.0\.0\.1:\d+)`).FindStringSubmatch(logs.String())
	if m == nil {
		t.Fatalf("no listen address in logs:\n%s", logs.String())
	}
	return m[1]
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
