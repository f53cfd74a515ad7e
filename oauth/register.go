package oauth

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/metering"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/relmcrm/relm/accounts"
	"github.com/relmcrm/relm/store"
)

// clientMetadata is what a client registers (RFC 7591 §2), and what a Client ID Metadata
// Document holds. Other fields are kept as sent.
type clientMetadata struct {
	ClientID                string   `json:"client_id,omitempty"`
	RedirectURIs            []string `json:"redirect_uris"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method,omitempty"`
	GrantTypes              []string `json:"grant_types,omitempty"`
	ResponseTypes           []string `json:"response_types,omitempty"`
	ClientName              string   `json:"client_name,omitempty"`
	ClientURI               string   `json:"client_uri,omitempty"`
	Scope                   string   `json:"scope,omitempty"`
}

// registration is what the answer to a registration (RFC 7591 §3.2.1) adds to the client's
// metadata.
type registration struct {
	ClientSecret          string `json:"client_secret,omitempty"`
	ClientIDIssuedAt      int64  `json:"client_id_issued_at"`
	ClientSecretExpiresAt int64  `json:"client_secret_expires_at"`
}

// maxRegistrationBytes bounds a registration request's body.
const maxRegistrationBytes = 16 << 10

// register is dynamic client registration: public clients (none) and confidential ones
// (client_secret_post or client_secret_basic, the default), each with https redirect URIs
// or http ones on a loopback host.
func (s *Server) register(w http.ResponseWriter, r *http.Request) {
	if !s.registers.Allow(metering.ClientHost(r), s.perHour) {
		w.Header().Set("Retry-After", "3600")
		fail(w, http.StatusTooManyRequests, "slow_down", fmt.Sprintf("Too many clients were registered from your address (at most %d an hour). Reuse a registered client, or wait an hour.", s.perHour))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRegistrationBytes+1))
	if err != nil || len(body) > maxRegistrationBytes {
		fail(w, http.StatusBadRequest, "invalid_client_metadata", fmt.Sprintf("Send the client metadata as a JSON object of at most %d bytes.", maxRegistrationBytes))
		return
	}
	var meta clientMetadata
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &meta); err != nil || json.Unmarshal(body, &raw) != nil {
		fail(w, http.StatusBadRequest, "invalid_client_metadata", "The body is not a JSON object of client metadata (RFC 7591): send {\"redirect_uris\": [\"https://…\"], …}.")
		return
	}
	if meta.TokenEndpointAuthMethod == "" {
		meta.TokenEndpointAuthMethod = "client_secret_basic" // RFC 7591 §2's default
	}
	if code, desc := checkMetadata(&meta); code != "" {
		fail(w, http.StatusBadRequest, code, desc)
		return
	}
	meta.ClientID = "rc_" + strings.ToLower(rand.Text())
	delete(raw, "client_secret")
	stored := merged(raw, meta) // as sent, with the defaults filled in
	c := store.OAuthClient{ID: meta.ClientID, AuthMethod: meta.TokenEndpointAuthMethod, Name: meta.ClientName,
		RedirectURIs: meta.RedirectURIs, Metadata: stored}
	var secret string
	if c.AuthMethod != "none" {
		secret = "rcs_" + accounts.NewToken()
		c.SecretHash = auth.HashKey(secret)
	}
	if err := s.store.RegisterOAuthClient(r.Context(), c); err != nil {
		s.log.ErrorContext(r.Context(), "oauth register", "err", err)
		fail(w, http.StatusInternalServerError, "server_error", "Could not register the client right now. Retry shortly.")
		return
	}
	var answer map[string]json.RawMessage
	_ = json.Unmarshal(stored, &answer)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, merged(answer, registration{ClientSecret: secret, ClientIDIssuedAt: time.Now().Unix()}))
}

// merged is the JSON object raw with the fields of v (a struct) set over it.
func merged(raw map[string]json.RawMessage, v any) json.RawMessage {
	out := map[string]json.RawMessage{}
	for k, x := range raw {
		out[k] = x
	}
	b, _ := json.Marshal(v)
	var fields map[string]json.RawMessage
	_ = json.Unmarshal(b, &fields)
	for k, x := range fields {
		out[k] = x
	}
	b, _ = json.Marshal(out)
	return b
}

// checkMetadata checks client metadata, filling in defaults; it returns an error code and
// description, or "" when the metadata is acceptable.
func checkMetadata(m *clientMetadata) (code, description string) {
	if len(m.RedirectURIs) == 0 || len(m.RedirectURIs) > 10 {
		return "invalid_redirect_uri", "Register 1 to 10 redirect_uris."
	}
	for _, u := range m.RedirectURIs {
		if err := CheckRedirectURI(u); err != nil {
			return "invalid_redirect_uri", err.Error()
		}
	}
	if !slices.Contains(authMethods, m.TokenEndpointAuthMethod) {
		return "invalid_client_metadata", "token_endpoint_auth_method must be one of " + strings.Join(authMethods, ", ") + "."
	}
	if len(m.GrantTypes) == 0 {
		m.GrantTypes = []string{"authorization_code"}
	}
	for _, g := range m.GrantTypes {
		if g != "authorization_code" && g != "refresh_token" {
			return "invalid_client_metadata", "grant_types may hold authorization_code and refresh_token only, not " + clip(g) + "."
		}
	}
	if len(m.ResponseTypes) == 0 {
		m.ResponseTypes = []string{"code"}
	}
	for _, t := range m.ResponseTypes {
		if t != "code" {
			return "invalid_client_metadata", "response_types may hold code only, not " + clip(t) + "."
		}
	}
	if len(m.ClientName) > 200 || strings.ContainsAny(m.ClientName, "\x00\r\n") {
		return "invalid_client_metadata", "client_name must be one line of at most 200 characters."
	}
	return "", ""
}

// CheckRedirectURI accepts an absolute https URL, or an http one on a loopback host
// (127.0.0.1, [::1], localhost), without a fragment or credentials; every other scheme
// (javascript:, data:, custom schemes) is refused.
func CheckRedirectURI(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil || len(raw) > 2000:
		return fmt.Errorf("redirect URI %q is not a URL of at most 2000 characters", clip(raw))
	case strings.Contains(raw, "#"):
		return fmt.Errorf("redirect URI %q has a fragment, which redirect URIs may not have", clip(raw))
	case u.Scheme != "https" && u.Scheme != "http":
		return fmt.Errorf("redirect URI %q: only https URLs (or http on 127.0.0.1, [::1] or localhost) are accepted", clip(raw))
	case u.Host == "" || u.Opaque != "":
		return fmt.Errorf("redirect URI %q has no host", clip(raw))
	case u.User != nil:
		return fmt.Errorf("redirect URI %q holds credentials", clip(raw))
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		return fmt.Errorf("redirect URI %q: http is accepted only on 127.0.0.1, [::1] or localhost; use https", clip(raw))
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// clip shortens what a client sent for an error message.
func clip(s string) string {
	if len(s) > 100 {
		return s[:100] + "…"
	}
	return s
}
