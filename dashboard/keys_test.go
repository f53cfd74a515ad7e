package dashboard_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

var keySecretRE = regexp.MustCompile(`data-testid="new-secret" value="(sk_(?:live|test)_[0-9A-Za-z]{32})"|value="(sk_(?:live|test)_[0-9A-Za-z]{32})"[^>]*data-testid="new-secret"`)

// newKey creates a key in mode on the API keys page and returns its secret.
func newKey(t *testing.T, b *browser, mode string) string {
	t.Helper()
	p := b.post("/api-keys", url.Values{"mode": {mode}})
	must(t, p, http.StatusOK, "Copy it now: it is not shown again.")
	m := keySecretRE.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no secret on the page:\n%s", p.Body)
	}
	if p.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("the page with a secret may be cached: %q", p.Header.Get("Cache-Control"))
	}
	return m[1] + m[2]
}

// rest calls the REST API with key.
func (e *env) rest(method, path, key string) int {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// TestAPIKeysPage: keys made on the page work over REST in their mode and workspace, show
// only their prefix and last 4 afterwards with when they were last used, and stop at once
// when revoked.
func TestAPIKeysPage(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := e.owner("kim@example.com", "Kim's")
	must(t, b.get("/api-keys"), http.StatusOK, "No live keys yet.", "No test keys yet.")
	test := newKey(t, b, "test")
	live := newKey(t, b, "live")
	if !strings.HasPrefix(test, "sk_test_") || !strings.HasPrefix(live, "sk_live_") {
		t.Fatalf("keys %s… and %s… are not of their modes", test[:8], live[:8])
	}
	p := b.get("/api-keys")
	must(t, p, http.StatusOK, "sk_test_…"+test[len(test)-4:], "sk_live_…"+live[len(live)-4:], "never")
	if strings.Contains(p.Body, test) || strings.Contains(p.Body, live) {
		t.Fatal("a secret is shown again")
	}
	if s := e.rest(http.MethodGet, "/v1/contacts", test); s != http.StatusOK {
		t.Fatalf("the new test key: %d", s)
	}
	// Last used is kept by the rate limiter, written in the background within about a second.
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(b.get("/api-keys").Body, "UTC</td>\n    <td>active") || strings.Count(b.get("/api-keys").Body, ">never<") != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("last used never shown:\n%s", b.get("/api-keys").Body)
		}
		time.Sleep(100 * time.Millisecond)
	}

	must(t, b.post("/api-keys", url.Values{"mode": {"staging"}}), http.StatusOK, "Choose the key&#39;s mode")
	must(t, b.post("/api-keys", url.Values{"mode": {"test"}, "scopes": {"contacts:fly"}}), http.StatusOK, "scopes")

	id := regexp.MustCompile(`name="id" value="(key_[a-z2-7]+)"><input type="hidden" name="mode" value="test">`).FindStringSubmatch(b.get("/api-keys").Body)
	if id == nil {
		t.Fatal("no revoke form for the test key")
	}
	must(t, b.post("/api-keys/revoke", url.Values{"id": {id[1]}, "mode": {"test"}}), http.StatusOK, "Key revoked", "revoked 20")
	if s := e.rest(http.MethodGet, "/v1/contacts", test); s != http.StatusUnauthorized {
		t.Fatalf("a revoked key: %d, want 401", s)
	}
	if s := e.rest(http.MethodGet, "/v1/contacts", live); s != http.StatusOK {
		t.Fatalf("the live key after revoking the test key: %d", s)
	}
	// A key of one mode cannot be revoked as the other.
	must(t, b.post("/api-keys/revoke", url.Values{"id": {id[1]}, "mode": {"live"}}), http.StatusOK, "flash-error")
}
