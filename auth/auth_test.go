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
	f.Fuzz(func(t *testing.T, header string) {
		key, ok := ParseBearer(header)
		if ok && !(strings.HasPrefix(key, "sk_live_") || strings.HasPrefix(key, "sk_test_")) {
			t.Fatalf("accepted %q", key)
		}
	})
}
