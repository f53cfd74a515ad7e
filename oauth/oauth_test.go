package oauth

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCheckRedirectURI(t *testing.T) {
	for _, ok := range []string{"https://claude.ai/api/mcp/auth_callback", "https://chatgpt.com/connector_platform_oauth_redirect",
		"http://127.0.0.1:33418/callback", "http://localhost/cb", "http://[::1]:8080/cb", "https://example.com/cb?x=1"} {
		if err := CheckRedirectURI(ok); err != nil {
			t.Errorf("%s refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"javascript:alert(1)", "JAVASCRIPT:alert(1)", "data:text/html,x", "vbscript:x", "file:///etc/passwd",
		"http://example.com/cb", "http://10.0.0.1/cb", "https://example.com/cb#x", "https://example.com/cb#", "https:///cb",
		"https://u:p@example.com/cb", "//example.com/cb", "cursor://cb", "", "https:opaque"} {
		if err := CheckRedirectURI(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzCheckRedirectURI(f *testing.F) {
	f.Add("https://claude.ai/api/mcp/auth_callback")
	f.Add("javascript:alert(1)")
	f.Add("http://127.0.0.1:1/x")
	f.Fuzz(func(t *testing.T, raw string) {
		if CheckRedirectURI(raw) != nil {
			return
		}
		lower := strings.ToLower(raw)
		if !(strings.HasPrefix(lower, "https://") || strings.HasPrefix(lower, "http://")) || strings.Contains(raw, "#") {
			t.Fatalf("accepted %q", raw)
		}
	})
}

func TestIsDocumentURL(t *testing.T) {
	for id, want := range map[string]bool{
		"https://app.example.com/oauth/client.json": true,
		"https://app.example.com":                   false,
		"https://app.example.com/":                  false,
		"http://app.example.com/client.json":        false,
		"https://app.example.com/a/../client.json":  false,
		"https://app.example.com/client.json#x":     false,
		"https://app.example.com/client.json?v=1":   false,
		"https://u@app.example.com/client.json":     false,
		"rc_abc":                                    false,
	} {
		if got := IsDocumentURL(id); got != want {
			t.Errorf("IsDocumentURL(%q) = %v", id, got)
		}
	}
}

// TestPKCE: the S256 challenge of RFC 7636 appendix B's verifier, and the verifier's form.
func TestPKCE(t *testing.T) {
	if got := challengeOf("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"); got != "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" {
		t.Fatalf("challenge %s", got)
	}
	for v, want := range map[string]bool{strings.Repeat("a", 43): true, strings.Repeat("a", 42): false, strings.Repeat("a", 129): false,
		strings.Repeat("a", 42) + "~": true, strings.Repeat("a", 42) + "+": false} {
		if validVerifier(v) != want {
			t.Errorf("validVerifier(%q) = %v", v, !want)
		}
	}
}

// TestRegistrationLimit: registrations per client address are capped, before any is stored.
func TestRegistrationLimit(t *testing.T) {
	s := New(Options{PublicURL: "https://crm.example.com", RegistrationsPerHour: 2})
	status := func(addr string) int {
		req := httptest.NewRequest(http.MethodPost, "/oauth/register", strings.NewReader(`{"redirect_uris":["javascript:x"]}`))
		req.RemoteAddr = addr
		w := httptest.NewRecorder()
		s.register(w, req)
		return w.Code
	}
	for range 2 {
		if c := status("192.0.2.1:1234"); c != http.StatusBadRequest {
			t.Fatalf("within the limit: %d", c)
		}
	}
	if c := status("192.0.2.1:999"); c != http.StatusTooManyRequests {
		t.Fatalf("past the limit: %d", c)
	}
	if c := status("192.0.2.2:1"); c != http.StatusBadRequest {
		t.Fatalf("another address: %d", c)
	}
}
