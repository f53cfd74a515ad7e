package auth

import "strings"

// OAuth tokens (docs/oauth.md) are opaque like API keys: a prefix and 32 base62 characters,
// stored only as their SHA-256 (HashKey). An access token is what a connector sends as its
// bearer credential; a refresh token only ever goes to the token endpoint.
const (
	AccessTokenPrefix  = "relm_at_"
	RefreshTokenPrefix = "relm_rt_"
)

// NewAccessToken makes a new random access token.
func NewAccessToken() string { return AccessTokenPrefix + randomBase62(secretLen) }

// NewRefreshToken makes a new random refresh token.
func NewRefreshToken() string { return RefreshTokenPrefix + randomBase62(secretLen) }

// IsAccessToken reports whether token is a well-formed access token.
func IsAccessToken(token string) bool { return wellFormed(token, AccessTokenPrefix) }

// IsRefreshToken reports whether token is a well-formed refresh token.
func IsRefreshToken(token string) bool { return wellFormed(token, RefreshTokenPrefix) }

func wellFormed(token, prefix string) bool {
	rest, ok := strings.CutPrefix(token, prefix)
	return ok && len(rest) == secretLen && strings.Trim(rest, secretAlphabet) == ""
}
