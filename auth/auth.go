// Package auth defines who is calling (workspace, mode, key), Relm's API key format
// (`sk_live_…` / `sk_test_…` secrets with 190 bits of randomness, stored only as a hash) and
// its OAuth tokens' (tokens.go).
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"strings"
)

// Mode separates live data from test data inside a workspace.
type Mode string

// The two modes. A key belongs to exactly one.
const (
	Live Mode = "live"
	Test Mode = "test"
)

// ParseMode accepts "live" or "test".
func ParseMode(s string) (Mode, bool) {
	switch Mode(s) {
	case Live, Test:
		return Mode(s), true
	}
	return "", false
}

// Caller is the authenticated principal of a request: every tenant query is scoped by its
// workspace and mode.
type Caller struct {
	WorkspaceID string
	Mode        Mode
	KeyID       string
	// Parent is, for a sandbox's key, the workspace that made the sandbox; "" otherwise.
	Parent string
	// Scopes are what the key may do; Full (empty) for an unscoped key.
	Scopes Scopes
}

// RateTenant is the workspace and mode whose shared rate limit the caller's requests count
// toward: its own, or for a sandbox's key (always test mode) its parent's test mode.
func (c Caller) RateTenant() (workspace string, mode Mode) {
	if c.Parent != "" {
		return c.Parent, Test
	}
	return c.WorkspaceID, c.Mode
}

type callerKey struct{}

// WithCaller returns ctx carrying c.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the caller stored in ctx.
func CallerFrom(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}

const (
	secretAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	secretLen      = 32 // 32 base62 characters: log2(62^32) ≈ 190 bits
)

// NewKey is a freshly generated API key. Secret is shown to the user once and never stored.
type NewKey struct {
	Secret string
	Hash   []byte
	Prefix string // "sk_live_" or "sk_test_"
	Last4  string
}

// GenerateKey makes a new random key for mode.
func GenerateKey(mode Mode) NewKey {
	prefix := "sk_" + string(mode) + "_"
	secret := prefix + randomBase62(secretLen)
	return NewKey{Secret: secret, Hash: HashKey(secret), Prefix: prefix, Last4: secret[len(secret)-4:]}
}

// HashKey is how a secret is stored and looked up: API keys, OAuth tokens and the
// dashboard's links, sessions, invitations and claims. Each carries 128 or more random
// bits, so a plain SHA-256 suffices.
func HashKey(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// ParseBearer extracts a well-formed Relm API key or OAuth access token from an
// Authorization header value.
func ParseBearer(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	if IsAccessToken(token) {
		return token, true
	}
	rest, ok := strings.CutPrefix(token, "sk_live_")
	if !ok {
		rest, ok = strings.CutPrefix(token, "sk_test_")
	}
	if !ok || len(rest) != secretLen || strings.Trim(rest, secretAlphabet) != "" {
		return "", false
	}
	return token, true
}

func randomBase62(n int) string {
	b := make([]byte, n)
	buf := make([]byte, 1)
	for i := 0; i < n; {
		rand.Read(buf)
		// Rejection sampling keeps every character equally likely.
		if buf[0] >= 248 {
			continue
		}
		b[i] = secretAlphabet[buf[0]%62]
		i++
	}
	return string(b)
}
