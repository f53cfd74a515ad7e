package server_test

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/relmcrm/relm/auth"
)

func TestAuthRequired(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ws, _, err := e.Admin.EnsureWorkspace(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	revokedID, revoked, err := e.Admin.CreateAPIKey(context.Background(), ws.ID, auth.Live)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Admin.RevokeAPIKey(context.Background(), revokedID); err != nil {
		t.Fatal(err)
	}
	unknown := auth.GenerateKey(auth.Live).Secret
	headers := map[string]string{
		"missing":        "",
		"not bearer":     "Basic " + e.Live,
		"malformed":      "Bearer sk_live_short",
		"wrong prefix":   "Bearer pk_live_" + strings.Repeat("a", 32),
		"unknown key":    "Bearer " + unknown,
		"revoked key":    "Bearer " + revoked,
		"bearer no key":  "Bearer ",
		"sql in the key": "Bearer sk_live_' OR 1=1 --aaaaaaaaaaaaaaaaaaaaa",
	}
	mcpInit := []byte(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`)
	for name, h := range headers {
		for _, target := range []struct{ method, path string }{{"GET", "/v1/contacts"}, {"POST", "/v1/contacts"}, {"POST", "/mcp"}} {
			req, _ := http.NewRequest(target.method, e.URL+target.path, bytes.NewReader(mcpInit))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			if h != "" {
				req.Header.Set("Authorization", h)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusUnauthorized || res.Header.Get("Content-Type") != "application/json" {
				t.Errorf("%s on %s %s: %d %v", name, target.method, target.path, res.StatusCode, res.Header)
			}
			checkChallenge(t, name+" on "+target.method+" "+target.path, res.Header.Get("WWW-Authenticate"), name == "missing" || name == "not bearer")
		}
	}
	// The revoked key's tenant saw nothing written.
	if n := countContacts(e, e.Live); n != 0 {
		t.Fatalf("contacts = %d", n)
	}
}

// checkChallenge asserts the WWW-Authenticate of a 401 (RFC 6750 §3): the realm alone for a
// request without bearer credentials; for a bad bearer key, error="invalid_token" and an
// error_description (a quoted string of printable ASCII without '"' or '\') saying how to
// authenticate.
func checkChallenge(t *testing.T, what, got string, noCredentials bool) {
	t.Helper()
	if noCredentials {
		if got != `Bearer realm="relm"` {
			t.Errorf("%s: WWW-Authenticate %q, want the realm alone", what, got)
		}
		return
	}
	m := regexp.MustCompile(`^Bearer realm="relm", error="invalid_token", error_description="([ !#-\[\]-~]*)"$`).FindStringSubmatch(got)
	if m == nil || !strings.Contains(m[1], "Authorization: Bearer") {
		t.Errorf("%s: WWW-Authenticate %q, want error=\"invalid_token\" and a description of how to authenticate", what, got)
	}
}

// TestIsolation: another workspace and the other mode see nothing of a tenant's records,
// on both surfaces, and a foreign id answers exactly like a missing one.
func TestIsolation(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c := e.call("POST", "/v1/contacts", e.Live, map[string]any{"email": "iso@example.com", "first_name": "Iso"}).must(t, http.StatusCreated).Body
	id := c["id"].(string)
	missing := "con_aaaaaaaaaaaaaaaaaaaaaaaaaa"
	for name, key := range map[string]string{"other workspace": e.Other, "test mode": e.Test} {
		t.Run(name, func(t *testing.T) {
			e := e.with(t)
			for _, probe := range []struct {
				method string
				body   any
			}{{"GET", nil}, {"PATCH", map[string]any{"first_name": "Hijack"}}, {"DELETE", nil}} {
				foreign := e.call(probe.method, "/v1/contacts/"+id, key, probe.body).must(t, http.StatusNotFound)
				absent := e.call(probe.method, "/v1/contacts/"+missing, key, probe.body).must(t, http.StatusNotFound)
				if strings.ReplaceAll(foreign.Body["error"].(map[string]any)["message"].(string), id, missing) != absent.Body["error"].(map[string]any)["message"] {
					t.Fatalf("foreign and missing ids answer differently: %s vs %s", foreign.Raw, absent.Raw)
				}
			}
			if n := countContacts(e, key); n != 0 {
				t.Fatalf("list shows %d foreign contacts", n)
			}
			if data := e.call("GET", "/v1/contacts?email=iso@example.com", key, nil).must(t, http.StatusOK).Body["data"].([]any); len(data) != 0 {
				t.Fatalf("filter leaks: %v", data)
			}
			cs := e.mcpSession(key, "")
			for _, call := range []struct {
				tool string
				args map[string]any
			}{
				{"get_contact", map[string]any{"id": id}},
				{"update_contact", map[string]any{"id": id, "first_name": "Hijack"}},
				{"delete_contact", map[string]any{"id": id}},
			} {
				res := tool(t, cs, call.tool, call.args)
				if !res.IsError || decode(t, text(t, res))["error"].(map[string]any)["code"] != "not_found" {
					t.Fatalf("%s: %s", call.tool, text(t, res))
				}
			}
			list := decode(t, text(t, tool(t, cs, "list_contacts", map[string]any{})))
			if len(list["data"].([]any)) != 0 {
				t.Fatalf("MCP list leaks: %v", list)
			}
		})
	}
	// The record is untouched.
	got := e.call("GET", "/v1/contacts/"+id, e.Live, nil).must(t, http.StatusOK).Body
	if got["first_name"] != "Iso" {
		t.Fatalf("changed by another tenant: %v", got)
	}
}
