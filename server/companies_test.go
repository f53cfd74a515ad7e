package server_test

import (
	"net/http"
	"testing"
)

func TestCompanyLifecycle(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for _, c := range []struct {
		body  map[string]any
		param string
	}{
		{map[string]any{}, "name"},
		{map[string]any{"name": ""}, "name"},
		{map[string]any{"name": "x", "domain": "https://acme.com/"}, "domain"},
		{map[string]any{"name": "x", "website": "acme.com"}, "website"},
	} {
		expectError(t, e.call("POST", "/v1/companies", e.Live, c.body), 422, "validation_failed", c.param)
	}
	if n := len(ids(e.call("GET", "/v1/companies", e.Live, nil).must(t, 200))); n != 0 {
		t.Fatalf("%d companies written by bad requests", n)
	}
	c := e.call("POST", "/v1/companies", e.Live, map[string]any{"name": "Acme", "domain": "acme.com", "metadata": map[string]any{"tier": 1}}).must(t, 201).Body
	id := c["id"].(string)
	if c["object"] != "company" || c["domain"] != "acme.com" {
		t.Fatalf("company: %v", c)
	}
	expectError(t, e.call("PATCH", "/v1/companies/"+id, e.Live, map[string]any{"name": nil}), 422, "validation_failed", "name")
	up := e.call("PATCH", "/v1/companies/"+id, e.Live, map[string]any{"domain": nil, "name": "Acme Corp"}).must(t, 200).Body
	if up["domain"] != nil || up["name"] != "Acme Corp" || up["metadata"].(map[string]any)["tier"] != 1.0 {
		t.Fatalf("update: %v", up)
	}
	cs := e.mcpSession(e.Live, "")
	got := decode(t, text(t, tool(t, cs, "get_company", map[string]any{"id": id})))
	if got["name"] != "Acme Corp" {
		t.Fatalf("MCP get_company: %v", got)
	}
	e.call("DELETE", "/v1/companies/"+id, e.Live, nil).must(t, http.StatusOK)
	e.call("GET", "/v1/companies/"+id, e.Live, nil).must(t, http.StatusNotFound)
}
