package server

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// DefaultPublicURL is the public URL of a server listening on relm serve's default address.
const DefaultPublicURL = "http://127.0.0.1:8080"

// ParsePublicURL checks a public URL (an absolute http or https URL with a host and no
// query, fragment or user info) and returns it without a trailing slash, as the OpenAPI
// document's server: paths such as /v1/contacts are appended to it.
func ParsePublicURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", fmt.Errorf("public URL %q: want an absolute http:// or https:// URL such as https://crm.example.com, "+
			"with no query, fragment or credentials", s)
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

// ListenURL is the public URL of a server listening on addr (host:port) when no other is
// configured: an unspecified host (empty, 0.0.0.0 or ::) becomes localhost.
func ListenURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return DefaultPublicURL
	}
	switch host {
	case "", "0.0.0.0", "::":
		host = "localhost"
	}
	return (&url.URL{Scheme: "http", Host: net.JoinHostPort(host, port)}).String()
}
