package server_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestAPIKeysOverTheAPI(t *testing.T) {
	t.Parallel()
	e := setup(t)
	created := e.call("POST", "/v1/api_keys", e.Test, nil).must(t, http.StatusCreated).Body
	secret, _ := created["secret"].(string)
	if !strings.HasPrefix(secret, "sk_test_") || created["mode"] != "test" || created["last4"] != secret[len(secret)-4:] {
		t.Fatalf("a test key creates test keys: %v", created)
	}
	e.call("GET", "/v1/contacts", secret, nil).must(t, http.StatusOK)

	list := e.call("GET", "/v1/api_keys", e.Test, nil).must(t, http.StatusOK)
	if strings.Contains(string(list.Raw), secret) || strings.Contains(string(list.Raw), e.Test) {
		t.Fatalf("a key list shows a secret: %s", list.Raw)
	}
	if n := len(ids(list)); n != 2 {
		t.Fatalf("test-mode keys listed: %d, want 2 (setup's and the new one)", n)
	}
	// A key of the other mode or workspace cannot be revoked from here.
	expectError(t, e.call("DELETE", "/v1/api_keys/"+ids(e.call("GET", "/v1/api_keys", e.Live, nil))[0], e.Test, nil), 404, "not_found", "id")

	revoked := e.call("DELETE", "/v1/api_keys/"+created["id"].(string), e.Test, nil).must(t, http.StatusOK).Body
	if revoked["revoked_at"] == nil {
		t.Fatalf("revoke: %v", revoked)
	}
	expectError(t, e.call("GET", "/v1/contacts", secret, nil), 401, "unauthorized", "")
	// Revoking again is harmless and keeps the first revocation time.
	again := e.call("DELETE", "/v1/api_keys/"+created["id"].(string), e.Test, nil).must(t, http.StatusOK).Body
	if again["revoked_at"] != revoked["revoked_at"] {
		t.Fatalf("revocation time moved: %v vs %v", again["revoked_at"], revoked["revoked_at"])
	}
}
