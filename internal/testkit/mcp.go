package testkit

import (
	"context"
	"net/http"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// DialMCP opens a real MCP client session over streamable HTTP to endpoint, its requests
// sent through transport (a Bearer, usually), asking for protocol ("" for the SDK's
// newest). It fails t if the session cannot be had, and closes it when t ends.
func DialMCP(t testing.TB, endpoint string, transport http.RoundTripper, protocol string) *mcp.ClientSession {
	t.Helper()
	client := mcp.NewClient(&mcp.Implementation{Name: "relm-test", Version: "1"}, nil)
	var opts *mcp.ClientSessionOptions
	if protocol != "" {
		opts = &mcp.ClientSessionOptions{ProtocolVersion: protocol}
	}
	cs, err := client.Connect(context.Background(), &mcp.StreamableClientTransport{
		Endpoint:   endpoint,
		HTTPClient: &http.Client{Transport: transport},
	}, opts)
	if err != nil {
		t.Fatalf("mcp connect to %s: %v", endpoint, err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}
