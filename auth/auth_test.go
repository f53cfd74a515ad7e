package auth

import (
	"strings"
	"testing"
)

func TestGenerateKey(t *testing.T) {
	seen := map[string]bool{}
	for _, mode := range []Mode{Live, Test} {
		for range 100 {
			k := GenerateKey(mode)
			if !strings.HasPrefix(k.Secret, "sk_"+string(mode)+"_") || seen[k.Secret] {
				t.Fatalf("bad or repeated key %q", k.Secret)
			}
			seen[k.Secret] = true
			if got, ok := ParseBearer("Bearer " + k.Secret); !ok || got != k.Secret {
				t.Fatalf("generated key does not parse: %q", k.Secret)
			}
			if k.Last4 != k.Secret[len(k.Secret)-4:] || string(k.Hash) == k.Secret {
				t.Fatal("key metadata wrong")
			}
		}
	}
}

func FuzzParseBearer(f *testing.F) {
	f.Add("Bearer " + GenerateKey(Live).Secret)
	f.Add("bearer sk_test_")
	f.Add("Basic abc")
	f.Add("Bearer " + NewAccessToken())
	f.Fuzz(func(t *testing.T, header string) {
		key, ok := ParseBearer(header)
		if ok && !(strings.HasPrefix(key, "sk_live_") || strings.HasPrefix(key, "sk_test_") || IsAccessToken(key)) {
			t.Fatalf("accepted %q", key)
		}
	})
}

func TestOAuthTokens(t *testing.T) {
	at, rt := NewAccessToken(), NewRefreshToken()
	if got, ok := ParseBearer("Bearer " + at); !ok || got != at || !IsAccessToken(at) || IsRefreshToken(at) {
		t.Fatalf("access token %q does not parse as one", at)
	}
	// A refresh token is never a bearer credential.
	if _, ok := ParseBearer("Bearer " + rt); ok || !IsRefreshToken(rt) || IsAccessToken(rt) {
		t.Fatalf("refresh token %q parses as a bearer credential", rt)
	}
	for _, bad := range []string{at[:len(at)-1], at + "x", "relm_at_" + strings.Repeat("-", 32)} {
		if _, ok := ParseBearer("Bearer " + bad); ok {
			t.Errorf("malformed token %q accepted", bad)
		}
	}
}
