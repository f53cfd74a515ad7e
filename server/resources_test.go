package server_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestRecordResources: every record kind (and pipelines) is a resource template whose
// reads return what the get tool returns, to the owner only.
func TestRecordResources(t *testing.T) {
	t.Parallel()
	e := setup(t)
	company := e.create("companies", e.Live, map[string]any{"name": "Res Inc"})
	contact := e.create("contacts", e.Live, map[string]any{"email": "res@example.com", "company_id": company})
	deal := e.create("deals", e.Live, map[string]any{"title": "Res deal"})
	activity := e.create("activities", e.Live, map[string]any{"type": "note", "deal_id": deal})
	cs := e.mcpSession(e.Live, "2025-06-18")
	templates, err := cs.ListResourceTemplates(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var uris []string
	for _, tpl := range templates.ResourceTemplates {
		uris = append(uris, tpl.URITemplate)
	}
	if want := []string{"relm://activities/{id}", "relm://companies/{id}", "relm://contacts/{id}", "relm://deals/{id}", "relm://pipelines/{pipeline}"}; !slices.Equal(uris, want) {
		t.Fatalf("templates %v, want %v", uris, want)
	}
	for uri, path := range map[string]string{
		"relm://contacts/" + contact: "/v1/contacts/" + contact, "relm://companies/" + company: "/v1/companies/" + company,
		"relm://deals/" + deal: "/v1/deals/" + deal, "relm://activities/" + activity: "/v1/activities/" + activity,
		"relm://pipelines/sales": "/v1/pipelines/sales",
	} {
		want := e.call("GET", path, e.Live, nil).must(t, http.StatusOK)
		res, err := cs.ReadResource(t.Context(), &mcp.ReadResourceParams{URI: uri})
		if err != nil {
			t.Fatalf("%s: %v", uri, err)
		}
		if len(res.Contents) != 1 || !jsonEqual(t, []byte(res.Contents[0].Text), want.Raw) || res.CacheScope != "private" {
			t.Fatalf("read %s: %+v", uri, res)
		}
		for _, key := range []string{e.Other, e.Test} {
			if strings.Contains(uri, "pipelines") {
				continue // every workspace has a sales pipeline of its own
			}
			if _, err := e.mcpSession(key, "2025-06-18").ReadResource(t.Context(), &mcp.ReadResourceParams{URI: uri}); err == nil {
				t.Fatalf("another tenant read %s", uri)
			}
		}
	}
}

// TestResourcesListRecent: resources/list is relm://schema and then the records changed
// lately, newest first, each once, without deleted ones, paged by the events; other tenants
// see none of them.
func TestResourcesListRecent(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ada := e.create("contacts", e.Live, map[string]any{"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"})
	gone := e.create("contacts", e.Live, map[string]any{"email": "gone@example.com"})
	deal := e.create("deals", e.Live, map[string]any{"title": "Big deal"})
	e.call("PATCH", "/v1/contacts/"+ada, e.Live, map[string]any{"phone": "+1 555"}).must(t, http.StatusOK)
	e.call("DELETE", "/v1/contacts/"+gone, e.Live, nil).must(t, http.StatusOK)
	list, err := e.mcpSession(e.Live, "").ListResources(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range list.Resources {
		got = append(got, r.URI+" "+r.Title)
	}
	want := []string{"relm://schema Workspace schema", "relm://contacts/" + ada + " Ada Lovelace", "relm://deals/" + deal + " Big deal"}
	if !slices.Equal(got, want) || list.NextCursor != "" {
		t.Fatalf("resources %q (next %q), want %q", got, list.NextCursor, want)
	}
	other, err := e.mcpSession(e.Other, "").ListResources(t.Context(), nil)
	if err != nil || len(other.Resources) != 1 {
		t.Fatalf("another workspace lists %v (%v)", other, err)
	}
	// Paging: more events than a page lists records over several pages, each page its own.
	for i := range 120 {
		e.call("PATCH", "/v1/deals/"+deal, e.Live, map[string]any{"title": "Big deal " + strings.Repeat("!", i%3)}).must(t, http.StatusOK)
	}
	first, err := e.mcpSession(e.Live, "").ListResources(t.Context(), nil)
	if err != nil || first.NextCursor == "" || len(first.Resources) != 2 {
		t.Fatalf("first page: %+v %v", first, err)
	}
	second, err := e.mcpSession(e.Live, "").ListResources(t.Context(), &mcp.ListResourcesParams{Cursor: first.NextCursor})
	if err != nil || len(second.Resources) == 0 || second.Resources[0].URI == "relm://schema" {
		t.Fatalf("second page: %+v %v", second, err)
	}
}
