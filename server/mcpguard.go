package server

import (
	"fmt"
	"mime"
	"net"
	"net/http"
	"slices"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/relmcrm/relm/tools"
)

// guardMCP checks what must hold before an MCP request is authenticated, metered or seen by the SDK, answering with the
// JSON error body where the SDK would answer in plain text: POST only, JSON in, JSON or an
// event stream out, a supported protocol version, and the browser protections — the Host
// (DNS rebinding) and the Origin (cross-site requests), configurable for reverse proxies.
func guardMCP(allowedHosts, allowedOrigins []string) (func(http.Handler) http.Handler, error) {
	cop := http.NewCrossOriginProtection()
	for _, o := range allowedOrigins {
		if err := cop.AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("server: allowed origin %q: %w", o, err)
		}
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/mcp" {
				next.ServeHTTP(w, r)
				return
			}
			fail := func(code tools.Code, format string, args ...any) *tools.Error {
				e := tools.NewError(code, format, args...)
				writeErr(r.Context(), w, e)
				return e
			}
			if !hostAllowed(r, allowedHosts) {
				fail(tools.CodeForbidden, "Host %q is not allowed for /mcp. Set --allowed-hosts (RELM_ALLOWED_HOSTS) to the names clients use to reach this server.", r.Host)
				return
			}
			if err := cop.Check(r); err != nil {
				fail(tools.CodeForbidden, "Cross-origin requests from %q are not allowed. Add the origin to --allowed-origins (RELM_ALLOWED_ORIGINS) if it is yours.", r.Header.Get("Origin"))
				return
			}
			if r.Method != http.MethodPost {
				w.Header().Set("Allow", http.MethodPost)
				fail(tools.CodeMethodNotAllowed, "/mcp takes POST requests (streamable HTTP, stateless); %s is not supported.", r.Method)
				return
			}
			if ct := r.Header.Get("Content-Type"); ct != "application/json" && mediaType(ct) != "application/json" {
				fail(tools.CodeUnsupportedMedia, "Send JSON-RPC messages with Content-Type: application/json.")
				return
			}
			if accept := strings.Join(r.Header.Values("Accept"), ","); !strings.Contains(accept, "application/json") && !strings.Contains(accept, "*/*") ||
				!strings.Contains(accept, "text/event-stream") && !strings.Contains(accept, "*/*") {
				fail(tools.CodeNotAcceptable, "Send Accept: application/json, text/event-stream, as the MCP streamable HTTP transport requires.")
				return
			}
			if v := r.Header.Get("Mcp-Protocol-Version"); v != "" && !slices.Contains(mcp.SupportedProtocolVersions(), v) {
				e := tools.NewError(tools.CodeBadRequest, "MCP protocol version %q is not supported. Use one of the valid options.", v)
				e.Param, e.ValidOptions = "Mcp-Protocol-Version", mcp.SupportedProtocolVersions()
				writeErr(r.Context(), w, e)
				return
			}
			next.ServeHTTP(w, r)
		})
	}, nil
}

// mediaType is the media type of a Content-Type value, lower-cased without parameters, or
// "" when it does not parse.
func mediaType(ct string) string {
	mt, _, _ := mime.ParseMediaType(ct)
	return mt
}

// hostAllowed applies the DNS-rebinding rule: with allowed hosts configured the Host must
// be one of them; otherwise a server listening on loopback only answers loopback names.
func hostAllowed(r *http.Request, allowed []string) bool {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if len(allowed) > 0 {
		return slices.ContainsFunc(allowed, func(a string) bool { return strings.EqualFold(a, host) })
	}
	local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok || !isLoopback(local.String()) {
		return true
	}
	return isLoopback(host)
}

func isLoopback(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}
