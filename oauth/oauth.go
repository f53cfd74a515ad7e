// Package oauth makes Relm its own OAuth 2.1 authorization server and protected resource for
// MCP connectors (Claude, ChatGPT, mcp-remote), per the MCP authorization specification:
// discovery documents (RFC 9728, RFC 8414), dynamic client registration (RFC 7591) and
// Client ID Metadata Documents, the token endpoint (authorization code with PKCE S256,
// refresh with rotation) and revocation (RFC 7009). The authorization endpoint's pages,
// which need a signed-in person, are the dashboard's; it checks requests and issues codes
// through CheckAuthorization and Approve. A grant is an API key of kind oauth (store), so
// everything that applies to a key applies to a connector. See docs/oauth.md.
package oauth

import (
	"encoding/json"
	"github.com/relmcrm/relm/metering"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/webhooks"
)

// Lifetimes of what the server issues.
const (
	CodeTTL         = 2 * time.Minute
	AccessTokenTTL  = time.Hour
	RefreshTokenTTL = 30 * 24 * time.Hour
	// RefreshGrace is how long a used refresh token still gets new tokens, for a client's
	// concurrent refreshes; reused later, it revokes the grant.
	RefreshGrace = 30 * time.Second
	// DocumentTTL is how long a fetched Client ID Metadata Document is trusted.
	DocumentTTL = time.Hour
	// DocumentFetchesPerHour caps fetches of metadata documents per host, so that the
	// authorization endpoint, which anyone may call, cannot make Relm fetch a host's pages
	// without end.
	DocumentFetchesPerHour = 60
)

// Scopes a grant can have, as the discovery documents advertise them.
var scopesSupported = []string{"read", "write"}

// Options are what the OAuth server needs.
type Options struct {
	Store *store.Store
	// PublicURL is the server's public URL without a trailing slash: the issuer, and with
	// /mcp the protected resource.
	PublicURL string
	Logger    *slog.Logger
	// Fetch fetches Client ID Metadata Documents; nil means the webhooks' SSRF-guarded
	// client (public addresses only).
	Fetch *webhooks.Client
	// RegistrationsPerHour caps client registrations per client address (0: 30).
	RegistrationsPerHour int
}

// Server serves the OAuth endpoints.
type Server struct {
	store     *store.Store
	issuer    string
	resource  string
	log       *slog.Logger
	fetch     *webhooks.Client
	registers *metering.Windows // client registrations per client address
	perHour   int
	fetches   *metering.Windows // metadata document fetches per host
}

// New returns the OAuth server for o.
func New(o Options) *Server {
	s := &Server{store: o.Store, issuer: o.PublicURL, resource: o.PublicURL + "/mcp", log: o.Logger, fetch: o.Fetch,
		registers: metering.NewWindows(time.Hour), perHour: o.RegistrationsPerHour,
		fetches: metering.NewWindows(time.Hour)}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.fetch == nil {
		s.fetch = webhooks.NewClient(webhooks.ClientOptions{Live: true, Timeout: 5 * time.Second})
	}
	if s.perHour <= 0 {
		s.perHour = 30
	}
	return s
}

// Issuer is the authorization server's identifier, sent as iss with every authorization
// response (RFC 9207).
func (s *Server) Issuer() string { return s.issuer }

// Resource is the protected resource (the /mcp URL) grants are bound to.
func (s *Server) Resource() string { return s.resource }

// ResourceMetadataURL is where the protected resource's metadata is, for the
// WWW-Authenticate challenge of a 401 from /mcp and /v1.
func (s *Server) ResourceMetadataURL() string {
	return s.issuer + "/.well-known/oauth-protected-resource/mcp"
}

// Register adds the protocol endpoints to mux.
func (s *Server) Register(mux *http.ServeMux) {
	mux.Handle("GET /.well-known/oauth-protected-resource", public(s.protectedResource))
	mux.Handle("GET /.well-known/oauth-protected-resource/mcp", public(s.protectedResource))
	mux.Handle("GET /.well-known/oauth-authorization-server", public(s.authorizationServer))
	mux.Handle("POST /oauth/register", public(s.register))
	mux.Handle("POST /oauth/token", public(s.token))
	mux.Handle("POST /oauth/revoke", public(s.revoke))
	for _, p := range []string{"/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp",
		"/.well-known/oauth-authorization-server", "/oauth/register", "/oauth/token", "/oauth/revoke"} {
		mux.Handle("OPTIONS "+p, public(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	}
}

// public lets browser-based clients (such as the MCP Inspector) call an endpoint from any
// origin: none of them reads cookies, so there is nothing for another origin to borrow.
func public(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Access-Control-Allow-Origin", "*")
		hd.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
		hd.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, MCP-Protocol-Version")
		h(w, r)
	})
}

// writeJSON answers status with v.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// protocolError is an OAuth error response (RFC 6749 §5.2, RFC 7591 §3.2.2).
type protocolError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// fail answers an OAuth error; nothing in it may be cached.
func fail(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, status, protocolError{code, description})
}

// scopeText is a grant's scopes as the token response's scope: "read write" for full access.
func scopeText(scopes string) string {
	if scopes == "" {
		return strings.Join(scopesSupported, " ")
	}
	return scopes
}
