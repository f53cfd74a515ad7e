package server_test

import (
	"net/http"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

func TestContactResource(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c := e.call("POST", "/v1/contacts", e.Live, map[string]any{"email": "res@example.com"}).must(t, http.StatusCreated)
	uri := "relm://contacts/" + c.Body["id"].(string)
	c = e.call("GET", "/v1/contacts/"+c.Body["id"].(string), e.Live, nil).must(t, http.StatusOK)

	cs := e.mcpSession(e.Live, "2025-06-18")
	templates, err := cs.ListResourceTemplates(t.Context(), nil)
	if err != nil || len(templates.ResourceTemplates) == 0 || templates.ResourceTemplates[0].URITemplate != "relm://contacts/{id}" {
		t.Fatalf("templates: %+v %v", templates, err)
	}
	res, err := cs.ReadResource(t.Context(), &mcp.ReadResourceParams{URI: uri})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Contents) != 1 || !jsonEqual(t, []byte(res.Contents[0].Text), c.Raw) || res.CacheScope != "private" {
		t.Fatalf("read: %+v", res)
	}
	for _, key := range []string{e.Other, e.Test} {
		if _, err := e.mcpSession(key, "2025-06-18").ReadResource(t.Context(), &mcp.ReadResourceParams{URI: uri}); err == nil {
			t.Fatal("another tenant read the contact resource")
		}
	}
}
