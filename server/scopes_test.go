package server_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestScopedKeys: a read-only key reads and lists only read-only tools, and every write is
// 403 insufficient_scope on both surfaces with nothing written; a key scoped per toolset
// writes there only; no key makes a key with more access than its own; keys made before
// scopes keep full access.
func TestScopedKeys(t *testing.T) {
	t.Parallel()
	e := setup(t)
	contact := e.create("contacts", e.Live, map[string]any{"email": "ada@example.com"})
	ro := e.call("POST", "/v1/api_keys", e.Live, map[string]any{"scopes": []string{"read"}}).must(t, http.StatusCreated).Body
	if toJSON(ro["scopes"]) != `["read"]` {
		t.Fatalf("scopes %v", ro["scopes"])
	}
	reader := ro["secret"].(string)
	e.call("GET", "/v1/contacts/"+contact, reader, nil).must(t, 200)
	e.call("GET", "/v1/deals", reader, nil).must(t, 200)
	body := expectError(t, e.call("POST", "/v1/contacts", reader, map[string]any{"email": "x@example.com"}), 403, "insufficient_scope", "scopes")
	if !strings.Contains(body["message"].(string), "contacts:write") {
		t.Fatalf("message: %v", body)
	}
	expectError(t, e.call("DELETE", "/v1/contacts/"+contact, reader, nil), 403, "insufficient_scope", "scopes")
	expectToolError(t, e.rpc(reader, toolCall("update_contact", `{"id":"`+contact+`","first_name":"X"}`)), "insufficient_scope")
	if n := e.count("contacts", e.Live); n != 1 {
		t.Fatalf("%d contacts after refused writes", n)
	}
	list, err := e.mcpSession(reader, "").ListTools(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tl := range list.Tools {
		if !tl.Annotations.ReadOnlyHint {
			t.Errorf("a read-only key lists %s", tl.Name)
		}
	}
	if len(list.Tools) < 20 {
		t.Fatalf("a read-only key lists %d tools", len(list.Tools))
	}

	// Per toolset: contacts:write (reads included) and deals:read.
	scoped := e.call("POST", "/v1/api_keys", e.Live, map[string]any{"scopes": []string{"deals:read", "contacts:write"}}).must(t, http.StatusCreated).Body
	if toJSON(scoped["scopes"]) != `["contacts:write","deals:read"]` {
		t.Fatalf("scopes %v", scoped["scopes"])
	}
	key := scoped["secret"].(string)
	e.create("contacts", key, map[string]any{"email": "grace@example.com"})
	e.call("GET", "/v1/deals", key, nil).must(t, 200)
	expectError(t, e.call("POST", "/v1/deals", key, map[string]any{"title": "x"}), 403, "insufficient_scope", "scopes")
	expectError(t, e.call("GET", "/v1/webhooks", key, nil), 403, "insufficient_scope", "scopes")
	names := []string{}
	tools, _ := e.mcpSession(key, "").ListTools(t.Context(), nil)
	for _, tl := range tools.Tools {
		names = append(names, tl.Name)
	}
	if !slices.Contains(names, "create_contact") || !slices.Contains(names, "list_deals") || slices.Contains(names, "create_deal") || slices.Contains(names, "list_webhooks") {
		t.Fatalf("a contacts:write deals:read key lists %v", names)
	}

	// No escalation: neither key may make a key with more access; both may make narrower ones.
	expectError(t, e.call("POST", "/v1/api_keys", reader, map[string]any{"scopes": []string{"write"}}), 403, "insufficient_scope", "scopes")
	expectError(t, e.call("POST", "/v1/api_keys", key, nil), 403, "insufficient_scope", "scopes") // api_keys:write it has not
	// Bad grants.
	expectError(t, e.call("POST", "/v1/api_keys", e.Live, map[string]any{"scopes": []string{"contact:write"}}), 422, "validation_failed", "scopes[0]")
	expectError(t, e.call("POST", "/v1/api_keys", e.Live, map[string]any{"scopes": []string{"contacts:admin"}}), 422, "validation_failed", "")
	// Old keys list with full access (null), and the listing shows the scoped ones.
	var keys []any
	for _, k := range e.call("GET", "/v1/api_keys", e.Live, nil).must(t, 200).Body["data"].([]any) {
		keys = append(keys, k.(map[string]any)["scopes"])
	}
	if toJSON(keys) != `[["contacts:write","deals:read"],["read"],null]` {
		t.Fatalf("scopes of the keys: %s", toJSON(keys))
	}
}
