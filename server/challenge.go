package server

import "strings"

// bearerChallenge is the WWW-Authenticate value of a 401 for a refused key (RFC 6750 §3).
// A request that sent no bearer credentials (no Authorization header, or another scheme)
// gets the realm alone, as §3.1 asks; one whose bearer key is malformed, unknown or
// revoked gets error="invalid_token" and an error_description saying how to authenticate,
// which clients such as mcp-remote show.
//
// With the OAuth server on, every challenge also names the protected resource's metadata
// (resourceMetadata, RFC 9728 §5.1), from which MCP clients discover how to sign in.
func bearerChallenge(header string, refused *keyRefusal, resourceMetadata string) string {
	realm := `Bearer realm="relm"`
	if resourceMetadata != "" {
		realm += `, resource_metadata="` + challengeText(resourceMetadata) + `"`
	}
	scheme, _, _ := strings.Cut(strings.TrimSpace(header), " ")
	if header == "" || !strings.EqualFold(scheme, "Bearer") {
		return realm
	}
	desc := refused.message
	if !strings.Contains(desc, "Authorization:") {
		desc += " Send a valid key as Authorization: Bearer sk_live_... (or sk_test_...)."
	}
	return realm + `, error="invalid_token", error_description="` + challengeText(desc) + `"`
}

// challengeText makes a message fit an RFC 6750 error_description: printable ASCII without
// '"' or '\'.
func challengeText(msg string) string {
	msg = strings.ReplaceAll(msg, "…", "...")
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return -1
		}
		return r
	}, msg)
}
